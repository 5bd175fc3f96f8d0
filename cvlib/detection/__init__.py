"""Object detection on small images: boxes, IoU, NMS, a box regressor, an R-CNN-style pipeline.

- :mod:`cvlib.detection.boxes`: ``box_area``, ``box_iou``, ``encode_boxes``, ``decode_boxes``,
  ``nms``;
- :mod:`cvlib.detection.regressor`: single-object localisation (class head + box head);
- :mod:`cvlib.detection.rcnn`: proposals, crop and warp, classify, NMS.
"""

from .boxes import box_area, box_iou, decode_boxes, encode_boxes, nms

__all__ = ["box_area", "box_iou", "decode_boxes", "encode_boxes", "nms"]
