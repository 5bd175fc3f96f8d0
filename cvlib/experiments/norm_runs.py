"""What the deep-training chapter's two normalisation measurements share: one training run of
:class:`~cvlib.models.NormCNN` (on Fashion-MNIST photographs or the 8x8 digits,
:mod:`~cvlib.experiments.deep_data`), its result, and starting a grid of runs.

:mod:`~cvlib.experiments.batchnorm_rates` and :mod:`~cvlib.experiments.small_batches` each build a
grid of :func:`train_one` calls, keyed ``(norm, lr)`` or ``(norm, batch_size)``; :func:`run_grid`
runs one in worker processes, :func:`submit_grid` starts it on a :class:`cvlib.train.Workers`
pool and returns at once (collect it with ``.result()``).
"""

import math
import time
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader

from cvlib.models import NormCNN
from cvlib.train import Pending, evaluate, fit, run_parallel, set_seed, torch_threads

from .deep_data import splits
from .settings import resolve

__all__ = ["NormResult", "run_grid", "submit_grid", "train_one"]


@dataclass
class NormResult:
    """``accuracy[key]`` and ``train_loss[key]`` per run; ``key`` is ``(norm, lr)`` or
    ``(norm, batch_size)``. A loss that became NaN or infinite is stored as ``inf``."""

    accuracy: dict
    train_loss: dict
    seconds: float
    settings: object


def train_one(norm, seed, epochs, batch_size, lr, momentum=None, groups=4, data="fashion"):
    """One run: ``(validation accuracy, last epoch's training loss)``; Adam unless ``momentum``.

    The network trains on the training images of ``data`` (``"fashion"`` or ``"digits"``, 8x8,
    :func:`cvlib.experiments.deep_data.splits`) and is scored on its validation images, held out
    of the training file: the comparison of settings never looks at a test split. ``seed`` sets
    the initial weights and the order of the batches; the images are the same for every seed."""
    with torch_threads(1):
        train, val = splits(data)
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
        accuracy = evaluate(model, DataLoader(val, batch_size=512), device="cpu").accuracy
    loss = history.train_loss[-1]
    return accuracy, loss if math.isfinite(loss) else math.inf


def _result(keys, results, settings, start):
    return NormResult(
        accuracy={k: acc for k, (acc, _) in zip(keys, results, strict=True)},
        train_loss={k: loss for k, (_, loss) in zip(keys, results, strict=True)},
        seconds=time.perf_counter() - start,
        settings=settings,
    )


def run_grid(settings_class, grid, settings, overrides):
    """Resolve the settings, then every ``train_one(**job)`` of ``grid(settings)``, one process
    per core; a :class:`NormResult`."""
    start = time.perf_counter()
    s = resolve(settings_class, settings, overrides)
    keys, jobs = grid(s)
    return _result(keys, run_parallel(train_one, jobs), s, start)


def submit_grid(workers, settings_class, grid, settings, overrides):
    """Resolve the settings, then start every ``train_one(**job)`` on ``workers``; a
    :class:`Pending`."""
    start = time.perf_counter()
    s = resolve(settings_class, settings, overrides)
    keys, jobs = grid(s)
    futures = [workers.submit(train_one, **job) for job in jobs]
    return Pending(futures, lambda outcomes: _result(keys, outcomes, s, start))
