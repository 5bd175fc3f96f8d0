"""Object detection on small images: boxes, IoU, NMS, a box regressor, an R-CNN-style pipeline.

- :mod:`cvlib.detection.boxes`: ``box_area``, ``box_iou``, ``encode_boxes``, ``decode_boxes``,
  ``nms``;
- :mod:`cvlib.detection.regressor`: single-object localisation (class head + box head),
  :func:`regressor_experiment`;
- :mod:`cvlib.detection.rcnn`: proposals, crop and warp, classify, refine, NMS,
  :func:`rcnn_experiment`.
"""

from .boxes import box_area, box_iou, decode_boxes, encode_boxes, nms
from .rcnn import (
    ProposalClassifier,
    crop_and_warp,
    detect,
    evaluate_detector,
    label_proposals,
    rcnn_experiment,
    sliding_window_proposals,
    train_rcnn,
)
from .regressor import (
    BoxRegressor,
    evaluate_regressor,
    localisation_loss,
    predict_boxes,
    regressor_experiment,
    train_regressor,
)

__all__ = [
    "BoxRegressor",
    "ProposalClassifier",
    "box_area",
    "box_iou",
    "crop_and_warp",
    "decode_boxes",
    "detect",
    "encode_boxes",
    "evaluate_detector",
    "evaluate_regressor",
    "label_proposals",
    "localisation_loss",
    "nms",
    "predict_boxes",
    "rcnn_experiment",
    "regressor_experiment",
    "sliding_window_proposals",
    "train_rcnn",
    "train_regressor",
]
