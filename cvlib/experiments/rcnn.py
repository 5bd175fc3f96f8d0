"""The detection measurement of the chapter beyond classification: the R-CNN-style pipeline
on images of up to two shapes.

Sliding-window proposals, the crop classifier :class:`~cvlib.models.ProposalClassifier`, box
refinement and NMS (:mod:`cvlib.detection`), trained on ``shapes(n_train, seed=seed)`` and
evaluated on ``shapes(n_test, seed=seed + 1000)``: precision and recall at the detector's
score threshold, and COCO's average precision of the detections down to
``ap_score_threshold`` (:func:`cvlib.detection.mean_average_precision`).
"""

import time
from dataclasses import dataclass

import torch
from torch import nn

from cvlib.data import TEST_SEED_OFFSET, ShapesDataset, shapes
from cvlib.detection import (
    detect,
    evaluate_detector,
    mean_average_precision,
    sliding_window_proposals,
    train_rcnn,
)
from cvlib.models import ProposalClassifier
from cvlib.train import torch_threads

from .settings import resolve

__all__ = ["Result", "Settings", "run"]


@dataclass(frozen=True)
class Settings:
    n_train: int = 600
    n_test: int = 100
    size: int = 32
    max_objects: int = 2
    epochs: int = 6
    seed: int = 0
    progress: bool = False
    num_threads: int | None = 1
    ap_score_threshold: float = 0.05  # keep low-scoring detections: AP needs the whole curve


@dataclass
class Result:
    """``precision``, ``recall``, ``image_accuracy``, ``crop_accuracy``: see
    :func:`cvlib.detection.evaluate_detector`; ``ap``: the dict of
    :func:`cvlib.detection.mean_average_precision` (``"map"`` is COCO's AP@[.5:.95]) of
    ``detections`` (one dict per test image, scores down to ``ap_score_threshold``) against
    ``targets``."""

    precision: float
    recall: float
    image_accuracy: float
    crop_accuracy: float
    num_proposals: int
    num_crops: int
    losses: list
    seconds: float
    model: nn.Module
    proposals: torch.Tensor
    test: ShapesDataset
    settings: Settings
    ap: dict = None
    detections: list = None
    targets: list = None


def run(settings=None, **overrides):
    """Train the crop classifier and evaluate whole-image detection; a :class:`Result`."""
    s = resolve(Settings, settings, overrides)
    torch.manual_seed(s.seed)
    kind = dict(size=s.size, max_objects=s.max_objects, task="detect")
    train = shapes(s.n_train, seed=s.seed, **kind)
    test = shapes(s.n_test, seed=s.seed + TEST_SEED_OFFSET, **kind)
    proposals = sliding_window_proposals(s.size)
    model = ProposalClassifier()
    with torch_threads(s.num_threads):  # small networks: one thread is faster
        start = time.perf_counter()
        losses, crop_labels = train_rcnn(
            model, train, proposals, epochs=s.epochs, seed=s.seed, progress=s.progress
        )
        detections = [
            detect(model, image, proposals, score_threshold=s.ap_score_threshold)
            for image in test.images
        ]
        scores = evaluate_detector(model, test, proposals, detections=detections)
    targets = [{"boxes": b, "labels": l} for b, l in zip(test.boxes, test.box_labels, strict=True)]
    return Result(
        **scores,
        num_proposals=len(proposals),
        num_crops=len(crop_labels),
        losses=losses,
        seconds=time.perf_counter() - start,
        model=model.eval(),
        proposals=proposals,
        test=test,
        settings=s,
        ap=mean_average_precision(detections, targets),
        detections=detections,
        targets=targets,
    )
