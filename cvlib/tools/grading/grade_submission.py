"""Grade one submission: the task that every grading worker runs (see ``autograde_class``).

:func:`grade_one` runs nbgrader's autograder on one student (``NbGraderAPI.autograde``, what
``nbgrader autograde ASSIGNMENT --student S --force`` does) inside the worker process, so that a
worker pays nbgrader's start-up once, not once per submission; the kernel is boxed by
:mod:`.sandbox` (a private kernel spec put on ``JUPYTER_PATH`` for the call), whose
wall-clock limit bounds the whole submission. A process grades one submission at a time (a
lock: the call sets environment variables), so give workers one thread each and several
processes (``dask worker --nthreads 1 --nworkers N``). It never raises: whatever happens becomes
an :class:`Outcome`. The box dies with the worker that started it (bubblewrap's
``--die-with-parent``), so a worker that is killed leaves nothing running that could still write
to the gradebook when the engine grades that submission again elsewhere.

When a limit stopped something, the student is told: a note opens the autograded notebook (and
so the feedback ``nbgrader generate_feedback`` makes from it). A submission that could not be
graded, whatever the reason (a limit, a kernel that died, a notebook that would not run, nothing
that could enter the box), is kept in sight by :mod:`.not_graded`: in the gradebook
and formgrader with every test at 0 and its notebooks flagged, in an autograded notebook that
says why; and a page ``feedback/<student>/<assignment>/<notebook>.html`` tells the student
what happened at once.
"""

import html
import json
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cvlib.tools.grading import not_graded
from cvlib.tools.grading.clean_submission import stage
from cvlib.tools.grading.nbgrader_driver import environment, nbgrader_api, search_path
from cvlib.tools.grading.sandbox import Limits, write_kernel_spec
from cvlib.tools.grading.trusted_execute import FLAGS_ENV

NOTE_KEY = "cvlib_sandbox_note"
STAGED = ".cvlib_staged"  # the clean copies of submissions nbgrader grades (clean_submission)
_ONE_AT_A_TIME = threading.Lock()


class Refused(Exception):
    """Nothing of a submission may enter the box (its notebook is a link, ...)."""


@dataclass
class Outcome:
    """What happened to one submission."""

    student: str
    status: str  # "graded", "failed" (nbgrader reported an error), "timeout" or "refused"
    seconds: float
    message: str = ""
    score: float | None = None
    max_score: float | None = None
    grades: dict = field(default_factory=dict)
    limits: list = field(default_factory=list)  # events: {"limit": ..., "detail": ...}
    deaths: list = field(default_factory=list)  # how the kernel died, when no limit killed it
    refused: list = field(default_factory=list)  # what of the submission was kept out of the box
    flags: list = field(default_factory=list)  # what a person should look at
    worker: str = ""

    @property
    def stopped_by(self):
        """The limits that stopped part or all of the submission, in order, e.g. "memory"."""
        return sorted({event["limit"] for event in self.limits})


_RAISED = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit): ")


def _last_error(text):
    """The exception nbgrader's log ends with (``nbformat.reader.NotJSONError: ...``), else its
    last line about an error."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    raised = [line for line in lines if _RAISED.match(line) and "NbGraderException" not in line]
    errors = [line for line in lines if "error" in line.lower() and "Please see" not in line]
    return (raised or errors or lines or [""])[-1][:300]


def grade_one(course, assignment, student, db_url=None, limits=None, sandbox=True):
    """Autograde one student in this process; return an :class:`Outcome` (never raises).

    ``limits`` (:class:`~cvlib.tools.grading.sandbox.Limits`) box the kernel; its ``wall_seconds``
    bound the submission. Unboxed (``sandbox=False``) only nbgrader's per-cell timeout holds.
    """
    limits = limits or Limits()
    scratch = Path(tempfile.mkdtemp(prefix="cvlib-grade-"))
    report = scratch / "limits.jsonl"
    env = {
        "CVLIB_SANDBOX_REPORT": str(report),
        FLAGS_ENV: str(scratch / "flags.jsonl"),
        "PATH": search_path(),  # nbgrader runs `alembic` from PATH: this environment's
    }
    if sandbox:
        write_kernel_spec(scratch, limits)
        env["JUPYTER_PATH"] = os.pathsep.join(
            filter(None, [str(scratch), os.environ.get("JUPYTER_PATH")])
        )
    with _ONE_AT_A_TIME:
        start = time.perf_counter()
        staged = Path(course) / STAGED / student
        refused = []
        try:
            try:
                shutil.rmtree(staged, ignore_errors=True)
                refused = stage(
                    Path(course) / "submitted" / student / assignment,
                    staged / assignment,
                    assignment,
                )
                if refused and not any((staged / assignment).glob("*.ipynb")):
                    raise Refused("no notebook of the assignment could be graded")
                with environment(**env), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # nbgrader's SQLAlchemy warnings
                    result = nbgrader_api(course, db_url, sandbox, STAGED).autograde(
                        assignment, student, force=True, create=True
                    )
                status = "graded" if result["success"] else "failed"
                text = result.get("log", "") + "\n" + (result.get("error") or "")
                message = "" if status == "graded" else _last_error(text)
            except Refused as error:  # nothing of it may enter the box: nothing to grade
                status, message = "refused", str(error)
            except Exception as error:  # a broken course folder or config: this submission fails
                status, message = "failed", f"{type(error).__name__}: {error}"[:300]
            finally:
                flags = disagreements(staged / assignment, scratch / "flags.jsonl")
            seconds = time.perf_counter() - start
            events = _read_events(report)
            outcome = _outcome(student, status, seconds, message, events, refused)
            outcome.flags = flags
            notebooks = None
            if status != "graded":
                with environment(PATH=env["PATH"]):
                    notebooks = keep_in_sight(course, assignment, outcome, db_url, staged)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
            shutil.rmtree(scratch, ignore_errors=True)
    if refused:
        note_refused(Path(course), assignment, outcome)
    if outcome.limits or outcome.deaths or status != "graded":
        tell_student(Path(course), assignment, outcome, notebooks)
    return outcome


def _outcome(student, status, seconds, message, events, refused):
    deaths = [e["kernel"] for e in events if "kernel" in e]
    limits = [e for e in events if "limit" in e]
    if deaths and status != "graded":
        message = f"{deaths[0]}; {message}"
    if any(e["limit"] == "wall clock" for e in limits) and status != "graded":
        status = "timeout"
    outcome = Outcome(student, status, seconds, message, limits=limits, deaths=deaths)
    outcome.worker, outcome.refused = socket.gethostname(), refused
    if refused:
        outcome.message = "; ".join(filter(None, [message, "refused: " + "; ".join(refused)]))
    if limits:
        outcome.message = "; ".join(filter(None, [outcome.message, *limit_lines(limits)]))
    return outcome


def keep_in_sight(course, assignment, outcome, db_url, staged):
    """Record a submission that was not graded (:mod:`cvlib.tools.grading.not_graded`): nbgrader's
    autograding again without a kernel, every test 0 with the reason, or straight into the
    gradebook when nbgrader cannot read its notebooks; then flagged. Returns the names of the
    assignment's notebooks (None if even that failed: the summary says why)."""
    why, course = not_graded.reason(outcome), Path(course)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            api = nbgrader_api(course, db_url, False, STAGED, not_run=why)
            url, course_id = api.coursedir.db_url, api.coursedir.course_id
            if any((staged / assignment).glob("*.ipynb")):
                result = api.autograde(assignment, outcome.student, force=True, create=True)
                if result["success"]:
                    return not_graded.flag(url, course_id, assignment, outcome.student)
        stamp = staged / assignment / "timestamp.txt"  # a regular file: stage() checked it
        timestamp = api.coursedir.get_existing_timestamp(str(stamp.parent))
        names = not_graded.record_in_gradebook(
            url, course_id, assignment, outcome.student, timestamp
        )
        folder = course / "autograded" / outcome.student / assignment
        folder.mkdir(parents=True, exist_ok=True)  # formgrader lists what has this folder
        if stamp.is_file():
            shutil.copyfile(stamp, folder / "timestamp.txt")
        return names
    except Exception as error:  # the course itself is broken: the summary says so
        outcome.message += f"; not recorded in the gradebook: {type(error).__name__}: {error}"
        return None


def keep_lost_in_sight(course, assignment, outcome, db_url=None):
    """The same for a submission whose grading task itself was lost (a worker that died with it
    every time): stage it again here, record it without running anything of it, tell the
    student. Never raises; returns ``outcome``."""
    staged = Path(course) / STAGED / outcome.student
    try:
        shutil.rmtree(staged, ignore_errors=True)
        submission = Path(course) / "submitted" / outcome.student / assignment
        stage(submission, staged / assignment, assignment)
        with _ONE_AT_A_TIME, environment():
            notebooks = keep_in_sight(course, assignment, outcome, db_url, staged)
        tell_student(Path(course), assignment, outcome, notebooks)
    except Exception as error:
        outcome.message += f"; not recorded: {type(error).__name__}: {error}"
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return outcome


def _read_events(report):
    if not report.exists():
        return []
    return [json.loads(line) for line in report.read_text().splitlines() if line.strip()]


def limit_lines(events):
    """One readable line per limit event: ``memory limit: 2300 MB resident, ...``."""
    return [f"{e['limit']} limit: {e['detail']}" for e in events]


def tell_student(course, assignment, outcome, notebooks=None):
    """A note in the autograded notebooks of a graded submission that a limit or a dead kernel
    stopped in part; for a submission that was not graded, a feedback page with the reason
    (one per notebook: ``notebooks``, the assignment's notebook names, else those submitted)."""
    text = not_graded.reason(outcome)
    autograded = course / "autograded" / outcome.student / assignment
    if outcome.status == "graded":
        for path in sorted(autograded.glob("*.ipynb")):
            notebook = nbformat.read(path, as_version=4)
            notebook.cells = [c for c in notebook.cells if not c.metadata.get(NOTE_KEY)]
            note = nbformat.v4.new_markdown_cell(f"**Grading note.** {text}")
            note.metadata[NOTE_KEY] = True
            notebook.cells.insert(0, note)
            nbformat.write(notebook, path)
        return
    submitted = course / "submitted" / outcome.student / assignment
    feedback = course / "feedback" / outcome.student / assignment
    feedback.mkdir(parents=True, exist_ok=True)
    page = (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{assignment}</title>"
        f"</head><body><h1>{html.escape(assignment)}: not graded</h1>\n<p>"
        + html.escape(text + " Nothing of it could be graded; your instructor has been told.")
        + "</p>\n</body></html>\n"
    )
    if notebooks is None:
        notebooks = [path.stem for path in sorted(submitted.glob("*.ipynb"))]
    for name in notebooks:
        (feedback / f"{name}.html").write_text(page)
    # `nbgrader release_feedback` reads these beside every page (as `generate_feedback` leaves
    # them): the submission's time, and the secret that files the page under this submission in
    # the exchange. A submission collected from an LMS has no secret, and gets none.
    # Never through a link: a student's "timestamp.txt" may point at the grader's files.
    for name in ("timestamp.txt", "submission_secret.txt"):
        path = submitted / name
        if path.is_file() and not path.is_symlink():
            shutil.copyfile(path, feedback / name, follow_symlinks=False)


def note_refused(course, assignment, outcome):
    """A note opening each autograded notebook: what of the submission was not graded."""
    text = (
        "**Grading note.** Only the assignment's notebooks are graded; these were left out: "
        + "; ".join(outcome.refused)
        + "."
    )
    for path in sorted((course / "autograded" / outcome.student / assignment).glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        note = nbformat.v4.new_markdown_cell(text)
        note.metadata[NOTE_KEY + "_refused"] = True
        notebook.cells.insert(0, note)
        nbformat.write(notebook, path)


def disagreements(submission, flags):
    """Test cells whose visible tests failed in the grader's run although the student's
    submitted notebook shows them passing (output, no error): worth a person's reading, since
    the student's own kernel may have been made to report success. One line each."""
    if not flags.exists():
        return []
    lines = []
    for flag in (json.loads(line) for line in flags.read_text().splitlines() if line.strip()):
        path = submission / f"{flag['notebook']}.ipynb"
        try:
            notebook = nbformat.read(path, as_version=4)
        except Exception:  # a notebook that does not read: nothing to compare
            continue
        for cell in notebook.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            outputs = cell.get("outputs", []) if cell.get("cell_type") == "code" else []
            if meta.get("grade_id") == flag["grade_id"] and outputs:
                if not any(o.get("output_type") == "error" for o in outputs):
                    lines.append(
                        f"{flag['grade_id']}: passed in the submitted notebook, failed its "
                        "visible tests in the grader's run"
                    )
    return lines
