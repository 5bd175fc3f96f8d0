"""Measuring a classifier: accuracy, loss and confusion matrix; predictions.

:func:`confusion_matrix` is the one count of (truth, prediction) pairs that classification and
segmentation (:mod:`cvlib.segmentation.metrics`) share.
"""

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .runtime import progress_bar, resolve_device

__all__ = ["Evaluation", "check_loader", "confusion_matrix", "evaluate", "predict"]


def check_loader(loader, name):
    """A ``TypeError`` naming ``name`` unless ``loader`` can be iterated."""
    if not hasattr(loader, "__iter__"):
        raise TypeError(f"`{name}` must be an iterable of (images, labels), e.g. a DataLoader")


def confusion_matrix(target, pred, num_classes):
    """``C[i, j]`` = number of items of true class ``i`` predicted as ``j`` (int64 tensor).

    Rows are the truth and columns the prediction, as in ``sklearn.metrics.confusion_matrix``.

    Examples
    --------
    >>> confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1]), 2)
    tensor([[1, 0],
            [1, 1]])
    """
    target, pred = torch.as_tensor(target).reshape(-1), torch.as_tensor(pred).reshape(-1)
    flat = target.long() * num_classes + pred.long()
    return torch.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


@dataclass
class Evaluation:
    """Result of :func:`evaluate`.

    ``confusion[i, j]`` counts the examples of true class ``i`` predicted as class ``j``
    (rows: truth, columns: prediction, as in ``sklearn.metrics.confusion_matrix``).
    ``logits`` (N, num_classes) are the model's outputs, kept for measures that need more than
    the predicted class (calibration, :mod:`cvlib.train.calibration`).
    """

    accuracy: float
    loss: float
    confusion: np.ndarray
    logits: torch.Tensor | None = field(default=None, repr=False, compare=False)


@torch.no_grad()
def _logits_and_labels(model, loader, device, progress):
    model.eval()
    model.to(device)
    all_logits, all_labels = [], []
    for batch in progress_bar(loader, progress, desc="eval", unit="batch"):
        images, labels = batch if isinstance(batch, (list, tuple)) else (batch, None)
        all_logits.append(model(images.to(device)).cpu())  # (B, num_classes)
        if labels is not None:
            all_labels.append(torch.as_tensor(labels))
    if not all_logits:
        raise ValueError("`loader` yielded no batches; is the data set empty?")
    logits = torch.cat(all_logits)  # (N, num_classes)
    return logits, (torch.cat(all_labels) if all_labels else None)


def evaluate(model, loader, loss_fn=None, device="auto", num_classes=None, progress=False):
    """Accuracy, mean loss and confusion matrix of ``model`` on ``loader``.

    Parameters
    ----------
    num_classes : int, optional
        Size of the confusion matrix; default the number of logits.

    Returns
    -------
    Evaluation
        ``confusion`` is a (num_classes, num_classes) int64 array summing to N.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"`model` must be a torch.nn.Module, got {type(model).__name__}")
    check_loader(loader, "loader")
    logits, labels = _logits_and_labels(model, loader, resolve_device(device), progress)
    if labels is None:
        raise ValueError("`loader` must yield (images, labels) pairs to be evaluated")
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    k = num_classes or logits.shape[1]
    predictions = logits.argmax(1)  # (N,)
    return Evaluation(
        accuracy=float((predictions == labels).float().mean()),
        loss=float(loss_fn(logits, labels)),
        confusion=confusion_matrix(labels, predictions, k).numpy(),
        logits=logits,
    )


def predict(model, loader, device="auto", progress=False):
    """Predicted class of every example in ``loader`` (labels in the batches are ignored).

    Shape
    -----
    returns : (N,) int64 tensor
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"`model` must be a torch.nn.Module, got {type(model).__name__}")
    check_loader(loader, "loader")
    logits, _ = _logits_and_labels(model, loader, resolve_device(device), progress)
    return logits.argmax(1)
