"""Semantic segmentation: a small fully convolutional network and its metrics.

- :mod:`cvlib.segmentation.fcn`: :class:`FCN`, :func:`fcn_small`;
- :mod:`cvlib.segmentation.metrics`: :func:`pixel_accuracy`, :func:`mean_iou`, ...;
- :mod:`cvlib.segmentation.train`: :func:`train_segmenter`, :func:`evaluate_segmenter`,
  :func:`fcn_experiment` (the benchmark's figures).
"""

from .fcn import FCN, fcn_small
from .metrics import confusion_matrix, iou_per_class, mean_iou, pixel_accuracy
from .train import evaluate_segmenter, fcn_experiment, predict_masks, train_segmenter

__all__ = [
    "FCN",
    "confusion_matrix",
    "evaluate_segmenter",
    "fcn_experiment",
    "fcn_small",
    "iou_per_class",
    "mean_iou",
    "pixel_accuracy",
    "predict_masks",
    "train_segmenter",
]
