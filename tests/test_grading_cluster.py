"""The class grader on a real Dask cluster: a scheduler and two workers on loopback, PostgreSQL.

30 submissions of the tiny assignment are graded through ``autograde_class --scheduler`` (every
kernel boxed); one worker is killed while it grades a submission. The scheduler must give that
submission to the other worker, every grade must be right and in the gradebook exactly once, and
nothing the dead worker started (the box of the kernel it was running) may survive it.
"""

import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from gradebook_helpers import ASSIGNMENT, KINDS, POINTS, make_tiny_course, submit
from gradebook_helpers import postgres as postgres
from gradebook_helpers import sandbox as sandbox
from nbgrader.api import Gradebook

from cvlib.tools.grading.autograde_class import autograde_class, summary
from cvlib.tools.grading.pgserver import free_port

pytestmark = pytest.mark.slow

STUDENTS = 30


def dask(*args, name):
    """Start ``python -m distributed.cli.dask_<name> args`` (its output to the test's log)."""
    return subprocess.Popen(
        [sys.executable, "-m", f"distributed.cli.dask_{name}", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture
def cluster():
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = dask("--host", "127.0.0.1", "--port", str(port), "--no-dashboard", name="scheduler")
    workers = {
        n: dask(
            address,
            "--host",
            "127.0.0.1",
            "--nthreads",
            "1",
            "--no-nanny",
            "--no-dashboard",
            "--name",
            n,
            name="worker",
        )
        for n in ("w1", "w2")
    }
    from distributed import Client

    with Client(address, timeout="60s") as client:
        client.wait_for_workers(2, timeout=60)
    yield address, workers
    for proc in (*workers.values(), scheduler):
        proc.kill()
        proc.wait(timeout=30)


def grading_box(worker):
    """The box (bubblewrap) of the kernel a worker is grading, or None."""
    try:
        for child in psutil.Process(worker.pid).children():
            if child.name() == "bwrap":
                return child
    except psutil.NoSuchProcess:
        pass
    return None


def _described(process):
    """A process as the failure message shows it: pid, name, state, parent and command."""
    try:
        return (
            f"{process.pid} {process.name()} {process.status()} ppid {process.ppid()} "
            + " ".join(process.cmdline()[:3])
        )
    except psutil.Error as error:
        return f"{process.pid} ({error!r})"


def kill_mid_submission(worker, killed, nth=3):
    """Wait (120 s at most) until ``worker``'s box for its ``nth`` submission has run for 0.2 s
    (its kernel is then starting or running the notebook), then SIGKILL the worker: both workers
    share the class until then. A quiet machine grades one of these submissions in about a second,
    so a longer wait could miss every box (CI did once)."""
    seen = set()
    for _ in range(1200):
        box = grading_box(worker)
        if box is not None:
            seen.add(box.pid)
            if len(seen) >= nth and time.time() - box.create_time() > 0.2:
                workdir = next(a for a in box.cmdline() if a.startswith("--workdir="))
                killed["student"] = Path(workdir).parts[-2]
                killed["box"] = [box, *box.children(recursive=True)]
                worker.kill()
                return
        time.sleep(0.05)


def test_a_killed_worker_loses_no_grade(postgres, sandbox, cluster, tmp_path):
    address, workers = cluster
    url = postgres.create_database("gradebook_cluster")
    course = make_tiny_course(tmp_path / "course", checks="plain", db_url=url)
    kinds = list(KINDS)
    students = {f"s{i:02d}-{kinds[i % len(kinds)]}": kinds[i % len(kinds)] for i in range(STUDENTS)}
    for student, kind in students.items():
        submit(course, student, KINDS[kind][0])
    killed = {}
    killer = threading.Thread(target=kill_mid_submission, args=(workers["w1"], killed))
    killer.start()
    start = time.perf_counter()
    outcomes = autograde_class(course, ASSIGNMENT, db_url=url, scheduler=address, progress=False)
    seconds = time.perf_counter() - start
    killer.join()
    print(
        f"\n{summary(outcomes, seconds)}\n(worker w1 killed while grading {killed.get('student')})"
    )
    assert killed, "the worker was never seen grading"
    alive = [_described(p) for p in killed["box"] if p.is_running()]
    assert not alive, f"the dead worker's box outlived it: {alive}"
    assert [o.student for o in outcomes] == sorted(students)
    for outcome in outcomes:
        assert outcome.status == "graded", outcome
        assert outcome.score == KINDS[students[outcome.student]][1], outcome
        assert set(outcome.grades) == set(POINTS), outcome
    with Gradebook(url) as gb:  # one row per student, notebook and grade cell: no duplicate
        assert len(gb.students) == STUDENTS
        submissions = gb.assignment_submissions(ASSIGNMENT)
        assert sorted(s.student_id for s in submissions) == sorted(students)
        for submission in submissions:
            (notebook,) = submission.notebooks
            assert sorted(g.name for g in notebook.grades) == sorted(POINTS), submission
