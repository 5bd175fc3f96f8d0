"""Autograde a whole class in parallel: one ``nbgrader autograde --student S`` process each.

Run it in the course directory (the folder with ``nbgrader_config.py`` and ``submitted/``)::

    python -m cvlib.tools.autograde_class a1_convolution --jobs 4 \\
        --db postgresql+psycopg2://nbgrader@dbhost/cnn_cv --timeout 900 --memory 4096

Every submission in ``submitted/<student>/<assignment>/`` is graded by its own nbgrader process
(and so its own kernel), at most ``--jobs`` at a time, against one gradebook. Use a PostgreSQL
gradebook (``--db`` or ``c.CourseDirectory.db_url``) for ``--jobs`` above 1: SQLite allows a
single writer and makes the others wait or fail with "database is locked".

A broken submission cannot take the others down:

- ``--memory`` MB caps the address space (``RLIMIT_AS``) of the nbgrader process and so of the
  kernel it starts (children inherit the limit): an answer that allocates without bound gets a
  ``MemoryError`` in its own cell, not the machine's memory.
- ``--timeout`` seconds bounds a whole submission; past it the process and all its descendants
  (the kernel runs in its own session) are killed and the submission is reported as timed out.
  ``c.Execute.timeout`` still bounds each cell inside. A CPU-time limit (``RLIMIT_CPU``, the same
  number of seconds) stops a kernel that would somehow outlive its nbgrader process.
- A kernel that dies (``os._exit`` in an answer, killed by the limits) makes only that
  submission fail; the summary lists it with nbgrader's last error line.

Progress is a tqdm bar (silent under ``NBGRADER_EXECUTION``); the summary gives one line per
submission that did not grade cleanly and the class's scores read back from the gradebook.
"""

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

# Applied in the child before it becomes nbgrader: limits are inherited by the kernel it starts.
_LIMITED = (
    "import os, resource, sys\n"
    "mem, cpu = int(sys.argv[1]), int(sys.argv[2])\n"
    "if mem > 0: resource.setrlimit(resource.RLIMIT_AS, (mem, mem))\n"
    "if cpu > 0: resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))\n"
    "os.execv(sys.argv[3], sys.argv[3:])\n"
)


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


def students_of(course, assignment):
    """Students with a submission of ``assignment`` in ``course/submitted/``, sorted."""
    submitted = Path(course) / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())


def limited_command(command, memory_mb=0, cpu_seconds=0):
    """``command`` (absolute program path first) run through a wrapper that sets rlimits first.

    The wrapper is a few lines of Python that call ``resource.setrlimit`` (RLIMIT_AS to
    ``memory_mb``, RLIMIT_CPU to ``cpu_seconds``; 0 means no limit) and then ``exec`` the command,
    so the limits hold for it and everything it starts.
    """
    if memory_mb < 0 or cpu_seconds < 0:
        raise ValueError(f"memory_mb and cpu_seconds must be >= 0, got {memory_mb}, {cpu_seconds}")
    return [
        sys.executable,
        "-c",
        _LIMITED,
        str(int(memory_mb) * 2**20),
        str(int(cpu_seconds)),
        *command,
    ]


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


def grade_one(
    course, assignment, student, db_url=None, timeout=900, memory_mb=0, force=True, extra_args=()
):
    """Autograde one student in its own process; return an :class:`Outcome` (never raises)."""
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    env = dict(os.environ, PYTHONWARNINGS="ignore", PATH=path)
    command = [
        sys.executable,
        "-m",
        "nbgrader",
        "autograde",
        assignment,
        "--student",
        student,
        "--log-level=WARN",
        *extra_args,
    ]
    if force:
        command.append("--force")
    if db_url:
        command.append(f"--db={db_url}")
    command = limited_command(command, memory_mb, int(timeout) + 30 if timeout else 0)
    start = time.perf_counter()
    proc = subprocess.Popen(
        command,
        cwd=course,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=timeout or None)
    except subprocess.TimeoutExpired:
        _kill_tree(proc.pid)
        output, _ = proc.communicate()
        return Outcome(
            student, "timeout", time.perf_counter() - start, None, f"killed after {timeout} s"
        )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        return Outcome(student, "failed", seconds, proc.returncode, _last_error(output))
    return Outcome(student, "graded", seconds, 0)


def read_scores(db_url, assignment, course_id=None):
    """``{student: (score, max_score, {grade_id: score})}`` from a gradebook URL."""
    from nbgrader.api import Gradebook

    kwargs = {"course_id": course_id} if course_id else {}
    result = {}
    with Gradebook(db_url, **kwargs) as gb:
        for submission in gb.assignment_submissions(assignment):
            grades = {g.name: g.score for nb in submission.notebooks for g in nb.grades}
            result[submission.student_id] = (submission.score, submission.max_score, grades)
    return result


def autograde_class(
    course,
    assignment,
    students=None,
    db_url=None,
    jobs=2,
    timeout=900,
    memory_mb=0,
    course_id=None,
    progress=True,
):
    """Autograde every submission of ``assignment`` with ``jobs`` processes; list of Outcomes.

    ``db_url`` defaults to the course's SQLite ``gradebook.db``. The assignment must already be
    in the gradebook (``nbgrader generate_assignment`` or ``nbgrader db assignment add`` puts it
    there), so that the parallel processes only ever add rows of their own student.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be >= 0 seconds, got {timeout}")
    course = Path(course).resolve()
    students = list(students) if students is not None else students_of(course, assignment)
    url = db_url or f"sqlite:///{course / 'gradebook.db'}"
    _check_assignment(url, assignment, course_id)
    from tqdm.auto import tqdm

    quiet = not progress or bool(os.environ.get("NBGRADER_EXECUTION"))
    outcomes = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [
            pool.submit(grade_one, course, assignment, s, db_url, timeout, memory_mb)
            for s in students
        ]
        with tqdm(
            total=len(futures), desc=f"autograde {assignment}", unit="submission", disable=quiet
        ) as bar:
            for future in as_completed(futures):
                outcomes.append(future.result())
                bar.update(1)
    scores = read_scores(url, assignment, course_id) if students else {}
    for outcome in outcomes:
        if outcome.student in scores:
            outcome.score, outcome.max_score, outcome.grades = scores[outcome.student]
        elif outcome.status == "graded":
            outcome.status, outcome.message = "failed", "no submission in the gradebook"
    return sorted(outcomes, key=lambda o: o.student)


def _check_assignment(url, assignment, course_id):
    from nbgrader.api import Gradebook, MissingEntry

    kwargs = {"course_id": course_id} if course_id else {}
    with Gradebook(url, **kwargs) as gb:  # also creates the tables once, before the workers start
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise ValueError(
                f"assignment {assignment!r} is not in the gradebook {url}: run "
                "`nbgrader generate_assignment` (or `nbgrader db assignment add`) "
                "with this db_url first"
            ) from None


def summary(outcomes, seconds=None):
    """Printable summary: counts, problems one per line, score statistics."""
    graded = [o for o in outcomes if o.status == "graded"]
    lines = [
        f"{len(graded)} of {len(outcomes)} submissions graded cleanly"
        + (f" in {seconds:.1f} s" if seconds is not None else "")
    ]
    for o in outcomes:
        if o.status != "graded":
            got = "" if o.score is None else f" (gradebook: {o.score:g} / {o.max_score:g})"
            lines.append(f"  {o.student}: {o.status}{got}: {o.message}")
    scored = [o.score for o in outcomes if o.score is not None]
    if scored:
        lines.append(
            f"scores: mean {sum(scored) / len(scored):.2f}, min {min(scored):g}, "
            f"max {max(scored):g} (out of {outcomes[0].max_score or 0:g}); "
            f"{len(outcomes) - len(scored)} without a score"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cvlib.tools.autograde_class",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("assignment")
    parser.add_argument("--course", default=".", help="course directory (default: here)")
    parser.add_argument("--db", default=None, help="gradebook URL (default: gradebook.db)")
    parser.add_argument("--jobs", "-j", type=int, default=2, help="parallel processes")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per submission")
    parser.add_argument(
        "--memory", type=int, default=4096, help="MB of address space per submission (0: no limit)"
    )
    parser.add_argument("--student", action="append", help="only these students")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    outcomes = autograde_class(
        args.course, args.assignment, args.student, args.db, args.jobs, args.timeout, args.memory
    )
    print(summary(outcomes, time.perf_counter() - start))
    return 0 if all(o.status == "graded" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
