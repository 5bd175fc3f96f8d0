"""Autograde a whole class, every kernel boxed, spread over machines by Dask distributed.

Run it in the course directory (the folder with ``nbgrader_config.py`` and ``submitted/``)::

    python -m cvlib.tools.grading.autograde_class a1_convolution           # this machine, boxed
    python -m cvlib.tools.grading.autograde_class a1_convolution --jobs 4 \\
        --db postgresql+psycopg2://nbgrader@dbhost/cnn_cv --memory 3072
    python -m cvlib.tools.grading.autograde_class a3_cnn --scheduler tcp://head:8786 --db "$DB_URL"

Every submission in ``submitted/<student>/<assignment>/`` is one task of a Dask cluster: a
local one by default (``--jobs`` worker processes on this machine), or the cluster whose scheduler
``--scheduler`` names (``dask scheduler`` and ``dask worker --nthreads 1`` on each machine, or a
Slurm/Kubernetes cluster from dask-jobqueue/dask-kubernetes). Each task runs ``nbgrader
autograde --student S --force`` in the worker process (:mod:`cvlib.tools.grading.grade_submission`),
one at a time per process; the workers need this environment, the course folder at the same
path (a shared file system) and a gradebook they all reach. A worker that dies mid-submission
loses nothing: the scheduler grades that submission again on another worker, and nbgrader
records each submission once.

The gradebook: with the course's SQLite file (the default), one writer at a time, so one
submission at a time on this machine; ``--jobs`` above 1 and ``--scheduler`` need PostgreSQL
(``--db`` or ``c.CourseDirectory.db_url``).

Every kernel runs in the box of :mod:`cvlib.tools.grading.sandbox` (bubblewrap): unprivileged, no
network, nothing of the course but its own working copy, with limits on resident memory
(``--memory`` MB), CPU seconds per process (``--cpu``), processes and threads
(``--processes``) and wall clock (``--timeout`` s for the whole submission, besides nbgrader's
``c.Execute.timeout`` per cell). Without bubblewrap the grader refuses to start, unless told
``--no-sandbox`` (then the kernels run with the grader's rights, bounded by the per-cell
timeout alone).
A submission stopped by a limit is listed with that limit in the summary and told so in its
feedback. One that could not be graded at all (a limit, a kernel that died, a broken notebook)
is kept in the gradebook with every test at 0 and flagged, listed by formgrader, and its student
has a feedback page that says why (:mod:`cvlib.tools.grading.not_graded`).

Progress is a tqdm bar (silent under ``NBGRADER_EXECUTION``); the summary gives one line per
submission that did not grade cleanly and the class's scores read back from the gradebook.
"""

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

from cvlib.tools.grading.grade_submission import Outcome, grade_one
from cvlib.tools.grading.grading_cluster import check_workers, connect, grade_all
from cvlib.tools.grading.nbgrader_driver import nbgrader_api
from cvlib.tools.grading.preflight import PreflightFailed
from cvlib.tools.grading.preflight import preflight as run_preflight
from cvlib.tools.grading.sandbox import INSTALL_HINT, Limits, SandboxUnavailable, check
from cvlib.tools.grading.scores import read_scores

__all__ = ["Outcome", "PreflightFailed", "autograde_class", "grade_one", "read_scores", "summary"]


def students_of(course, assignment):
    """Students with a submission of ``assignment`` in ``course/submitted/``, sorted."""
    submitted = Path(course) / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())


def gradebook_url(course, db_url=None):
    """``db_url``, or the course's (its ``c.CourseDirectory.db_url``, by default the SQLite file
    ``gradebook.db`` in the course folder)."""
    return db_url or nbgrader_api(Path(course).resolve()).coursedir.db_url


def default_jobs(url, scheduler=None):
    """Local workers: 1 on SQLite (one writer), else one per core."""
    if scheduler:
        return None
    return 1 if url.startswith("sqlite") else max(1, os.cpu_count() or 1)


def _check_options(url, jobs, timeout, scheduler):
    if jobs is not None and (not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"`jobs` must be an int >= 1, got {jobs!r}")
    if timeout is not None and timeout < 0:
        raise ValueError(f"`timeout` must be >= 0 seconds, got {timeout}")
    if url.startswith("sqlite") and (scheduler or (jobs or 1) > 1):
        raise ValueError(
            f"`{'scheduler' if scheduler else 'jobs'}`: a SQLite gradebook takes one writer at "
            "a time; grade in parallel or on a cluster with a PostgreSQL gradebook (`db_url`, "
            "--db), or leave `jobs` at 1"
        )


def autograde_class(
    course,
    assignment,
    students=None,
    db_url=None,
    jobs=None,
    timeout=None,
    limits=None,
    course_id=None,
    progress=True,
    sandbox=True,
    scheduler=None,
    preflight=True,
):
    """Autograde every submission of ``assignment`` on a Dask cluster; list of Outcomes.

    First (unless ``preflight`` is False) the instructor's solution is graded the same way in a
    scratch copy of the course (:mod:`.preflight`): if it loses an automatic point,
    :class:`~cvlib.tools.grading.preflight.PreflightFailed` says why and no student is graded.

    ``db_url`` defaults to the course's gradebook (``c.CourseDirectory.db_url``, else the SQLite
    ``gradebook.db``); ``jobs`` (local workers)
    defaults to 1 with SQLite and to the number of cores otherwise; ``scheduler`` is the address
    of a running Dask scheduler instead. ``limits`` (:class:`~.sandbox.Limits`) box
    each kernel, unless ``sandbox`` is False; ``timeout`` (seconds per submission) replaces
    their ``wall_seconds``. The assignment must already be in the gradebook
    (``nbgrader generate_assignment`` or ``nbgrader db assignment add`` puts it there), so that
    the graders only ever add rows of their own student.
    """
    course = Path(course).resolve()
    url = gradebook_url(course, db_url)
    _check_options(url, jobs, timeout, scheduler)
    if limits is not None and not isinstance(limits, Limits):
        raise TypeError(f"`limits` must be a cvlib.tools.grading.sandbox.Limits, got {limits!r}")
    limits = limits or Limits()
    if timeout:
        limits = dataclasses.replace(limits, wall_seconds=int(timeout))
    if sandbox and not scheduler:
        check()  # raises SandboxUnavailable (with how to install bubblewrap) before any work
    students = list(students) if students is not None else students_of(course, assignment)
    _check_assignment(url, assignment, course_id)
    if preflight and students:
        run_preflight(course, assignment, limits, sandbox and not scheduler)
    from tqdm.auto import tqdm

    quiet = not progress or bool(os.environ.get("NBGRADER_EXECUTION"))
    outcomes = []
    with connect(scheduler, jobs or default_jobs(url, scheduler)) as client:
        if sandbox and scheduler:
            check_workers(client)
        results = grade_all(client, course, assignment, students, url, limits, sandbox)
        bar = tqdm(results, total=len(students), desc=f"autograde {assignment}", disable=quiet)
        outcomes = list(bar)
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
            found = gb.find_assignment(assignment)
        except MissingEntry:
            found = None
        if found is None or not found.notebooks:
            raise ValueError(
                f"assignment {assignment!r} has no notebooks in the gradebook {url}, so nothing "
                f"could be graded: run `nbgrader generate_assignment {assignment}` in the course "
                "folder (with this gradebook) first; `nbgrader db assignment add` registers the "
                "assignment but none of its notebooks"
            )


def summary(outcomes, seconds=None):
    """Printable summary: counts, problems and limits one per line, score statistics."""
    graded = [o for o in outcomes if o.status == "graded"]
    lines = [
        f"{len(graded)} of {len(outcomes)} submissions graded cleanly"
        + (f" in {seconds:.1f} s" if seconds is not None else "")
    ]
    for o in outcomes:
        if o.status != "graded" or o.limits or o.refused:
            got = "" if o.score is None else f" (gradebook: {o.score:g} / {o.max_score:g})"
            stopped = f" [stopped by: {', '.join(o.stopped_by)}]" if o.limits else ""
            lines.append(f"  {o.student}: {o.status}{stopped}{got}: {o.message}")
    flagged = [o for o in outcomes if o.flags]
    if flagged:
        lines.append(f"{len(flagged)} to read by a person (the notebook and the grader disagree):")
        lines += [f"  {o.student}: {'; '.join(o.flags)}" for o in flagged]
    scored = [o.score for o in outcomes if o.score is not None]
    if scored:
        lines.append(
            f"scores: mean {sum(scored) / len(scored):.2f}, min {min(scored):g}, "
            f"max {max(scored):g} (out of {next(o.max_score for o in outcomes if o.max_score):g}); "
            f"{len(outcomes) - len(scored)} without a score"
        )
    return "\n".join(lines)


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m cvlib.tools.grading.autograde_class",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("assignment")
    parser.add_argument("--course", default=".", help="course directory (default: here)")
    parser.add_argument("--db", default=None, help="gradebook URL (default: gradebook.db)")
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        help="local workers (default: 1 on SQLite, else cores)",
    )
    parser.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    parser.add_argument("--timeout", type=float, default=900, help="wall-clock s per submission")
    defaults = Limits()
    parser.add_argument(
        "--memory", type=int, default=defaults.memory_mb, help="MB resident per kernel"
    )
    parser.add_argument(
        "--cpu", type=int, default=None, help="CPU s per process (default: --timeout)"
    )
    parser.add_argument("--processes", type=int, default=defaults.processes, help="per kernel")
    parser.add_argument("--no-sandbox", action="store_true", help="run kernels unboxed (unsafe)")
    parser.add_argument("--student", action="append", help="only these students")
    parser.add_argument(
        "--no-preflight",
        action="store_true",
        help="do not grade the solution first (it must earn every automatic point)",
    )
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    cpu = args.cpu if args.cpu is not None else int(args.timeout)
    limits = Limits(args.memory, cpu, int(args.timeout), args.processes)
    start = time.perf_counter()
    try:
        outcomes = autograde_class(
            args.course,
            args.assignment,
            args.student,
            args.db,
            args.jobs,
            None,
            limits,
            sandbox=not args.no_sandbox,
            scheduler=args.scheduler,
            preflight=not args.no_preflight,
        )
    except SandboxUnavailable as error:
        print(
            f"error: {error}\nThe class grader runs student code only in a box: "
            f"{INSTALL_HINT}, or grade unboxed with --no-sandbox.",
            file=sys.stderr,
        )
        return 2
    except ValueError as error:  # PreflightFailed included: no grade was written
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summary(outcomes, time.perf_counter() - start))
    return 0 if all(o.status == "graded" and not o.limits for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
