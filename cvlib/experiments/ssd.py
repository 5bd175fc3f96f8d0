"""The one-stage detector of the chapter beyond classification, on the R-CNN-style pipeline's data.

:class:`cvlib.models.ssd.TinySSD` is trained by :func:`cvlib.detection.train_ssd` on
``shapes(n_train, seed=seed)`` and evaluated on ``shapes(n_test, seed=seed + 1000)``, images of up
to two shapes, 32 x 32: with the defaults, the very images on which :mod:`cvlib.experiments.rcnn`
trains and tests its crop classifier. The test detections keep every score down to
``score_threshold`` and are scored by COCO's average precision
(:func:`cvlib.detection.mean_average_precision`), as the R-CNN-style pipeline's are. Detection runs
one image at a time, as :func:`cvlib.detection.detect` does, and its time per image is recorded.

The shipped checkpoint is this run under deterministic algorithms
(:mod:`cvlib.experiments.pretrain_ssd`).
"""

import time
from dataclasses import dataclass

import torch
from torch import nn

from cvlib.data import TEST_SEED_OFFSET, ShapesDataset, shapes
from cvlib.detection import mean_average_precision, ssd_detect, train_ssd
from cvlib.models.ssd import TinySSD
from cvlib.train import torch_threads

from .settings import resolve

__all__ = ["Result", "Settings", "evaluate", "run"]


@dataclass(frozen=True)
class Settings:
    n_train: int = 600
    n_test: int = 100
    size: int = 32
    max_objects: int = 2
    epochs: int = 20
    lr: float = 1e-2
    batch_size: int = 32
    pos_iou: float = 0.5
    neg_iou: float = 0.4
    neg_ratio: int = 3
    seed: int = 0
    progress: bool = False
    num_threads: int | None = 1
    score_threshold: float = 0.05  # keep low-scoring detections: AP needs the whole curve


@dataclass
class Result:
    """``history``: the mean loss and its two terms per epoch (:func:`cvlib.detection.train_ssd`);
    ``seconds``: training time; ``ap``: :func:`cvlib.detection.mean_average_precision` of
    ``detections`` against ``targets`` on ``test``; ``seconds_per_image``: detection time."""

    model: nn.Module
    history: dict
    seconds: float
    ap: dict
    detections: list
    targets: list
    seconds_per_image: float
    test: ShapesDataset
    settings: Settings


def evaluate(model, test, score_threshold=0.05):
    """``(ap, detections, targets, seconds per image)`` of ``model`` on a detection data set.

    Each image is detected on its own (a batch of one), as a deployed detector would see it.
    """
    start = time.perf_counter()
    detections = [
        ssd_detect(model, image[None], score_threshold=score_threshold)[0] for image in test.images
    ]
    seconds = (time.perf_counter() - start) / len(test)
    targets = [{"boxes": b, "labels": l} for b, l in zip(test.boxes, test.box_labels, strict=True)]
    return mean_average_precision(detections, targets), detections, targets, seconds


def run(settings=None, **overrides):
    """Train the one-stage detector and measure its AP on the held-out images; a :class:`Result`."""
    s = resolve(Settings, settings, overrides)
    torch.manual_seed(s.seed)
    kind = dict(size=s.size, max_objects=s.max_objects, task="detect")
    train = shapes(s.n_train, seed=s.seed, **kind)
    test = shapes(s.n_test, seed=s.seed + TEST_SEED_OFFSET, **kind)
    model = TinySSD(num_classes=len(train.classes), in_channels=train.images.shape[1])
    with torch_threads(s.num_threads):  # a small network: one thread is fastest
        start = time.perf_counter()
        history = train_ssd(
            model, train, epochs=s.epochs, lr=s.lr, batch_size=s.batch_size, pos_iou=s.pos_iou,
            neg_iou=s.neg_iou, neg_ratio=s.neg_ratio, seed=s.seed, progress=s.progress,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        model.to(memory_format=torch.contiguous_format)  # as a freshly loaded checkpoint is
        ap, detections, targets, per_image = evaluate(model.eval(), test, s.score_threshold)
    return Result(model, history, seconds, ap, detections, targets, per_image, test, s)
