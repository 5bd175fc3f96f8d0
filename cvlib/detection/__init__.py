"""Object detection on small images: boxes, proposals, a box regressor, an R-CNN-style pipeline
and a one-stage (SSD-like) detector.

- :mod:`cvlib.detection.boxes`: ``box_area``, ``box_iou``, ``encode_boxes``, ``decode_boxes``,
  ``nms``;
- :mod:`cvlib.detection.proposals`: sliding windows, their labels, crop and warp;
- :mod:`cvlib.detection.regressor`: single-object localisation (class head + box head);
- :mod:`cvlib.detection.rcnn`: train the crop classifier, detect, evaluate;
- :mod:`cvlib.detection.metrics`: precision-recall curves, average precision, COCO's mAP;
- :mod:`cvlib.detection.anchors`: anchor boxes at every feature cell (Faster R-CNN, SSD);
- :mod:`cvlib.detection.roi`: RoI pooling by hand (Fast R-CNN);
- :mod:`cvlib.detection.ssd`: a one-stage detector's anchor labelling, loss with hard-negative
  mining, training and decoding (SSD).

The networks are :class:`cvlib.models.BoxRegressor` and :class:`cvlib.models.ProposalClassifier`;
the one-stage detector is :class:`cvlib.models.ssd.TinySSD`; the chapter's measurements are
:mod:`cvlib.experiments.regressor`, :mod:`cvlib.experiments.rcnn` and
:mod:`cvlib.experiments.ssd`.
"""

from .anchors import anchor_boxes, best_anchor_iou
from .boxes import box_area, box_iou, decode_boxes, encode_boxes, nms
from .metrics import (
    COCO_IOU_THRESHOLDS,
    average_precision,
    mean_average_precision,
    precision_recall_curve,
)
from .proposals import crop_and_warp, label_proposals, sliding_window_proposals
from .rcnn import detect, evaluate_detector, train_rcnn
from .regressor import evaluate_regressor, localisation_loss, predict_boxes, train_regressor
from .roi import roi_bins, roi_pool
from .ssd import SSD_BOX_WEIGHTS, label_anchors, ssd_anchors, ssd_detect, ssd_loss, train_ssd

__all__ = [
    "COCO_IOU_THRESHOLDS",
    "SSD_BOX_WEIGHTS",
    "anchor_boxes",
    "average_precision",
    "best_anchor_iou",
    "box_area",
    "box_iou",
    "crop_and_warp",
    "decode_boxes",
    "detect",
    "encode_boxes",
    "evaluate_detector",
    "evaluate_regressor",
    "label_anchors",
    "label_proposals",
    "localisation_loss",
    "mean_average_precision",
    "nms",
    "precision_recall_curve",
    "predict_boxes",
    "roi_bins",
    "roi_pool",
    "sliding_window_proposals",
    "ssd_anchors",
    "ssd_detect",
    "ssd_loss",
    "train_rcnn",
    "train_regressor",
    "train_ssd",
]
