"""Boxes in pixel ``xyxy`` form: area, intersection over union, R-CNN encoding and NMS.

A box is four numbers ``(x1, y1, x2, y2)``: the top-left and bottom-right corners, with
``x2 >= x1`` and ``y2 >= y1`` (torchvision's convention). Everything here works on float tensors
of shape ``(N, 4)`` and matches :mod:`torchvision.ops` (``box_area``, ``box_iou``, ``nms``).
"""

import torch

__all__ = ["box_area", "box_iou", "decode_boxes", "encode_boxes", "nms"]


def _check_boxes(boxes, name):
    if not isinstance(boxes, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor, got {type(boxes).__name__}")
    if boxes.ndim != 2 or boxes.shape[-1] != 4:
        raise ValueError(f"`{name}` must have shape (N, 4), got {tuple(boxes.shape)}")
    if not boxes.is_floating_point():
        raise TypeError(f"`{name}` must be a floating-point tensor, got {boxes.dtype}")
    if boxes.numel() and ((boxes[:, 2] < boxes[:, 0]).any() or (boxes[:, 3] < boxes[:, 1]).any()):
        raise ValueError(f"`{name}` must be in xyxy form with x2 >= x1 and y2 >= y1")


def box_area(boxes):
    """Area ``(x2 - x1) * (y2 - y1)`` of each box.

    Parameters
    ----------
    boxes : Tensor, shape (N, 4)
        Boxes in ``xyxy`` form.

    Returns
    -------
    Tensor, shape (N,)

    Examples
    --------
    >>> box_area(torch.tensor([[0.0, 0.0, 2.0, 3.0]]))
    tensor([6.])
    """
    _check_boxes(boxes, "boxes")
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])  # (N,)


def box_iou(a, b):
    """Intersection over union of every box in ``a`` with every box in ``b``.

    ``IoU(A, B) = |A ∩ B| / |A ∪ B| = inter / (area(A) + area(B) - inter)``, 0 for disjoint or
    merely touching boxes and 1 for identical ones. Two boxes of zero area give 0, not NaN.

    Parameters
    ----------
    a : Tensor, shape (N, 4)
    b : Tensor, shape (M, 4)
        Boxes in ``xyxy`` form.

    Returns
    -------
    Tensor, shape (N, M)

    Examples
    --------
    >>> a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    >>> b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0]])
    >>> box_iou(a, b)  # overlap 1, union 4 + 4 - 1 = 7
    tensor([[0.1429, 1.0000]])
    """
    _check_boxes(a, "a")
    _check_boxes(b, "b")
    area_a, area_b = box_area(a), box_area(b)  # (N,), (M,)
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])  # (N, M, 2)
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])  # (N, M, 2)
    wh = (bottom_right - top_left).clamp(min=0)  # (N, M, 2)
    inter = wh[..., 0] * wh[..., 1]  # (N, M)
    union = area_a[:, None] + area_b[None, :] - inter  # (N, M)
    return torch.where(union > 0, inter / union.clamp(min=torch.finfo(a.dtype).tiny), 0.0)


def _centre_size(boxes):
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + 0.5 * w, boxes[:, 1] + 0.5 * h, w, h


def _check_pair(boxes, reference, weights):
    _check_boxes(boxes, "boxes")
    _check_boxes(reference, "reference")
    if boxes.shape[0] != reference.shape[0]:
        raise ValueError(
            f"`boxes` has {boxes.shape[0]} rows but `reference` has {reference.shape[0]}"
        )
    if len(weights) != 4 or any(w <= 0 for w in weights):
        raise ValueError(f"`weights` must be four positive numbers, got {weights!r}")
    w, h = reference[:, 2] - reference[:, 0], reference[:, 3] - reference[:, 1]
    if (w <= 0).any() or (h <= 0).any():
        raise ValueError("`reference` boxes must have positive width and height")


def encode_boxes(boxes, reference, weights=(1.0, 1.0, 1.0, 1.0)):
    """Regression targets of R-CNN (Girshick et al., 2014, appendix C) for ``boxes``.

    With a reference box (anchor or proposal) of centre ``(px, py)`` and size ``(pw, ph)`` and a
    target box ``(gx, gy, gw, gh)``::

        dx = wx * (gx - px) / pw      dy = wy * (gy - py) / ph
        dw = ww * log(gw / pw)        dh = wh * log(gh / ph)

    The offsets are scale-invariant, so one regressor serves boxes of every size.
    ``weights = (wx, wy, ww, wh)``; Faster R-CNN uses ``(10, 10, 5, 5)``.

    Parameters
    ----------
    boxes : Tensor, shape (N, 4)
        Target boxes (``xyxy``), positive width and height.
    reference : Tensor, shape (N, 4)
        Anchors or proposals (``xyxy``), positive width and height.
    weights : tuple of 4 floats

    Returns
    -------
    Tensor, shape (N, 4)
        ``(dx, dy, dw, dh)`` per row.

    Examples
    --------
    >>> ref = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    >>> encode_boxes(torch.tensor([[5.0, 0.0, 15.0, 10.0]]), ref)
    tensor([[0.5000, 0.0000, 0.0000, 0.0000]])
    """
    _check_pair(boxes, reference, weights)
    if ((boxes[:, 2] - boxes[:, 0]) <= 0).any() or ((boxes[:, 3] - boxes[:, 1]) <= 0).any():
        raise ValueError("`boxes` must have positive width and height to be encoded")
    wx, wy, ww, wh = weights
    px, py, pw, ph = _centre_size(reference)
    gx, gy, gw, gh = _centre_size(boxes)
    deltas = [
        wx * (gx - px) / pw,
        wy * (gy - py) / ph,
        ww * torch.log(gw / pw),
        wh * torch.log(gh / ph),
    ]
    return torch.stack(deltas, dim=1)  # (N, 4)


def decode_boxes(deltas, reference, weights=(1.0, 1.0, 1.0, 1.0), max_log_scale=4.135):
    """Invert :func:`encode_boxes`: apply offsets ``deltas`` to ``reference`` boxes.

    ``gx = px + pw * dx / wx``, ``gw = pw * exp(dw / ww)`` (likewise for y, h). ``dw`` and ``dh``
    are clamped at ``max_log_scale`` (``log(1000 / 16)`` as in torchvision) so a wild prediction
    cannot overflow ``exp``.

    Parameters
    ----------
    deltas : Tensor, shape (N, 4)
    reference : Tensor, shape (N, 4)
    weights : tuple of 4 floats
    max_log_scale : float

    Returns
    -------
    Tensor, shape (N, 4)
        Boxes in ``xyxy`` form.

    Examples
    --------
    >>> ref = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    >>> decode_boxes(torch.tensor([[0.5, 0.0, 0.0, 0.0]]), ref)
    tensor([[ 5.,  0., 15., 10.]])
    """
    if not isinstance(deltas, torch.Tensor) or deltas.ndim != 2 or deltas.shape[-1] != 4:
        raise ValueError("`deltas` must be a tensor of shape (N, 4)")
    _check_pair(reference, reference, weights)
    if deltas.shape[0] != reference.shape[0]:
        raise ValueError(
            f"`deltas` has {deltas.shape[0]} rows but `reference` has {reference.shape[0]}"
        )
    wx, wy, ww, wh = weights
    px, py, pw, ph = _centre_size(reference)
    cx = px + pw * deltas[:, 0] / wx
    cy = py + ph * deltas[:, 1] / wy
    w = pw * torch.exp((deltas[:, 2] / ww).clamp(max=max_log_scale))
    h = ph * torch.exp((deltas[:, 3] / wh).clamp(max=max_log_scale))
    return torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], dim=1)


def nms(boxes, scores, iou_threshold):
    """Greedy non-maximum suppression.

    Repeatedly keep the highest-scoring remaining box and drop every remaining box whose IoU with
    it is greater than ``iou_threshold``. Ties in score keep the box that comes first (a stable
    sort), as torchvision's CPU kernel does.

    Parameters
    ----------
    boxes : Tensor, shape (N, 4)
        Boxes in ``xyxy`` form.
    scores : Tensor, shape (N,)
    iou_threshold : float
        In ``[0, 1]``.

    Returns
    -------
    Tensor, shape (K,), int64
        Indices of the kept boxes, sorted by decreasing score.

    Examples
    --------
    >>> boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]])
    >>> nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
    tensor([0, 2])
    """
    _check_boxes(boxes, "boxes")
    if not isinstance(scores, torch.Tensor) or scores.shape != (boxes.shape[0],):
        raise ValueError(f"`scores` must be a tensor of shape ({boxes.shape[0]},)")
    if not 0.0 <= float(iou_threshold) <= 1.0:
        raise ValueError(f"`iou_threshold` must be in [0, 1], got {iou_threshold}")
    order = torch.sort(scores, descending=True, stable=True).indices  # (N,)
    iou = box_iou(boxes, boxes)  # (N, N)
    suppressed = torch.zeros(boxes.shape[0], dtype=torch.bool)
    keep = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold
    return torch.tensor(keep, dtype=torch.int64)
