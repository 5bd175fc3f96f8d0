"""Grade one submission: the task that every grading worker runs (see ``autograde_class``).

:func:`grade_one` runs ``nbgrader autograde ASSIGNMENT --student S --force`` in its own process,
its kernel boxed by :mod:`cvlib.tools.sandbox` (a private kernel spec on ``JUPYTER_PATH``), under
a wall-clock limit for the whole submission. It never raises: whatever happens becomes an
:class:`Outcome`. The nbgrader process dies with the worker that started it (``PDEATHSIG``), and
its box dies with it, so a worker that is killed leaves nothing running that could still write
to the gradebook when the engine grades that submission again elsewhere.

When a limit stopped something, the student is told: a note opens the autograded notebook (and
so the feedback ``nbgrader generate_feedback`` makes from it); when nothing could be graded, a
page ``feedback/<student>/<assignment>/<notebook>.html`` says which limit stopped it.
"""

import ctypes
import html
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cvlib.tools.sandbox import KERNEL_NAME, Limits, write_kernel_spec

PR_SET_PDEATHSIG = 1
NOTE_KEY = "cvlib_sandbox_note"


@dataclass
class Outcome:
    """What happened to one submission."""

    student: str
    status: str  # "graded", "failed" (nbgrader reported an error) or "timeout"
    seconds: float
    returncode: int | None = None
    message: str = ""
    score: float | None = None
    max_score: float | None = None
    grades: dict = field(default_factory=dict)
    limits: list = field(default_factory=list)  # events: {"limit": ..., "detail": ...}
    worker: str = ""

    @property
    def stopped_by(self):
        """The limits that stopped part or all of the submission, in order, e.g. "memory"."""
        return sorted({event["limit"] for event in self.limits})


def _die_with_parent():
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _kill_tree(pid):
    import psutil

    try:
        parent = psutil.Process(pid)
        family = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        return
    for proc in family:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)


def _last_error(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower() and "Please see" not in line]
    return (errors or lines or [""])[-1][:300]


def nbgrader_command(assignment, student, db_url=None, sandbox=True):
    """``python -m nbgrader autograde ...`` for one student (boxed kernel unless told)."""
    command = [sys.executable, "-m", "nbgrader", "autograde", assignment]
    command += ["--student", student, "--force", "--log-level=WARN"]
    if sandbox:
        command.append(f"--Execute.kernel_name={KERNEL_NAME}")
    if db_url:
        command.append(f"--db={db_url}")
    return command


def grade_one(course, assignment, student, db_url=None, timeout=900, limits=None, sandbox=True):
    """Autograde one student in its own process; return an :class:`Outcome` (never raises)."""
    limits = limits or Limits()
    scratch = Path(tempfile.mkdtemp(prefix="cvlib-grade-"))
    report = scratch / "limits.jsonl"
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    env = dict(os.environ, PYTHONWARNINGS="ignore", PATH=path, CVLIB_SANDBOX_REPORT=str(report))
    if sandbox:
        write_kernel_spec(scratch, limits)
        env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(scratch), env.get("JUPYTER_PATH")]))
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(
            nbgrader_command(assignment, student, db_url, sandbox),
            cwd=course,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        try:
            output, _ = proc.communicate(timeout=timeout or None)
            status = "graded" if proc.returncode == 0 else "failed"
            message = "" if status == "graded" else _last_error(output)
        except subprocess.TimeoutExpired:
            _kill_tree(proc.pid)
            proc.communicate()
            status, message = "timeout", f"killed after {timeout:g} s"
        events = _read_events(report)
    except OSError as error:  # the course folder or nbgrader is missing
        proc, status, message, events = None, "failed", str(error), []
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if status == "timeout":
        events.append({"limit": "wall clock", "detail": f"the submission ran over {timeout:g} s"})
    outcome = Outcome(
        student,
        status,
        time.perf_counter() - start,
        proc.returncode if proc is not None and status != "timeout" else None,
        message,
        limits=events,
        worker=socket.gethostname(),
    )
    if events:
        outcome.message = "; ".join(filter(None, [message, *limit_lines(events)]))
        tell_student(Path(course), assignment, outcome)
    return outcome


def _read_events(report):
    if not report.exists():
        return []
    return [json.loads(line) for line in report.read_text().splitlines() if line.strip()]


def limit_lines(events):
    """One readable line per limit event: ``memory limit: 2300 MB resident, ...``."""
    return [f"{e['limit']} limit: {e['detail']}" for e in events]


def tell_student(course, assignment, outcome):
    """A note in the autograded notebooks, or a feedback page when nothing was graded."""
    lines = limit_lines(outcome.limits)
    text = "The grading sandbox stopped part of this submission: " + "; ".join(lines) + "."
    autograded = course / "autograded" / outcome.student / assignment
    notebooks = sorted(autograded.glob("*.ipynb")) if outcome.status == "graded" else []
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        notebook.cells = [c for c in notebook.cells if not c.metadata.get(NOTE_KEY)]
        note = nbformat.v4.new_markdown_cell(f"**Grading note.** {text}")
        note.metadata[NOTE_KEY] = True
        notebook.cells.insert(0, note)
        nbformat.write(notebook, path)
    if notebooks:
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
    for path in sorted(submitted.glob("*.ipynb")):
        (feedback / f"{path.stem}.html").write_text(page)
