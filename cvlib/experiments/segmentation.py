"""The segmentation measurement of the chapter beyond classification:
:func:`~cvlib.models.fcn_small` on generated shapes.

About 25-30 s of CPU time with the defaults (1000 training images of 32x32, 12 epochs).
``skip=False`` drops the skip connections; ``background_weight`` below 1 weighs the many
background pixels down in the loss (1 is plain cross-entropy, enough with these settings).
"""

import time
from dataclasses import dataclass

import torch
from torch import nn

from cvlib.data import TEST_SEED_OFFSET, ShapesDataset, shapes
from cvlib.models import fcn_small
from cvlib.segmentation import evaluate_segmenter, train_segmenter
from cvlib.train import torch_threads

from .settings import resolve

__all__ = ["Result", "Settings", "run"]


@dataclass(frozen=True)
class Settings:
    n_train: int = 1000
    n_test: int = 200
    size: int = 32
    max_objects: int = 1
    epochs: int = 12
    seed: int = 0
    skip: bool = True
    background_weight: float = 1.0
    progress: bool = False
    num_threads: int | None = 1


@dataclass
class Result:
    """Scores on the test images; ``iou_per_class`` is (background, circle, square, triangle)."""

    pixel_accuracy: float
    mean_iou: float
    iou_per_class: list
    background_share: float  # pixel accuracy of predicting background everywhere
    losses: list
    seconds: float
    model: nn.Module
    test: ShapesDataset
    settings: Settings


def run(settings=None, **overrides):
    """Train the FCN and score it on held-out shapes; a :class:`Result`."""
    s = resolve(Settings, settings, overrides)
    torch.manual_seed(s.seed)
    kind = dict(size=s.size, max_objects=s.max_objects, task="segment")
    train = shapes(s.n_train, seed=s.seed, **kind)
    test = shapes(s.n_test, seed=s.seed + TEST_SEED_OFFSET, **kind)
    model = fcn_small(skip=s.skip)
    with torch_threads(s.num_threads):  # small networks: one thread is faster
        start = time.perf_counter()
        weights = [s.background_weight, 1.0, 1.0, 1.0]
        losses = train_segmenter(
            model, train, epochs=s.epochs, seed=s.seed, class_weights=weights, progress=s.progress
        )
        scores = evaluate_segmenter(model, test)
    return Result(
        **scores,
        background_share=(test.masks == 0).double().mean().item(),
        losses=losses,
        seconds=time.perf_counter() - start,
        model=model.eval(),
        test=test,
        settings=s,
    )
