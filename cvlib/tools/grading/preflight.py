"""Before a class is graded: the instructor's solution, graded the way the class will be.

:func:`preflight` builds a scratch copy of the course (its configuration, the assignment's
source, a gradebook of its own), submits the solution as a student and grades it with
:func:`cvlib.tools.grading.grade_submission.grade_one`: same box, same limits, same environment as
every student's submission. Every automatically graded test cell must earn its points; if one
does not, :class:`PreflightFailed` says which and why (the first line of its error), with a
hint for the usual causes, and the class grader stops before it writes any student's grade. So
a grading machine on which the box cannot import the course library, or a source notebook
whose solution fails its own hidden tests, costs the class nothing.
"""

import shutil
import tempfile
from pathlib import Path

import nbformat

from .demo import student_notebook
from .grade_submission import grade_one
from .nbgrader_driver import nbgrader, nbgrader_api
from .scores import read_scores, sqlite_url

STUDENT = "preflight-solution"
HINTS = (
    (
        "No module named 'cvlib'",
        "the course library cannot be imported in the grading box: install it into the "
        "environment the grader runs from (`pip install -e /path/to/the/course` or the course's "
        "wheel), not only into the course folder",
    ),
    (
        "could not start",
        "the grading box could not start a second kernel: check `python -m "
        "cvlib.tools.grading.sandbox check` and the box's memory and process limits",
    ),
    (
        "ran longer than",
        "the solution ran out of time: raise the cell time limit (c.Execute.timeout) or the "
        "box's --timeout/--cpu, or grade on a less busy machine",
    ),
)


class PreflightFailed(ValueError):
    """The instructor's solution did not earn every automatic point in the grading box."""


def _hint(text):
    return next((hint for needle, hint in HINTS if needle in text), "")


def test_cells(notebook):
    """``{grade_id: points}`` of the automatically graded cells of a source notebook."""
    cells = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            cells[meta["grade_id"]] = float(meta.get("points", 0))
    return cells


def _errors(notebook_path):
    """``{grade_id: first line of the error}`` of the test cells of a graded notebook."""
    if not notebook_path.exists():
        return {}
    notebook = nbformat.read(notebook_path, as_version=4)
    errors = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.output_type == "error" and meta.get("grade_id"):
                first = f"{output.ename}: {output.evalue}".splitlines()[0][:300]
                errors.setdefault(meta["grade_id"], first)
    return errors


def _scratch_course(course, source, scratch):
    config = Path(course) / "nbgrader_config.py"
    lines = ["c = get_config()  # noqa: F821"]
    if config.exists():
        lines.append(f"load_subconfig({str(config)!r})  # noqa: F821")
    lines += [
        f"c.CourseDirectory.root = {str(scratch)!r}",
        f"c.CourseDirectory.source_directory = {str(source)!r}",
        "c.CourseDirectory.release_directory = 'release'",
        "c.CourseDirectory.submitted_directory = 'submitted'",
        "c.CourseDirectory.autograded_directory = 'autograded'",
        "c.CourseDirectory.feedback_directory = 'feedback'",
        f"c.CourseDirectory.db_url = 'sqlite:///{scratch}/gradebook.db'",
    ]
    (scratch / "nbgrader_config.py").write_text("\n".join(lines) + "\n")


def preflight(course, assignment, limits=None, sandbox=True):
    """Grade the solution of ``assignment`` as the class will be graded; return the seconds it
    took, or raise :class:`PreflightFailed` naming the cells that lost points and why."""
    course = Path(course).resolve()
    coursedir = nbgrader_api(course, sandbox=False).coursedir
    source = Path(coursedir.format_path(coursedir.source_directory, ".", ".")).resolve()
    paths = sorted((source / assignment).glob("*.ipynb"))
    sources = {p.name: nbformat.read(p, as_version=4) for p in paths}
    if not sources:
        raise PreflightFailed(
            f"no source notebook of {assignment!r} in {source / assignment}: the class grader "
            "checks the solution before it grades anyone"
        )
    scratch = Path(tempfile.mkdtemp(prefix="cvlib-preflight-"))
    try:
        _scratch_course(course, source, scratch)
        nbgrader(scratch, "generate_assignment", assignment, "--force")
        folder = scratch / "submitted" / STUDENT / assignment
        folder.mkdir(parents=True)
        for name, source_nb in sources.items():
            release_nb = nbformat.read(scratch / "release" / assignment / name, as_version=4)
            nbformat.write(student_notebook(release_nb, source_nb), folder / name)
        (folder / "timestamp.txt").write_text("2025-01-01 12:00:00.000000 UTC\n")
        outcome = grade_one(scratch, assignment, STUDENT, limits=limits, sandbox=sandbox)
        problems = _problems(scratch, assignment, sources, outcome)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if problems:
        raise PreflightFailed(
            f"the instructor's solution of {assignment!r}, graded in the grading box as a "
            "student's would be, did not earn every automatic point, so no student was "
            "graded:\n" + "\n".join(problems)
        )
    return outcome.seconds


def _problems(scratch, assignment, sources, outcome):
    if outcome.status != "graded":
        text = outcome.message
        hint = _hint(text)
        return [f"  grading failed: {text}" + (f"\n  -> {hint}" if hint else "")]
    scores = read_scores(sqlite_url(scratch), assignment)
    _, _, grades = scores.get(STUDENT, (None, None, {}))
    problems = []
    for name, source_nb in sources.items():
        errors = _errors(scratch / "autograded" / STUDENT / assignment / name)
        for grade_id, points in test_cells(source_nb).items():
            got = grades.get(grade_id)
            if got is None or got < points:
                error = errors.get(grade_id, "no error shown")
                hint = _hint(error)
                problems.append(
                    f"  {name} {grade_id}: {got or 0:g} of {points:g} points ({error})"
                    + (f"\n  -> {hint}" if hint else "")
                )
    return problems
