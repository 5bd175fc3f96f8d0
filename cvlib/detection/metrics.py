"""Average precision of a detector, computed the way the COCO benchmark does.

A detector returns boxes with scores. Sort every detection of one class, over the whole test
set, by decreasing score; walk down the list and call a detection a **true positive** when it
overlaps a ground-truth box of its class, not yet claimed by a higher-scoring detection, with
IoU at least the threshold (else a false positive). After the first ``n`` detections,

    precision = TP(n) / n          recall = TP(n) / (number of ground-truth boxes)

which traces the **precision-recall curve** as the score threshold falls. **Average precision**
(AP) is the area under that curve, read as COCO reads it (Lin et al., 2014, and its evaluation
code ``pycocotools``): make precision non-increasing (each point takes the best precision at
any higher recall), sample it at the 101 recalls 0, 0.01, ..., 1 (0 where the recall is never
reached) and average. **mAP** averages AP over the classes, and COCO's headline number
``AP@[.5:.95]`` also over the ten IoU thresholds 0.5, 0.55, ..., 0.95.

This is COCO's AP, not PASCAL VOC's: ``map_50`` is COCO's AP50 (IoU >= 0.5, 101 recall points).
VOC counts a detection only when its IoU *exceeds* 0.5, and reads the same envelope at 11 recalls
(VOC2007) or as its exact area at every recall reached (VOC2010 onwards; Everingham et al., 2015).

Matching follows ``pycocotools`` step for step (detections of an image by decreasing score, at
most ``max_detections`` per image and class, each takes the unmatched ground-truth box of
highest IoU), so the numbers agree with ``torchmetrics.detection.MeanAveragePrecision``
(``tests/test_detection_metrics.py`` checks it). The thresholds are ``pycocotools``' own, in
float64; torchmetrics' defaults are rounded to float32, which can move a recall or an IoU that
sits exactly on a threshold (a recall of 3/5 against the recall point 0.6000000238).
"""

import numpy as np
import torch

from .boxes import box_iou

__all__ = [
    "COCO_IOU_THRESHOLDS",
    "average_precision",
    "mean_average_precision",
    "precision_recall_curve",
]

#: COCO's IoU thresholds 0.5, 0.55, ..., 0.95, as ``pycocotools`` makes them (``np.linspace``).
COCO_IOU_THRESHOLDS = tuple(np.linspace(0.5, 0.95, 10).tolist())
RECALL_POINTS = np.linspace(0.0, 1.0, 101)  # COCO samples precision at these recalls


def _check_images(detections, targets):
    if len(detections) != len(targets):
        raise ValueError(f"`detections` has {len(detections)} images but `targets` {len(targets)}")
    for name, items, keys in (
        ("detections", detections, ("boxes", "scores", "labels")),
        ("targets", targets, ("boxes", "labels")),
    ):
        for i, item in enumerate(items):
            missing = [k for k in keys if k not in item]
            if missing:
                raise ValueError(f"`{name}[{i}]` has no {missing}; it needs the keys {keys}")


def _image_matches(det, target, label, thresholds, max_detections):
    """Scores (D,) in decreasing order and a (T, D) bool array: is detection d a TP at t?"""
    keep = det["labels"] == label
    scores = det["scores"][keep].double()
    order = torch.sort(-scores, stable=True).indices[:max_detections]  # mergesort, as COCO
    boxes, scores = det["boxes"][keep][order].double(), scores[order]
    truth = target["boxes"][target["labels"] == label].double()
    iou = box_iou(boxes, truth).numpy() if len(truth) and len(boxes) else None  # (D, G)
    matched = np.zeros((len(thresholds), len(boxes)), dtype=bool)
    for t, threshold in enumerate(thresholds):
        taken = np.zeros(len(truth), dtype=bool)
        for d in range(len(boxes) if iou is not None else 0):
            best, m = min(threshold, 1 - 1e-10), -1
            for g in range(len(truth)):  # the last box of highest IoU >= threshold, as COCO
                if not taken[g] and iou[d, g] >= best:
                    best, m = iou[d, g], g
            if m >= 0:
                taken[m], matched[t, d] = True, True
    return scores.numpy(), matched, len(truth)


def _curves(detections, targets, label, thresholds, max_detections):
    """Precision and recall after each detection of ``label``, for every IoU threshold."""
    per_image = [
        _image_matches(d, t, label, thresholds, max_detections)
        for d, t in zip(detections, targets, strict=True)
    ]
    scores = np.concatenate([s for s, _, _ in per_image])  # (D,)
    matched = np.concatenate([m for _, m, _ in per_image], axis=1)  # (T, D)
    n_true = sum(n for _, _, n in per_image)
    order = np.argsort(-scores, kind="mergesort")
    tp = np.cumsum(matched[:, order], axis=1, dtype=np.float64)  # (T, D)
    fp = np.cumsum(~matched[:, order], axis=1, dtype=np.float64)
    recall = tp / max(n_true, 1)
    precision = tp / (tp + fp + np.spacing(1))
    return precision, recall, scores[order], n_true


def precision_recall_curve(detections, targets, label, iou_threshold=0.5, max_detections=100):
    """The precision-recall curve of class ``label`` over a set of images.

    Parameters
    ----------
    detections : list of dict
        One per image: ``"boxes"`` (D, 4) ``xyxy``, ``"scores"`` (D,), ``"labels"`` (D,), the
        output of :func:`cvlib.detection.detect` (and the input of torchmetrics).
    targets : list of dict
        One per image: ``"boxes"`` (G, 4) ``xyxy`` and ``"labels"`` (G,).
    label : int
        The class.
    iou_threshold : float
        A detection is right when its IoU with an unclaimed true box of its class is at least this.
    max_detections : int
        Keep the best-scoring ones per image (COCO: 100).

    Returns
    -------
    precision, recall, scores : ndarray, shape (D,)
        After each of the class's ``D`` detections, sorted by decreasing score.
    n_true : int
        Ground-truth boxes of the class.

    Examples
    --------
    >>> det = [{"boxes": torch.tensor([[0.0, 0, 4, 4], [10, 10, 14, 14]]),
    ...         "scores": torch.tensor([0.9, 0.8]), "labels": torch.tensor([0, 0])}]
    >>> truth = [{"boxes": torch.tensor([[0.0, 0, 4, 4]]), "labels": torch.tensor([0])}]
    >>> p, r, s, n = precision_recall_curve(det, truth, label=0)
    >>> p.round(3).tolist(), r.tolist(), n  # a hit, then a false alarm
    ([1.0, 0.5], [1.0, 1.0], 1)
    """
    _check_images(detections, targets)
    precision, recall, scores, n_true = _curves(
        detections, targets, label, (float(iou_threshold),), int(max_detections)
    )
    return precision[0], recall[0], scores, n_true


def average_precision(precision, recall):
    """COCO's 101-point interpolated area under a precision-recall curve.

    ``p_interp(r) = max(precision[k] for recall[k] >= r)``, averaged over
    ``r = 0, 0.01, ..., 1``; a recall never reached contributes 0.

    Parameters
    ----------
    precision, recall : array, shape (D,)
        Points of the curve in detection order (recall non-decreasing), as
        :func:`precision_recall_curve` returns them.

    Returns
    -------
    float

    Examples
    --------
    >>> round(average_precision([1.0, 0.5], [0.5, 0.5]), 4)  # recalls 0 to 0.5: 51 of 101
    0.505
    """
    precision = np.array(precision, dtype=np.float64)
    recall = np.asarray(recall, dtype=np.float64)
    if precision.shape != recall.shape or precision.ndim != 1:
        raise ValueError(f"`precision` {precision.shape} and `recall` {recall.shape} must be 1-D")
    if not len(recall):
        return 0.0  # no detection at all: no recall is ever reached
    envelope = np.maximum.accumulate(precision[::-1])[::-1]  # best precision at any higher recall
    at = np.searchsorted(recall, RECALL_POINTS, side="left")  # first point reaching each recall
    sampled = np.where(at < len(recall), envelope[np.minimum(at, len(recall) - 1)], 0.0)
    return float(sampled.mean())


def mean_average_precision(
    detections, targets, iou_thresholds=COCO_IOU_THRESHOLDS, max_detections=100
):
    """AP of every class at every IoU threshold, and the means COCO reports.

    Parameters
    ----------
    detections, targets : list of dict
        As in :func:`precision_recall_curve`.
    iou_thresholds : sequence of float
        Default COCO's 0.5, 0.55, ..., 0.95.
    max_detections : int

    Returns
    -------
    dict
        ``"map"``: mean over classes and thresholds; ``"map_50"`` and ``"map_75"`` (when 0.5
        and 0.75 are among the thresholds: COCO's AP50 and AP75); ``"ap"``:
        ``{label: [AP at each threshold]}``; ``"iou_thresholds"``. Classes without a
        ground-truth box are left out, as in COCO.

    Examples
    --------
    >>> det = [{"boxes": torch.tensor([[0.0, 0, 4, 4]]), "scores": torch.tensor([0.9]),
    ...         "labels": torch.tensor([1])}]
    >>> truth = [{"boxes": torch.tensor([[0.0, 0, 4, 4.5]]), "labels": torch.tensor([1])}]
    >>> result = mean_average_precision(det, truth)  # IoU 16/18: right up to threshold 0.85
    >>> [round(result[k], 3) for k in ("map", "map_50", "map_75")]
    [0.8, 1.0, 1.0]
    """
    _check_images(detections, targets)
    thresholds = tuple(float(t) for t in iou_thresholds)
    if not thresholds or not all(0.0 <= t <= 1.0 for t in thresholds):
        raise ValueError(f"`iou_thresholds` must be numbers in [0, 1], got {iou_thresholds!r}")
    labels = sorted({int(v) for t in targets for v in t["labels"].tolist()})
    ap = {}
    for label in labels:
        precision, recall, _, _ = _curves(detections, targets, label, thresholds, max_detections)
        ap[label] = [average_precision(p, r) for p, r in zip(precision, recall, strict=True)]
    table = np.array([ap[k] for k in labels]).reshape(len(labels), len(thresholds))
    result = {"map": float(table.mean()) if table.size else 0.0, "ap": ap}
    for name, t in (("map_50", 0.5), ("map_75", 0.75)):
        if t in thresholds:
            result[name] = float(table[:, thresholds.index(t)].mean()) if table.size else 0.0
    result["iou_thresholds"] = thresholds
    return result
