"""Where the submissions are graded: a Dask distributed cluster, local or running elsewhere.

:func:`connect` gives a ``distributed.Client``: to the scheduler at ``scheduler``
(``tcp://host:8786`` of ``dask scheduler``, or of a Slurm or Kubernetes cluster made by
dask-jobqueue or dask-kubernetes), or else to a local cluster on loopback of ``workers`` worker
processes with one thread each.
:func:`grade_all` sends one task per submission (:func:`.grade_submission.grade_one`)
and yields the outcomes as they arrive. The scheduler gives the task of a worker that died to
another worker (up to ``distributed.scheduler.allowed-failures`` times, 3 by default); a task
that kept killing its workers comes back as a failed outcome, kept in the gradebook and told to
its student like any submission that could not be graded
(:func:`~cvlib.tools.grading.grade_submission.keep_lost_in_sight`).
"""

import contextlib
import logging
import uuid

from cvlib.tools.grading.grade_submission import Outcome, grade_one, keep_lost_in_sight
from cvlib.tools.grading.sandbox import SandboxUnavailable, check


@contextlib.contextmanager
def connect(scheduler=None, workers=1):
    """A ``distributed.Client`` to ``scheduler``, or to a local cluster of ``workers``."""
    from distributed import Client
    from distributed.deploy.subprocess import SubprocessCluster

    if scheduler:
        with Client(scheduler, timeout="60s") as client:
            yield client
        return
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"`workers` must be an int >= 1, got {workers!r}")
    # worker processes started as commands (`dask spec`), not forked from this one: no
    # `if __name__ == "__main__"` needed in the caller's script, nothing of its state shared
    with (
        SubprocessCluster(
            n_workers=workers,
            threads_per_worker=1,
            dashboard_address=None,
            worker_class="distributed.Worker",
            worker_kwargs={"memory_limit": 0},  # the box limits the kernels' memory
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _check_worker():
    try:
        check()
    except SandboxUnavailable as error:
        return str(error)
    return ""


def check_workers(client):
    """Raise :class:`SandboxUnavailable` unless every worker can build a box."""
    problems = {w: p for w, p in client.run(_check_worker).items() if p}
    if problems:
        lines = "\n".join(f"  {worker}: {problem}" for worker, problem in problems.items())
        raise SandboxUnavailable(f"the sandbox does not work on these workers:\n{lines}")


def grade_all(client, course, assignment, students, db_url, limits, sandbox):
    """Yield one :class:`Outcome` per student, in the order they finish."""
    from distributed import as_completed

    run = uuid.uuid4().hex[:8]  # two runs on one scheduler never share a task
    futures = {
        client.submit(
            grade_one,
            str(course),
            assignment,
            student,
            db_url,
            limits,
            sandbox,
            key=f"autograde-{assignment}-{student}-{run}",
            pure=False,
        ): student
        for student in students
    }
    for future in as_completed(futures):
        try:
            yield future.result()
        except Exception as error:  # KilledWorker: it took its workers down every time
            message = f"{type(error).__name__}: {error}"
            outcome = Outcome(futures[future], "failed", 0.0, message[:300])
            yield keep_lost_in_sight(course, assignment, outcome, db_url)
        finally:
            future.release()
