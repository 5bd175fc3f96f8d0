"""The overfitting run of the chapter on training, and three cures measured against it.

LeNet-5 (:func:`cvlib.models.lenet5`: about 62,000 weights, no batch normalisation, no dropout)
learns from ``per_class`` training digits of each class, far fewer images than weights, for a
fixed budget of epochs with Adam. Its training loss falls towards zero while the loss on a
validation split held out of the training digits turns up again: it memorises. Against that
baseline ("none"):

- "weight decay": the same run with decoupled weight decay (``torch.optim.AdamW``; every step
  multiplies each weight by ``1 - lr * weight_decay``);
- "augmentation": the same run on randomly turned, zoomed and shifted copies of the images
  (:func:`cvlib.augment.default_augmentation`);
- early stopping, which needs no run of its own: every run watches its validation loss and
  keeps the weights of its best epoch, and *would* stop once ``patience`` epochs pass without a
  new best (the run goes on to the end so that the whole curve can be drawn).

Each seed draws its own training digits, initial weights and batch order, the same for every
method. Only validation data is read: the test split is left to the caller, for the one final
evaluation of the model the validation numbers chose.

Examples
--------
>>> stopping_point([1.0, 0.8, 0.9, 0.7, 0.75, 0.76, 0.8], patience=2)
(4, 6)
>>> stopping_point([1.0, 0.9, 0.8], patience=5)  # never stops: the best is the last epoch
(3, 3)
"""

import copy
import time
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader, TensorDataset

from cvlib import augment as A
from cvlib.data import few_shot
from cvlib.models import lenet5
from cvlib.train import fit, run_parallel, set_seed, torch_threads

from .common import VAL_SIZE, digit_splits
from .result import SeedResults
from .settings import resolve

__all__ = ["METHODS", "OverfitRun", "Overfitting", "Settings", "run", "stopping_point"]

METHODS = ("none", "weight decay", "augmentation")
IMAGE_SIZE = 32  # LeNet-5's input


@dataclass(frozen=True)
class Settings:
    """``per_class`` training digits per class, ``epochs`` of Adam at ``lr`` (batches of
    ``batch_size``), AdamW's ``weight_decay`` for that method, early stopping's ``patience``."""

    per_class: int = 10
    epochs: int = 30
    lr: float = 3e-3
    weight_decay: float = 1.0
    patience: int = 10
    batch_size: int = 32
    seeds: tuple = (0, 1, 2)
    methods: tuple = METHODS
    val_size: int = VAL_SIZE


def stopping_point(val_losses, patience):
    """``(best_epoch, stop_epoch)``, counted from 1, of early stopping with ``patience``.

    Training stops after ``patience`` epochs without a validation loss below the best so far
    (or at the last epoch), and the weights of ``best_epoch``, the best before the stop, are
    kept.
    """
    if not isinstance(patience, int) or patience < 1:
        raise ValueError(f"`patience` must be a positive int, got {patience!r}")
    best, best_epoch = float("inf"), 0
    for epoch, loss in enumerate(val_losses, start=1):
        if loss < best:
            best, best_epoch = loss, epoch
        elif epoch - best_epoch >= patience:
            return best_epoch, epoch
    return best_epoch, len(val_losses)


@dataclass
class OverfitRun:
    """One training run; the lists have one entry per epoch.

    ``state`` holds the weights after the last epoch, ``best_state`` those of ``best_epoch``,
    the epoch early stopping keeps (it would have stopped training at ``stop_epoch``).
    """

    method: str
    seed: int
    train_loss: list
    train_acc: list
    val_loss: list
    val_acc: list
    best_epoch: int
    stop_epoch: int
    state: dict
    best_state: dict
    seconds: float = 0.0

    def model(self, early_stopped=False):
        """A LeNet-5 with this run's final weights (or those early stopping keeps)."""
        model = lenet5(num_classes=10)
        model.load_state_dict(self.best_state if early_stopped else self.state)
        return model.eval()


@dataclass
class Overfitting:
    """Every :class:`OverfitRun`, and the validation accuracy of each method over the seeds.

    The methods of :meth:`val_acc` are those that ran plus ``"early stopping"`` (the baseline's
    weights at its best epoch).
    """

    runs: list
    settings: Settings
    seconds: float = 0.0

    def get(self, method, seed):
        return next(r for r in self.runs if r.method == method and r.seed == seed)

    def val_acc(self, method):
        """Final validation accuracy of ``method``, one value per seed."""
        if method == "early stopping":
            runs = [self.get("none", seed) for seed in self.settings.seeds]
            return [r.val_acc[r.best_epoch - 1] for r in runs]
        return [self.get(method, seed).val_acc[-1] for seed in self.settings.seeds]

    @property
    def methods(self):
        ran = [m for m in METHODS if m in self.settings.methods]
        return ran + (["early stopping"] if "none" in ran else [])

    def val_results(self):
        """The final validation accuracies as :class:`SeedResults` (mean, spread, table)."""
        s = self.settings
        setting = (
            f"LeNet-5, {s.per_class * 10} training digits, {s.epochs} epochs of Adam (lr {s.lr:g}),"
            f" validation accuracy on {s.val_size} held-out training digits"
        )
        accuracies = {m: self.val_acc(m) for m in self.methods}
        return SeedResults(accuracies, tuple(s.seeds), setting, self.seconds)


def run(settings=None, **overrides):
    """Every (seed, method) run, one process per core, the slowest first; an
    :class:`Overfitting`."""
    s = resolve(Settings, settings, overrides)
    if isinstance(s.methods, str) or not s.methods or not set(s.methods) <= set(METHODS):
        raise ValueError(f"`methods` must be names from {METHODS}, got {s.methods!r}")
    start = time.perf_counter()
    order = sorted((m for m in METHODS if m in s.methods), key=lambda m: m != "augmentation")
    jobs = [dict(method=m, seed=seed, settings=s) for m in order for seed in s.seeds]
    return Overfitting(run_parallel(run_one, jobs), s, time.perf_counter() - start)


def run_one(method, seed, settings):
    """One :class:`OverfitRun`; seeded on its own, so the same in any process."""
    s = settings
    with torch_threads(1):
        pool, val, _ = digit_splits(IMAGE_SIZE, s.val_size)
        train = few_shot(TensorDataset(pool.images, pool.labels), s.per_class, seed)
        if method == "augmentation":
            train = A.Augmented(train, A.default_augmentation(IMAGE_SIZE))
        set_seed(seed)
        model = lenet5(num_classes=10)
        decay = s.weight_decay if method == "weight decay" else 0.0
        opt = torch.optim.AdamW(model.parameters(), lr=s.lr, weight_decay=decay)
        keeper = _BestWeights(s.patience)
        g = torch.Generator().manual_seed(seed)
        loader = DataLoader(train, batch_size=s.batch_size, shuffle=True, generator=g)
        start = time.perf_counter()
        val_loader = DataLoader(val, batch_size=len(val))
        h = fit(
            model,
            loader,
            val_loader,
            s.epochs,
            optimizer=opt,
            device="cpu",
            progress=False,
            on_epoch_end=keeper,
        )
    best_epoch, stop_epoch = stopping_point(h.val_loss, s.patience)
    curves = (h.train_loss, h.train_acc, h.val_loss, h.val_acc)
    state = copy.deepcopy(model.state_dict())
    seconds = time.perf_counter() - start
    return OverfitRun(method, seed, *curves, best_epoch, stop_epoch, state, keeper.state, seconds)


class _BestWeights:
    """``fit``'s ``on_epoch_end``: keep a copy of the weights at every new best validation loss,
    until early stopping with ``patience`` would have ended the run."""

    def __init__(self, patience):
        self.patience, self.state = patience, None

    def __call__(self, model, history):
        best, stop = stopping_point(history.val_loss, self.patience)
        epoch = len(history.val_loss)
        if best == epoch and stop == epoch:  # a new best, and training would still be going
            self.state = copy.deepcopy(model.state_dict())
