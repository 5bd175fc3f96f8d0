"""Object detection on small images: boxes, proposals, a box regressor, an R-CNN-style pipeline.

- :mod:`cvlib.detection.boxes`: ``box_area``, ``box_iou``, ``encode_boxes``, ``decode_boxes``,
  ``nms``;
- :mod:`cvlib.detection.proposals`: sliding windows, their labels, crop and warp;
- :mod:`cvlib.detection.regressor`: single-object localisation (class head + box head);
- :mod:`cvlib.detection.rcnn`: train the crop classifier, detect, evaluate.

The networks are :class:`cvlib.models.BoxRegressor` and :class:`cvlib.models.ProposalClassifier`;
the chapter's measurements are :mod:`cvlib.experiments.regressor` and
:mod:`cvlib.experiments.rcnn`.
"""

from .boxes import box_area, box_iou, decode_boxes, encode_boxes, nms
from .proposals import crop_and_warp, label_proposals, sliding_window_proposals
from .rcnn import detect, evaluate_detector, train_rcnn
from .regressor import evaluate_regressor, localisation_loss, predict_boxes, train_regressor

__all__ = [
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
    "sliding_window_proposals",
    "train_rcnn",
    "train_regressor",
]
