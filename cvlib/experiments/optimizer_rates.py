"""The learning-rate sweep of the chapter on training: LeNet-5 with SGD and with Adam.

One network (:func:`cvlib.models.lenet5`, no batch normalisation, so nothing rescues a bad
step size), one seed, one budget of epochs, and a range of learning rates for each of plain
stochastic gradient descent and Adam. Every run starts from the same initial weights and sees
the same mini-batches in the same order; the only difference is the learning rate. The curves
are read on a validation split held out of the training digits
(:func:`cvlib.experiments.common.digit_splits`); the test split is not touched.

Examples
--------
>>> Settings().optimizers
('sgd', 'adam')
>>> LRRun("sgd", 0.1, [2.3, float("nan")], [2.3, float("nan")], [0.1, 0.1]).diverged
True
"""

import math
import time
from dataclasses import dataclass, field

import torch
from torch.utils.data import DataLoader

from cvlib.models import lenet5
from cvlib.train import fit, run_parallel, set_seed, torch_threads

from .common import VAL_SIZE, digit_splits
from .settings import resolve

__all__ = ["OPTIMIZERS", "LRRun", "LRSweep", "Settings", "run", "run_one"]

OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class Settings:
    """Learning rates per optimiser, ``epochs`` over the training part in batches of
    ``batch_size``, one ``seed`` (initial weights and batch order) for every run."""

    sgd_lrs: tuple = (1e-2, 0.1, 0.3, 2.0)
    adam_lrs: tuple = (1e-3, 1e-2, 0.1)
    epochs: int = 5
    batch_size: int = 32
    seed: int = 0
    val_size: int = VAL_SIZE

    @property
    def optimizers(self):
        return OPTIMIZERS

    def lrs(self, optimizer):
        return {"sgd": self.sgd_lrs, "adam": self.adam_lrs}[optimizer]


@dataclass
class LRRun:
    """One run; the lists have one entry per epoch (training loss is the epoch's mean)."""

    optimizer: str
    lr: float
    train_loss: list
    val_loss: list
    val_acc: list
    seconds: float = 0.0

    @property
    def diverged(self):
        """True when the loss left the real numbers, or ended above where it started."""
        losses = self.train_loss + self.val_loss
        return not all(map(math.isfinite, losses)) or self.train_loss[-1] > self.train_loss[0]


@dataclass
class LRSweep:
    """Every :class:`LRRun` of a sweep, with lookups by optimiser."""

    runs: list
    settings: Settings
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def of(self, optimizer):
        """The runs of ``optimizer``, in increasing learning rate."""
        return sorted((r for r in self.runs if r.optimizer == optimizer), key=lambda r: r.lr)

    def best(self, optimizer):
        """The run of ``optimizer`` with the highest final validation accuracy (ties: the lower
        final validation loss)."""
        return max(self.of(optimizer), key=lambda r: (r.val_acc[-1], -r.val_loss[-1]))

    def table(self):
        """Final training loss, validation loss and accuracy of every run, as text."""
        lines = [f"{'optimizer':<9} {'lr':>8} {'train loss':>11} {'val loss':>9} {'val acc':>8}"]
        for optimizer in OPTIMIZERS:
            for r in self.of(optimizer):
                lines.append(
                    f"{optimizer:<9} {r.lr:>8g} {r.train_loss[-1]:>11.3f} {r.val_loss[-1]:>9.3f}"
                    f" {r.val_acc[-1]:>8.3f}" + ("  diverged" if r.diverged else "")
                )
        lines.append(
            f"({len(self.runs)} runs of {self.settings.epochs} epochs, {self.seconds:.0f} s)"
        )
        return "\n".join(lines)


def run(settings=None, **overrides):
    """Every (optimiser, learning rate) run, one process per core; an :class:`LRSweep`."""
    s = resolve(Settings, settings, overrides)
    for name in ("sgd_lrs", "adam_lrs"):
        lrs = getattr(s, name)
        if not lrs or not all(isinstance(lr, int | float) and lr > 0 for lr in lrs):
            raise ValueError(f"`{name}` must be a non-empty tuple of positive numbers, got {lrs!r}")
    start = time.perf_counter()
    jobs = [dict(optimizer=o, lr=lr, settings=s) for o in OPTIMIZERS for lr in s.lrs(o)]
    return LRSweep(run_parallel(run_one, jobs), s, time.perf_counter() - start)


def run_one(optimizer, lr, settings):
    """One :class:`LRRun`; seeded on its own, so the same in any process."""
    s = settings
    with torch_threads(1):
        train, val, _ = digit_splits(32, s.val_size)
        set_seed(s.seed)
        model = lenet5(num_classes=10)
        if optimizer == "sgd":
            opt = torch.optim.SGD(model.parameters(), lr=lr)
        else:
            opt = torch.optim.Adam(model.parameters(), lr=lr)
        g = torch.Generator().manual_seed(s.seed)
        loader = DataLoader(train, batch_size=s.batch_size, shuffle=True, generator=g)
        start = time.perf_counter()
        val_loader = DataLoader(val, batch_size=len(val))
        h = fit(model, loader, val_loader, s.epochs, optimizer=opt, device="cpu", progress=False)
    return LRRun(optimizer, lr, h.train_loss, h.val_loss, h.val_acc, time.perf_counter() - start)
