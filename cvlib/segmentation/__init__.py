"""Semantic segmentation: per-pixel metrics, training and prediction.

- :mod:`cvlib.segmentation.metrics`: :func:`pixel_accuracy`, :func:`mean_iou`, ...;
- :mod:`cvlib.segmentation.segmenter`: :func:`train_segmenter`, :func:`predict_masks`,
  :func:`evaluate_segmenter`.

The network is :class:`cvlib.models.FCN`; the chapter's measurement is
:mod:`cvlib.experiments.segmentation`.
"""

from .metrics import confusion_matrix, iou_per_class, mean_iou, pixel_accuracy
from .segmenter import evaluate_segmenter, predict_masks, train_segmenter

__all__ = [
    "confusion_matrix",
    "evaluate_segmenter",
    "iou_per_class",
    "mean_iou",
    "pixel_accuracy",
    "predict_masks",
    "train_segmenter",
]
