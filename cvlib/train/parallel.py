"""Independent runs on all the machine's cores: one process per core, one torch thread each.

The course's networks are small, so one run keeps one core busy and a second torch thread gains
next to nothing (the fast-convolution chapter measures it). Seeds of an experiment, or the three
experiments of a chapter, are independent: run in separate processes they finish in about half the
time on two cores. Every run seeds itself, so a result does not depend on which process ran it or
in what order: ``run_parallel`` gives the same numbers as a plain loop (``tests/test_train.py``
checks it to the bit).

Workers are fresh interpreters started by loky (through joblib, which scikit-learn already
needs), never plain forks of the caller: forking a process whose torch thread pool has started can
deadlock. Unlike ``multiprocessing``'s spawn, loky does not run the caller's script again in each
worker, so a script without an ``if __name__ == "__main__"`` guard, or a notebook, can use it. The
workers stay alive between calls (a second experiment skips their start-up) and stop after a few
idle minutes. ``CVLIB_WORKERS=1`` runs everything in the calling process (no pool), as does a
machine with one core.

Examples
--------
>>> run_parallel(pow, [dict(base=2, exp=3), dict(base=3, exp=2)], workers=1)
[8, 9]
"""

import os
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

__all__ = ["Pending", "Workers", "default_workers", "run_parallel"]

WORKERS_ENV = "CVLIB_WORKERS"
IDLE_SECONDS = 300  # idle workers exit after this long


def default_workers(jobs=None):
    """The cores this process may use (``CVLIB_WORKERS`` overrides), at most ``jobs``.

    >>> default_workers(1)
    1
    """
    setting = os.environ.get(WORKERS_ENV, "").strip()
    if setting:
        if not setting.isdigit() or int(setting) < 1:
            raise ValueError(f"`{WORKERS_ENV}` must be a positive integer, got {setting!r}")
        cores = int(setting)
    else:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, jobs if jobs is not None else cores or 1))


def _one_thread():
    """Each worker's start: one torch thread, and the imports every training run needs.

    The first optimizer of a process imports ``torch._dynamo`` (about 1.5 s); doing it here
    moves that cost to the worker's start, which runs while the caller goes on.
    """
    import torch
    import torch._dynamo

    import cvlib.train  # noqa: F401

    torch.set_num_threads(1)


def _ready():
    return True


def _call(fn, kwargs):
    return fn(**kwargs)


@dataclass
class Pending:
    """Calls started on a :class:`Workers` pool: :meth:`result` waits for every one of
    ``futures`` and returns ``finish(results)``, the results in the order of the futures (by
    default, the list itself). An experiment's ``submit`` returns one, so a notebook can go on
    while its runs train and collect them where the text needs them.
    """

    futures: list
    finish: Callable = list

    def result(self):
        return self.finish([future.result() for future in self.futures])


class Workers:
    """A pool of worker processes that runs ``fn(**kwargs)`` calls and hands back futures.

    Use it as a context manager; ``submit`` returns a :class:`concurrent.futures.Future` at once,
    so a notebook can start its slow experiments first and collect each result where it is
    discussed (``future.result()``). With one worker the call runs at once, in this process.

    The processes start as soon as the pool is made, and later pools of the same size reuse
    them (so does :func:`run_parallel`): a notebook that makes a ``Workers()`` in its first cell
    has them ready, imports done, by the time its first experiment runs.

    Parameters
    ----------
    workers : int, optional
        Number of processes; default :func:`default_workers`.
    """

    def __init__(self, workers=None):
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise ValueError(f"`workers` must be a positive int or None, got {workers!r}")
        self.workers = workers or default_workers()
        self._pool = None
        if self.workers > 1:
            from joblib.externals.loky import get_reusable_executor

            self._pool = get_reusable_executor(
                max_workers=self.workers, timeout=IDLE_SECONDS, initializer=_one_thread
            )
            for _ in range(self.workers):  # start every process now, in the background
                self._pool.submit(_ready)

    def submit(self, fn, /, **kwargs):
        """Start ``fn(**kwargs)``; ``fn`` must be importable (a module-level function)."""
        if not callable(fn):
            raise TypeError(f"`fn` must be callable, got {type(fn).__name__}")
        if self._pool is not None:
            return self._pool.submit(_call, fn, kwargs)
        future = Future()
        try:
            future.set_result(fn(**kwargs))
        except Exception as error:  # the caller sees it from .result(), as with a pool
            future.set_exception(error)
        return future

    def __repr__(self):
        return f"Workers({self.workers})"

    def shutdown(self):
        """Wait for the submitted calls; the processes stay for the next pool (until idle)."""
        self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()


def run_parallel(fn, jobs, workers=None):
    """``[fn(**kwargs) for kwargs in jobs]``, the calls spread over worker processes.

    Parameters
    ----------
    fn : callable
        A module-level function (workers import it by name).
    jobs : list of dict
        Keyword arguments of each call.
    workers : int, optional
        Default: one per core, at most one per job (``CVLIB_WORKERS`` overrides).

    Returns
    -------
    list
        The results in the order of ``jobs``.
    """
    jobs = list(jobs)
    for i, kwargs in enumerate(jobs):
        if not isinstance(kwargs, dict):
            raise TypeError(f"`jobs[{i}]` must be a dict of keyword arguments, got {kwargs!r}")
    workers = workers or default_workers(len(jobs))
    if workers <= 1 or len(jobs) <= 1:
        return [fn(**kwargs) for kwargs in jobs]
    with Workers(min(workers, len(jobs))) as pool:
        futures = [pool.submit(fn, **kwargs) for kwargs in jobs]
        return [future.result() for future in futures]
