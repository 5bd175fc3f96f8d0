"""The localisation measurement of the chapter beyond classification:
:class:`~cvlib.models.BoxRegressor` on one-shape images.

Trained on ``shapes(n_train, seed=seed)`` and scored on ``shapes(n_test, seed=seed + 1000)``
(:data:`cvlib.data.TEST_SEED_OFFSET`): mean IoU of the predicted boxes, the share above 0.5,
class accuracy, and the IoU of always predicting the mean training box (the baseline to beat).
"""

import time
from dataclasses import dataclass

import torch
from torch import nn

from cvlib.data import TEST_SEED_OFFSET, ShapesDataset, shapes
from cvlib.detection import box_iou, evaluate_regressor, train_regressor
from cvlib.models import BoxRegressor
from cvlib.train import torch_threads

from .settings import resolve

__all__ = ["Result", "Settings", "run"]


@dataclass(frozen=True)
class Settings:
    """``num_threads`` torch threads meanwhile (``None``: leave the setting alone)."""

    n_train: int = 3000
    n_test: int = 300
    size: int = 32
    epochs: int = 8
    seed: int = 0
    progress: bool = False
    num_threads: int | None = 1


@dataclass
class Result:
    mean_iou: float
    iou_above_half: float  # share of test boxes with IoU > 0.5
    accuracy: float
    baseline_iou: float  # mean IoU of always predicting the mean training box
    losses: list
    seconds: float
    model: nn.Module  # in eval mode
    test: ShapesDataset
    settings: Settings


def run(settings=None, **overrides):
    """Train and score the box regressor; a :class:`Result`."""
    s = resolve(Settings, settings, overrides)
    torch.manual_seed(s.seed)
    train = shapes(s.n_train, size=s.size, max_objects=1, seed=s.seed)
    test = shapes(s.n_test, size=s.size, max_objects=1, seed=s.seed + TEST_SEED_OFFSET)
    model = BoxRegressor(image_size=s.size)
    with torch_threads(s.num_threads):  # small networks: one thread is faster
        start = time.perf_counter()
        losses = train_regressor(
            model,
            train.images,
            train.labels,
            train.first_boxes(),
            epochs=s.epochs,
            seed=s.seed,
            progress=s.progress,
        )
        scores = evaluate_regressor(model, test.images, test.labels, test.first_boxes())
        mean_box = train.first_boxes().mean(dim=0, keepdim=True)  # (1, 4)
        baseline = box_iou(mean_box, test.first_boxes()).mean().item()
    return Result(
        mean_iou=scores["mean_iou"],
        iou_above_half=scores["iou_above_0.5"],
        accuracy=scores["accuracy"],
        baseline_iou=baseline,
        losses=losses,
        seconds=time.perf_counter() - start,
        model=model.eval(),
        test=test,
        settings=s,
    )
