"""Run a block of torch code on a given number of CPU threads, then restore the previous setting.

The course's detection and segmentation experiments train small networks on 32x32 images. On a
shared 2-core machine such work ran about ten times faster on one thread than on two (with the
default, spinning OpenMP wait policy the second thread waits on a busy core), so the experiments
default to one thread.
"""

from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(num_threads):
    """Within the block ``torch.get_num_threads() == num_threads``; ``None`` changes nothing.

    Examples
    --------
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if num_threads is not None and (not isinstance(num_threads, int) or num_threads < 1):
        raise ValueError(f"`num_threads` must be a positive integer or None, got {num_threads!r}")
    before = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
