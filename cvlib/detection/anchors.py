"""Anchor boxes (Faster R-CNN; Ren et al., 2015): fixed reference boxes at every feature cell.

Instead of proposing windows by search, a region-proposal network or a one-stage detector
(SSD, YOLO v2+, RetinaNet) places ``A`` boxes of chosen sizes and aspect ratios at every cell
of a feature map with stride ``s``, and predicts for each of them "object or not" and the
offsets (:func:`~cvlib.detection.boxes.encode_boxes`) that move it onto the object. An anchor
of size ``a`` and aspect ratio ``r = h / w`` has area ``a**2``: ``w = a / sqrt(r)``,
``h = a * sqrt(r)``.

The order is torchvision's (``AnchorGenerator``): cell by cell in reading order, and at each
cell ratio by ratio, size by size.
"""

import math

import torch

from .boxes import box_iou

__all__ = ["anchor_boxes", "best_anchor_iou"]


def anchor_boxes(
    feature_size, stride, sizes=(8.0, 16.0), aspect_ratios=(0.5, 1.0, 2.0), offset=0.5
):
    """Every anchor of a ``feature_size`` grid: ``H_f * W_f * len(ratios) * len(sizes)`` boxes.

    Parameters
    ----------
    feature_size : int or (int, int)
        ``(H_f, W_f)`` cells of the feature map.
    stride : int or float
        Image pixels per cell.
    sizes : sequence of float
        Square root of each anchor's area, in pixels.
    aspect_ratios : sequence of float
        ``h / w`` of each anchor.
    offset : float
        Where in its cell an anchor is centred: 0.5 the cell's centre, 0 its top-left corner
        (torchvision's choice).

    Returns
    -------
    Tensor, shape (H_f * W_f * A, 4)
        ``xyxy`` boxes, ``A = len(aspect_ratios) * len(sizes)`` per cell.

    Examples
    --------
    >>> anchors = anchor_boxes(2, stride=16, sizes=(16,), aspect_ratios=(1.0, 4.0))
    >>> anchors.shape  # 2 x 2 cells, 2 anchors each
    torch.Size([8, 4])
    >>> anchors[:2]  # the first cell, centred at (8, 8): a 16 x 16 square, an 8 x 32 box
    tensor([[ 0.,  0., 16., 16.],
            [ 4., -8., 12., 24.]])
    """
    fh, fw = (feature_size, feature_size) if isinstance(feature_size, int) else feature_size
    if fh < 1 or fw < 1 or stride <= 0:
        raise ValueError(
            f"`feature_size` must be positive and `stride` > 0, got {fh, fw}, {stride}"
        )
    if not sizes or not aspect_ratios or min(sizes) <= 0 or min(aspect_ratios) <= 0:
        raise ValueError("`sizes` and `aspect_ratios` must be non-empty and positive")
    shapes = [
        (a / math.sqrt(r), a * math.sqrt(r)) for r in aspect_ratios for a in sizes
    ]  # (w, h), ratio by ratio, size by size
    half = torch.tensor([[-w / 2, -h / 2, w / 2, h / 2] for w, h in shapes])  # (A, 4)
    ys = (torch.arange(fh, dtype=torch.float32) + offset) * stride  # (H_f,)
    xs = (torch.arange(fw, dtype=torch.float32) + offset) * stride  # (W_f,)
    cy, cx = torch.meshgrid(ys, xs, indexing="ij")  # (H_f, W_f)
    centres = torch.stack([cx, cy, cx, cy], dim=-1).reshape(-1, 1, 4)  # (H_f * W_f, 1, 4)
    return (centres + half[None]).reshape(-1, 4)  # (H_f * W_f * A, 4)


def best_anchor_iou(anchors, boxes):
    """For each ground-truth box, its best IoU with any anchor and that anchor's index.

    A detector built on anchors can only find an object well if some anchor already overlaps
    it: Faster R-CNN calls an anchor positive at IoU >= 0.7, and also the best anchor of every
    object, so that none is left without one.

    Parameters
    ----------
    anchors : Tensor, shape (A, 4)
    boxes : Tensor, shape (G, 4)

    Returns
    -------
    iou : Tensor, shape (G,)
    index : Tensor of int64, shape (G,)

    Examples
    --------
    >>> anchors = anchor_boxes(2, stride=16, sizes=(16,), aspect_ratios=(1.0,))
    >>> best_anchor_iou(anchors, torch.tensor([[16.0, 0.0, 32.0, 16.0]]))
    (tensor([1.]), tensor([1]))
    """
    best, index = box_iou(boxes.float(), anchors.float()).max(dim=1)  # (G,), (G,) over (G, A)
    return best, index
