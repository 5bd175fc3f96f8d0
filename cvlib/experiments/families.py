"""The classic families trained on Fashion-MNIST under one recipe (the architectures chapter).

Every network of :data:`cvlib.models.FAMILIES` gets the same data, the same optimiser, the same
epochs and the same seed: Adam at ``lr`` on ``n_train`` training images drawn at random with the
seed, in batches of ``batch_size``, for ``epochs`` epochs; the learning curves are read on
``n_val`` other training images; the final figure is the accuracy on the 10,000 test images.
One torch thread and deterministic algorithms make the run repeatable to the bit on one
machine. ``python -m cvlib.experiments.pretrain NAME`` runs it and ships the result
(:mod:`cvlib.experiments.pretrain`); the chapter loads those files.
"""

import platform
import time
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cvlib.data import fashion_mnist
from cvlib.models import FAMILIES, fashion_net
from cvlib.probes import summary
from cvlib.train import History, deterministic, evaluate, fit, set_seed

from .settings import resolve

__all__ = ["Result", "Settings", "run", "splits"]


@dataclass(frozen=True)
class Settings:
    name: str = "lenet"
    n_train: int = 10_000  # a sixth of the training file: about 1,000 images per class
    n_val: int = 1_000
    epochs: int = 8
    lr: float = 2e-3
    batch_size: int = 64
    seed: int = 0


@dataclass
class Result:
    model: nn.Module  # in eval mode
    history: History
    test_accuracy: float  # on the 10,000 test images
    confusion: list  # (10, 10) counts on them: rows true, columns predicted
    params: int
    macs: int  # multiply-adds per 28x28 image (cvlib.summary)
    seconds: float  # the whole training, validation after every epoch included
    machine: str
    settings: Settings


def splits(n_train, n_val, seed):
    """``(train, val)`` TensorDatasets: disjoint random parts of the training file."""
    data = fashion_mnist("train")
    if not (0 < n_train and 0 < n_val and n_train + n_val <= len(data)):
        raise ValueError(f"`n_train` + `n_val` must fit in {len(data)}, got {n_train} + {n_val}")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    train, val = order[:n_train], order[n_train : n_train + n_val]
    return (TensorDataset(data.images[i], data.labels[i]) for i in (train, val))


def run(settings=None, progress=True, **overrides):
    """Train one family under the recipe; a :class:`Result`."""
    s = resolve(Settings, settings, overrides)
    if s.name not in FAMILIES:
        raise ValueError(f"`name` must be one of {list(FAMILIES)}, got {s.name!r}")
    if s.epochs < 1:
        raise ValueError(f"`epochs` must be at least 1, got {s.epochs}")
    with deterministic():  # one thread; the caller's settings come back after
        return _train(s, progress)


def _train(s, progress):
    set_seed(s.seed)
    train, val = splits(s.n_train, s.n_val, s.seed)
    model = fashion_net(s.name)
    g = torch.Generator().manual_seed(s.seed)
    loader = DataLoader(train, batch_size=s.batch_size, shuffle=True, generator=g)
    start = time.perf_counter()
    history = fit(
        model,
        loader,
        DataLoader(val, batch_size=500),
        epochs=s.epochs,
        lr=s.lr,
        device="cpu",
        progress=progress,
    )
    seconds = time.perf_counter() - start
    test = fashion_mnist("test")
    result = evaluate(model, DataLoader(test, batch_size=500), device="cpu")
    info = summary(model.eval(), (1, 28, 28))
    return Result(
        model=model.eval(),
        history=history,
        test_accuracy=result.accuracy,
        confusion=result.confusion.tolist(),
        params=info.total_params,
        macs=info.total_macs,
        seconds=seconds,
        machine=f"{platform.machine()}, {platform.processor() or 'CPU'}",
        settings=s,
    )
