"""A submission the grader could not grade stays in sight: in the gradebook, in formgrader, in
its feedback, with what happened.

When nbgrader's autograding of a submission fails (the kernel died: ``os._exit``, a signal, a
crash in compiled code; a limit of the box stopped it; the notebook could not be run at all),
nbgrader removes what it had written of ``autograded/``: formgrader then lists the submission
as never autograded, none of its notebooks is among the ones to grade by hand, and
``generate_feedback`` makes no page for it. :func:`record` grades it again with nbgrader's own
pipeline minus the kernel: :class:`NotRun` takes the place of the ``Execute`` preprocessor and
gives every test cell an error that says why it did not run, so nbgrader's sanitizing (the
instructor's test cells restored), its autograded notebook, its grades (0 for every test) and
its late penalty are the usual ones. The submission's notebooks are then flagged in the
gradebook and their tests marked for a manual grade: formgrader lists it with the others, where
the instructor can read the student's answers and give points by hand.

A submission with no notebook nbgrader can read (none could be staged, or its JSON is broken)
is recorded in the gradebook directly, as nbgrader records a missing notebook (every grade 0),
flagged too.
"""

import warnings

import nbformat
from nbgrader import utils
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Unicode
from traitlets.utils.importstring import import_item

NOTE_KEY = "cvlib_not_graded"

__all__ = ["NOTE_KEY", "NotRun", "flag", "reason", "record_in_gradebook", "settings"]


def reason(outcome):
    """What happened to a submission, in words for the student (and the instructor)."""
    parts = []
    limits = [f"{e['limit']} limit: {e['detail']}" for e in outcome.limits]
    if limits:
        parts.append("The grading sandbox stopped part of this submission: " + "; ".join(limits))
    if outcome.deaths:
        parts.append(
            "The Python kernel running this notebook stopped ("
            + "; ".join(outcome.deaths)
            + "): something the code ran ended the kernel's process (os._exit, a signal, a "
            "crash in compiled code), so the tests could not run"
        )
    if outcome.status == "refused":
        parts.append(
            "No notebook of this submission could enter the grader: "
            + "; ".join(outcome.refused or ["?"])
        )
    if outcome.status == "failed" and not parts:
        parts.append(
            "The grader could not run this notebook to the end"
            + (f" ({outcome.message})" if outcome.message else "")
        )
    return ". ".join(parts) + "." if parts else ""


class NotRun(NbGraderPreprocessor):
    """Instead of running the notebook: a note opening it, and in every test cell an error
    output ``NotGraded: <reason>`` (so nbgrader scores each test 0)."""

    reason = Unicode("", help="What happened to the submission, for the student.").tag(config=True)

    def preprocess(self, nb, resources):
        text = (
            f"**Not graded.** {self.reason} Each test scores 0 for now; your instructor has "
            "been told and can grade it by hand."
        )
        note = nbformat.v4.new_markdown_cell(text)
        note.metadata[NOTE_KEY] = True
        nb.cells = [note, *(c for c in nb.cells if not c.metadata.get(NOTE_KEY))]
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.outputs = []
            if utils.is_grade(cell) and not utils.is_solution(cell):
                cell.outputs = [
                    nbformat.v4.new_output(
                        "error",
                        ename="NotGraded",
                        evalue=self.reason,
                        traceback=[f"NotGraded: {self.reason}"],
                    )
                ]
        return cell, resources


def settings(config, text):
    """Set ``config`` (a traitlets Config) so that nbgrader's autograding runs :class:`NotRun`
    with ``text`` where it would run the notebook."""
    config.NotRun.reason = text
    steps = config.Autograde.get("autograde_preprocessors") or (
        Autograde.class_traits()["autograde_preprocessors"].default()
    )
    config.Autograde.autograde_preprocessors = [
        NotRun if _runs_kernel(step) else step for step in steps
    ]
    return config


def _runs_kernel(step):
    """Whether an autograde step (a class, or its dotted name as config files give it) is
    nbgrader's ``Execute`` or one of its kind (the course's ``TrustedExecute``)."""
    if isinstance(step, str):
        step = import_item(step)
    return isinstance(step, type) and issubclass(step, Execute)


def _mark(gb, submission):
    for notebook in submission.notebooks:
        notebook.flagged = True
        for grade in notebook.grades:
            if grade.cell.cell_type == "code" and grade.auto_score is not None:
                grade.needs_manual_grade = True  # the tests: a person decides
    gb.db.commit()


def flag(db_url, course_id, assignment, student):
    """Flag every notebook of the submission and mark its tests for a manual grade; return
    the names of the assignment's notebooks."""
    from nbgrader.api import Gradebook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbgrader's SQLAlchemy warnings
        with Gradebook(db_url, course_id) as gb:
            submission = gb.find_submission(assignment, student)
            _mark(gb, submission)
            return sorted(nb.name for nb in submission.notebooks)


def record_in_gradebook(db_url, course_id, assignment, student, timestamp=None):
    """Record the submission without any notebook: every grade 0 (nbgrader's way with a missing
    notebook), flagged; return the names of the assignment's notebooks."""
    from nbgrader.api import Gradebook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Gradebook(db_url, course_id) as gb:
            gb.update_or_create_student(student)
            extra = {"timestamp": timestamp} if timestamp else {}
            submission = gb.update_or_create_submission(assignment, student, **extra)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score = 0
            _mark(gb, submission)
            return sorted(nb.name for nb in submission.notebooks)
