"""Chunks of a numpy computation on several threads, each BLAS call on one of them.

numpy's BLAS (OpenBLAS) splits every matrix product over its threads. For the many small products
of a convolution (32 x 144 times 144 x a few thousand) that costs more than it gains: on 2 threads
the whole layer ran *slower* than on one, and far slower on a busy machine, where BLAS threads
wait for a core. Splitting the work one level up is better: the images' chunks go to as many
Python threads as numpy's BLAS may use (numpy and BLAS release the GIL while they copy and
multiply), and BLAS runs single-threaded inside each. So a caller that limits numpy's BLAS threads
(``threadpoolctl.threadpool_limits(1)``, or ``OPENBLAS_NUM_THREADS=1``) limits this too.

threadpoolctl (a small pure-Python package, a dependency of cvlib) is the one import here beyond
numpy and the standard library: it is how a program reads and sets numpy's BLAS thread count.

Examples
--------
>>> run_parts(sum, list(range(6)), workers=1), run_parts(sum, list(range(6)), workers=2)
([15], [6, 9])
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["blas_threads", "run_parts"]

_lock = threading.Lock()
_state = {}  # "controller": threadpoolctl's, "pool": the shared ThreadPoolExecutor


def _controller():
    with _lock:
        if "controller" not in _state:
            from threadpoolctl import ThreadpoolController

            _state["controller"] = ThreadpoolController()
        return _state["controller"]


def blas_threads():
    """How many threads numpy's BLAS may use now (1 when it reports none)."""
    libraries = [lib for lib in _controller().lib_controllers if lib.user_api == "blas"]
    return max([lib.num_threads for lib in libraries], default=1)


def _pool():
    with _lock:
        if "pool" not in _state:
            _state["pool"] = ThreadPoolExecutor(
                max_workers=os.cpu_count() or 1, thread_name_prefix="cvlib-chunks"
            )
        return _state["pool"]


def run_parts(work, items, workers=None):
    """``[work(part) for part in parts]``, the ``workers`` interleaved parts ``items[i::workers]``.

    ``workers`` defaults to :func:`blas_threads`; with one, ``work(items)`` runs right here.
    Otherwise the parts run on a shared thread pool with numpy's BLAS limited to one thread for
    the while, and the first exception a part raises is raised here. ``work`` must only write
    what no other part writes. The results come back in the order of the parts, so a sum of them
    is the same on every run with the same number of workers.
    """
    workers = min(workers or blas_threads(), len(items))
    if workers <= 1:
        return [work(items)]
    parts = [items[i::workers] for i in range(workers)]
    with _controller().limit(limits=1, user_api="blas"):
        futures = [_pool().submit(work, part) for part in parts]
        return [future.result() for future in futures]
