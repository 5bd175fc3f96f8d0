"""Chapter 8's normalisation measurements on the 8x8 digits, with :class:`~cvlib.models.NormCNN`.

Two questions, each a grid of short, independent trainings (one process per core):

- :func:`run_learning_rates`: does batch norm let a network train at learning rates that break
  it without? The same network with ``norm="none"`` and ``norm="batch"``, trained by SGD with
  momentum at each learning rate of ``lrs`` for ``epochs``.
- :func:`run_batch_sizes`: what happens to batch, group and layer norm when batches are tiny?
  Each normalisation at each batch size, trained by Adam for the same number of epochs (so the
  same images, seen the same number of times).

Every run records the test accuracy and the last epoch's mean training loss, keyed
``(norm, lr)`` or ``(norm, batch_size)``. :func:`submit` starts either grid on a
:class:`cvlib.train.Workers` pool and returns at once, so a chapter can start the runs first
and collect them (``.result()``) where it discusses them.

S. Ioffe, C. Szegedy, "Batch normalization", ICML 2015 (Sec. 3.3: higher learning rates);
Y. Wu, K. He, "Group normalization", ECCV 2018 (Sec. 4.1: small batches).

Examples
--------
>>> LearningRates().lrs
(0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
"""

import math
import time
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader

from cvlib.data import digits
from cvlib.models import NormCNN
from cvlib.train import evaluate, fit, run_parallel, set_seed, torch_threads

from .settings import resolve

__all__ = [
    "BatchSizes",
    "LearningRates",
    "NormResult",
    "Pending",
    "run_batch_sizes",
    "run_learning_rates",
    "submit",
]


@dataclass(frozen=True)
class LearningRates:
    """SGD (momentum ``momentum``) at each of ``lrs``, batches of ``batch_size``."""

    norms: tuple = ("none", "batch")
    lrs: tuple = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
    epochs: int = 3
    batch_size: int = 32
    momentum: float = 0.9
    seed: int = 0


@dataclass(frozen=True)
class BatchSizes:
    """Adam at ``lr`` with each of ``batch_sizes``, ``epochs`` each."""

    norms: tuple = ("batch", "group", "layer")
    batch_sizes: tuple = (1, 2, 32)
    epochs: int = 1
    lr: float = 1e-3
    groups: int = 4
    seed: int = 0


@dataclass
class NormResult:
    """``accuracy[key]`` and ``train_loss[key]`` per run; ``key`` is ``(norm, lr)`` or
    ``(norm, batch_size)``. A loss that became NaN or infinite is stored as ``inf``."""

    accuracy: dict
    train_loss: dict
    seconds: float
    settings: object


def train_one(norm, seed, epochs, batch_size, lr, momentum=None, groups=4):
    """One run: ``(test accuracy, last epoch's training loss)``; Adam unless ``momentum``."""
    with torch_threads(1):
        train, test = (digits(size=8, split=split) for split in ("train", "test"))
        set_seed(seed)
        model = NormCNN(norm, num_classes=10, groups=groups)
        loader = DataLoader(
            train,
            batch_size=batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(seed),
        )
        optimizer = (
            torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
            if momentum is not None
            else torch.optim.Adam(model.parameters(), lr=lr)
        )
        history = fit(
            model,
            loader,
            epochs=epochs,
            optimizer=optimizer,
            device="cpu",
            progress=False,
            channels_last=True,
        )
        accuracy = evaluate(model, DataLoader(test, batch_size=512), device="cpu").accuracy
    loss = history.train_loss[-1]
    return accuracy, loss if math.isfinite(loss) else math.inf


def _grid(kind, settings, overrides):
    """``(settings, keys, jobs)`` of one grid; the slowest runs (smallest batches) first."""
    if kind == "learning_rates":
        s = resolve(LearningRates, settings, overrides)
        keys = [(norm, lr) for norm in s.norms for lr in s.lrs]
        common = dict(seed=s.seed, epochs=s.epochs, batch_size=s.batch_size, momentum=s.momentum)
        return s, keys, [dict(norm=n, lr=lr, **common) for n, lr in keys]
    if kind == "batch_sizes":
        s = resolve(BatchSizes, settings, overrides)
        keys = [(norm, b) for b in sorted(s.batch_sizes) for norm in s.norms]
        common = dict(seed=s.seed, epochs=s.epochs, lr=s.lr, groups=s.groups)
        return s, keys, [dict(norm=n, batch_size=b, **common) for n, b in keys]
    raise ValueError(f"`kind` must be 'learning_rates' or 'batch_sizes', got {kind!r}")


def _result(keys, results, settings, start):
    return NormResult(
        accuracy={k: acc for k, (acc, _) in zip(keys, results, strict=True)},
        train_loss={k: loss for k, (_, loss) in zip(keys, results, strict=True)},
        seconds=time.perf_counter() - start,
        settings=settings,
    )


@dataclass
class Pending:
    """Runs started by :func:`submit`; :meth:`result` waits for them."""

    keys: list
    futures: list
    settings: object
    start: float

    def result(self):
        """The :class:`NormResult` (``seconds`` counts from the submission)."""
        return _result(self.keys, [f.result() for f in self.futures], self.settings, self.start)


def submit(workers, kind, settings=None, **overrides):
    """Start the grid ``kind`` (``"learning_rates"`` or ``"batch_sizes"``) on ``workers``.

    Parameters
    ----------
    workers : cvlib.train.Workers
    kind : str
    settings : LearningRates or BatchSizes, optional
        With keyword ``overrides`` of its fields, as in :func:`run_learning_rates`.

    Returns
    -------
    Pending
        ``.result()`` gives what :func:`run_learning_rates` or :func:`run_batch_sizes` would.
    """
    start = time.perf_counter()
    s, keys, jobs = _grid(kind, settings, overrides)
    return Pending(keys, [workers.submit(train_one, **job) for job in jobs], s, start)


def run_learning_rates(settings=None, **overrides):
    """Every ``(norm, lr)`` of a :class:`LearningRates`; a :class:`NormResult`."""
    start = time.perf_counter()
    s, keys, jobs = _grid("learning_rates", settings, overrides)
    return _result(keys, run_parallel(train_one, jobs), s, start)


def run_batch_sizes(settings=None, **overrides):
    """Every ``(norm, batch_size)`` of a :class:`BatchSizes`; a :class:`NormResult`."""
    start = time.perf_counter()
    s, keys, jobs = _grid("batch_sizes", settings, overrides)
    return _result(keys, run_parallel(train_one, jobs), s, start)
