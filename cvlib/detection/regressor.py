"""Single-object localisation: one CNN body, a class head and a bounding-box regression head.

The network answers "what is it?" and "where is it?" at once (the lectures' classification +
localisation). Boxes are regressed in coordinates divided by the image size, so targets lie in
[0, 1] whatever the resolution. The loss adds cross-entropy for the class and smooth L1 for the
box: ``L = CE(logits, y) + box_weight * SmoothL1(box_pred, box_true)``.
"""

import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from cvlib.train import eval_mode, fit_one_cycle

from .boxes import box_iou

__all__ = ["evaluate_regressor", "localisation_loss", "predict_boxes", "train_regressor"]


def localisation_loss(logits, box_pred, labels, box_true, box_weight=1.0):
    """``CE(logits, labels) + box_weight * SmoothL1(box_pred, box_true)``; returns the 3 terms.

    Examples
    --------
    >>> total, ce, l1 = localisation_loss(torch.zeros(1, 3), torch.zeros(1, 4),
    ...                                   torch.tensor([0]), torch.zeros(1, 4))
    >>> round(total.item(), 4), round(l1.item(), 4)  # log(3), a perfect box
    (1.0986, 0.0)
    """
    ce = F.cross_entropy(logits, labels)
    l1 = F.smooth_l1_loss(box_pred, box_true, beta=0.05)
    return ce + box_weight * l1, ce, l1


def train_regressor(
    model,
    images,
    labels,
    boxes,
    epochs=8,
    lr=3e-3,
    batch_size=32,
    box_weight=5.0,
    seed=0,
    progress=True,
):
    """Train with Adam on :func:`localisation_loss`; returns the mean loss of each epoch.

    The learning rate follows a one-cycle schedule (:class:`torch.optim.lr_scheduler.OneCycleLR`):
    it warms up to ``lr`` over the first 30 % of the steps, then anneals towards zero, which lets
    a few epochs reach a precise box.

    Parameters
    ----------
    model : cvlib.models.BoxRegressor
    images : Tensor, shape (N, C, S, S)
    labels : Tensor of int, shape (N,)
    boxes : Tensor, shape (N, 4)
        Pixel ``xyxy`` boxes of the object (divided by ``S`` inside).
    epochs, lr, batch_size, box_weight, seed, progress : training settings
    """
    if not (len(images) == len(labels) == len(boxes)):
        raise ValueError("`images`, `labels` and `boxes` must have the same length")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive integer, got {epochs!r}")
    size = images.shape[-1]
    data = TensorDataset(images.float(), labels.long(), boxes.float() / size)

    def batch_loss(model, x, y, b):
        logits, box_pred = model(x)
        return localisation_loss(logits, box_pred, y, b, box_weight)[0]

    return fit_one_cycle(
        model,
        data,
        batch_loss,
        epochs,
        lr,
        batch_size,
        seed,
        "box regressor",
        progress,
        channels_last=True,
    )


@torch.no_grad()
def predict_boxes(model, images):
    """``(labels (N,), boxes (N, 4))``: predicted class and pixel ``xyxy`` box per image."""
    with eval_mode(model):
        logits, box_pred = model(images.float())
    size = images.shape[-1]
    b = box_pred.clamp(0, 1) * size  # (N, 4); a corner predicted the wrong way round is swapped
    top_left = torch.minimum(b[:, :2], b[:, 2:])  # (N, 2)
    bottom_right = torch.maximum(b[:, :2], b[:, 2:])  # (N, 2)
    return logits.argmax(dim=1), torch.cat([top_left, bottom_right], dim=1)


def evaluate_regressor(model, images, labels, boxes):
    """``{"mean_iou", "iou_above_0.5", "accuracy"}`` of predicted against true boxes and classes."""
    pred_labels, pred_boxes = predict_boxes(model, images)
    iou = box_iou(pred_boxes, boxes.float()).diagonal()  # (N,) each box with its own truth
    return {
        "mean_iou": iou.mean().item(),
        "iou_above_0.5": (iou > 0.5).double().mean().item(),
        "accuracy": (pred_labels == labels).double().mean().item(),
    }
