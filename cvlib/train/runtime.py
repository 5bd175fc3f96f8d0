"""Where and how training runs: seeds, the device, the number of CPU threads, the model's mode.

- :func:`set_seed` seeds Python's, numpy's and PyTorch's generators at once;
- :func:`resolve_device` turns ``"auto"`` into CUDA when there is one, else the CPU;
- :func:`torch_threads` runs a block of code on a given number of CPU threads and restores the
  previous number (the course's networks are small: on a shared 2-core machine they ran about ten
  times faster on one thread than on two spinning ones);
- :func:`deterministic` runs a block with torch's deterministic algorithms on one thread (a
  training run that repeats to the bit on one machine) and restores the caller's settings;
- :func:`eval_mode` runs a block with a model in evaluation mode and restores its mode, even
  when the block raises;
- :func:`progress_bar` is a ``tqdm.auto`` bar that stays silent under nbgrader, which gives no
  points to a test cell that writes to stderr.
"""

import os
import random
from contextlib import contextmanager

import numpy as np
import torch

__all__ = [
    "deterministic",
    "eval_mode",
    "progress_bar",
    "resolve_device",
    "set_seed",
    "torch_threads",
]


def set_seed(seed):
    """Seed Python's, numpy's and PyTorch's random generators (CPU and CUDA).

    Examples
    --------
    >>> set_seed(0); a = torch.rand(2)
    >>> set_seed(0); bool((a == torch.rand(2)).all())
    True
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"`seed` must be an int, got {type(seed).__name__}")
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the legacy global generator is what old code uses)
    torch.manual_seed(seed)  # also seeds every CUDA device


def resolve_device(device="auto"):
    """``"auto"`` -> CUDA when available, else CPU; anything else goes to ``torch.device``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@contextmanager
def torch_threads(num_threads):
    """Within the block ``torch.get_num_threads() == num_threads``; ``None`` changes nothing.

    Usable as a decorator too (``@torch_threads(1)``).

    Examples
    --------
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if num_threads is not None and (
        not isinstance(num_threads, int) or isinstance(num_threads, bool) or num_threads < 1
    ):
        raise ValueError(f"`num_threads` must be a positive integer or None, got {num_threads!r}")
    before = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def deterministic(num_threads=1):
    """Within the block torch uses deterministic algorithms only, on ``num_threads`` threads;
    the caller's settings come back after, even when the block raises.

    With a seed set, a training run inside repeats to the bit on the same machine and library
    (the shipped weights' recipes, :mod:`cvlib.experiments.pretrain`).

    Examples
    --------
    >>> with deterministic():
    ...     torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    (True, 1)
    """
    before = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    torch.use_deterministic_algorithms(True)
    try:
        with torch_threads(num_threads):
            yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])


@contextmanager
def eval_mode(model, mode=False):
    """Within the block ``model.training == mode`` (evaluation by default); restored after.

    Examples
    --------
    >>> net = torch.nn.Dropout().train()
    >>> with eval_mode(net):
    ...     net.training
    False
    >>> net.training
    True
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"`model` must be a torch.nn.Module, got {type(model).__name__}")
    was_training = model.training
    model.train(mode)
    try:
        yield model
    finally:
        model.train(was_training)


def progress_bar(iterable, enabled=True, **kwargs):
    """A ``tqdm.auto`` bar over ``iterable``, disabled when asked or when ``NBGRADER_EXECUTION`` is
    set (nbgrader's autograding); ``kwargs`` go to tqdm (``desc``, ``unit``, ...)."""
    from tqdm.auto import tqdm

    silent = not enabled or bool(os.environ.get("NBGRADER_EXECUTION"))
    return tqdm(iterable, disable=silent, leave=False, **kwargs)
