"""Segmentation metrics from a pixel confusion matrix: pixel accuracy and mean IoU.

Predictions may be class maps ``(N, H, W)`` (or ``(H, W)``) of integers, or scores
``(N, K, H, W)`` whose argmax over ``K`` is the class map.
"""

import torch

from cvlib.train.evaluation import confusion_matrix as count_pairs

__all__ = ["confusion_matrix", "iou_per_class", "mean_iou", "pixel_accuracy"]


def _labels(pred, target):
    if not isinstance(pred, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError("`pred` and `target` must be torch tensors")
    if pred.is_floating_point() and pred.ndim == target.ndim + 1:
        pred = pred.argmax(dim=-3)  # (N, H, W) from scores (N, K, H, W)
    if pred.shape != target.shape:
        raise ValueError(
            f"`pred` {tuple(pred.shape)} and `target` {tuple(target.shape)} must have the same "
            "shape (or `pred` one extra class axis of scores)"
        )
    return pred.long().reshape(-1), target.long().reshape(-1)


def confusion_matrix(pred, target, num_classes):
    """Pixel counts ``C[i, j]`` of true class ``i`` predicted as ``j``.

    Parameters
    ----------
    pred : Tensor, shape (N, H, W) of int, or (N, K, H, W) of scores
    target : Tensor, shape (N, H, W) of int in ``[0, num_classes)``
    num_classes : int

    Returns
    -------
    Tensor, shape (num_classes, num_classes), int64

    Examples
    --------
    >>> confusion_matrix(torch.tensor([[0, 1], [1, 1]]), torch.tensor([[0, 1], [0, 1]]), 2)
    tensor([[1, 1],
            [0, 2]])
    """
    if int(num_classes) < 1:
        raise ValueError(f"`num_classes` must be a positive integer, got {num_classes}")
    k = int(num_classes)
    pred, target = _labels(pred, target)
    for t, name in ((pred, "pred"), (target, "target")):
        if t.numel() and (t.min() < 0 or t.max() >= k):
            raise ValueError(f"`{name}` has labels outside [0, {k})")
    return count_pairs(target, pred, k)


def pixel_accuracy(pred, target):
    """Fraction of pixels whose predicted class equals the true class.

    Dominated by the background when objects are small: a network that predicts background
    everywhere scores the background's share. Read it together with :func:`mean_iou`.

    Examples
    --------
    >>> pixel_accuracy(torch.tensor([[0, 1], [1, 1]]), torch.tensor([[0, 1], [0, 1]]))
    0.75
    """
    pred, target = _labels(pred, target)
    if target.numel() == 0:
        raise ValueError("`target` is empty")
    return (pred == target).double().mean().item()


def iou_per_class(pred, target, num_classes):
    """``IoU_c = TP_c / (TP_c + FP_c + FN_c)`` for each class, NaN for a class absent from both.

    From the confusion matrix ``C``: ``TP_c = C[c, c]``, ``FP_c`` the rest of column ``c``,
    ``FN_c`` the rest of row ``c``.

    Returns
    -------
    Tensor, shape (num_classes,), float64

    Examples
    --------
    >>> iou_per_class(torch.tensor([[0, 1], [1, 1]]), torch.tensor([[0, 1], [0, 1]]), 3)
    tensor([0.5000, 0.6667,    nan], dtype=torch.float64)
    """
    c = confusion_matrix(pred, target, num_classes).double()
    tp = c.diag()
    union = c.sum(dim=0) + c.sum(dim=1) - tp  # TP + FP + FN
    return torch.where(union > 0, tp / union.clamp(min=1), torch.nan)


def mean_iou(pred, target, num_classes):
    """Mean over classes of :func:`iou_per_class`, ignoring classes absent from both maps.

    A class that is in neither the prediction nor the target has no defined IoU and is left out
    of the mean; a class that is predicted but absent from the target counts with IoU 0. The
    confusion matrix is accumulated over all images first (as in PASCAL VOC), so pass a whole
    evaluation set at once rather than averaging per-image scores.

    Parameters
    ----------
    pred : Tensor, shape (N, H, W) of int, or (N, K, H, W) of scores
    target : Tensor, shape (N, H, W) of int
    num_classes : int
        Including the background class.

    Returns
    -------
    float

    Examples
    --------
    >>> pred, target = torch.tensor([[0, 1], [1, 1]]), torch.tensor([[0, 1], [0, 1]])
    >>> mean_iou(pred, target, 3)  # (1/2 + 2/3) / 2, class 2 absent
    0.5833333333333333
    """
    return torch.nanmean(iou_per_class(pred, target, num_classes)).item()
