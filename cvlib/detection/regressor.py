"""Single-object localisation: one CNN body, a class head and a bounding-box regression head.

The network answers "what is it?" and "where is it?" at once (the lectures' classification +
localisation). Boxes are regressed in coordinates divided by the image size, so targets lie in
[0, 1] whatever the resolution. The loss adds cross-entropy for the class and smooth L1 for the
box: ``L = CE(logits, y) + box_weight * SmoothL1(box_pred, box_true)``.
"""

import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

from cvlib.train import fit_one_cycle

from ._threads import torch_threads
from .boxes import box_iou

__all__ = [
    "BoxRegressor",
    "evaluate_regressor",
    "localisation_loss",
    "predict_boxes",
    "regressor_experiment",
    "train_regressor",
]


def conv_bn_relu(in_channels, out_channels):
    """3x3 convolution (padding 1), batch norm, ReLU: batch norm lets a few epochs suffice."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
    )


class BoxRegressor(nn.Module):
    """A conv-BN-ReLU body and two heads: "what" from pooled features, "where" from the map.

    The two questions need different things. The class of a shape does not depend on where it
    sits, so the class head reads the **global max** of each feature map (translation
    invariant). The box depends on nothing but where it sits, so the box head reads the
    **flattened** feature map, which keeps the position. The input is centred per image (its
    mean colour subtracted): the shapes' colours are random, only their contrast with the
    background matters.

    Parameters
    ----------
    num_classes : int
    in_channels : int
    image_size : int
        Side of the square input (a multiple of 8).

    Shape
    -----
    - Input: ``(N, in_channels, image_size, image_size)``
    - Output: ``(logits (N, num_classes), boxes (N, 4))``, boxes as ``xyxy / image_size``.

    Examples
    --------
    >>> logits, boxes = BoxRegressor(image_size=32)(torch.zeros(2, 3, 32, 32))
    >>> logits.shape, boxes.shape
    (torch.Size([2, 3]), torch.Size([2, 4]))
    """

    def __init__(self, num_classes=3, in_channels=3, image_size=32):
        super().__init__()
        if image_size % 8:
            raise ValueError(f"`image_size` must be a multiple of 8, got {image_size}")
        self.features = nn.Sequential(
            conv_bn_relu(in_channels, 16),
            conv_bn_relu(16, 16),
            nn.MaxPool2d(2),  # (N, 16, S/2, .)
            conv_bn_relu(16, 32),
            conv_bn_relu(32, 32),
            nn.MaxPool2d(2),  # (N, 32, S/4, .)
            conv_bn_relu(32, 64),
            nn.MaxPool2d(2),  # (N, 64, S/8, .)
        )
        side = image_size // 8
        self.classifier = nn.Linear(64, num_classes)
        self.box_head = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * side * side, 128), nn.ReLU(), nn.Linear(128, 4)
        )

    def forward(self, x):
        x = x - x.mean(dim=(2, 3), keepdim=True)  # (N, C, S, S), each image centred
        f = self.features(x)  # (N, 64, S/8, S/8)
        logits = self.classifier(f.amax(dim=(2, 3)))  # (N, K) from the global max
        return logits, self.box_head(f)  # (N, K), (N, 4)


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


def _first_boxes(dataset):
    """``images, labels, boxes (N, 4) in pixels`` of the first object of every image."""
    boxes = torch.stack([b[0] for b in dataset.boxes])  # (N, 4)
    return dataset.images, dataset.labels, boxes


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
    model : BoxRegressor
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
    was_training = model.training
    model.eval()
    logits, box_pred = model(images.float())
    model.train(was_training)
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


def regressor_experiment(
    n_train=3000, n_test=300, size=32, epochs=8, seed=0, progress=False, num_threads=1
):
    """Train :class:`BoxRegressor` on one-object shapes; score it on held-out shapes.

    ``num_threads`` torch threads are used meanwhile (``None``: leave the setting alone).

    Returns
    -------
    dict
        ``mean_iou``, ``iou_above_0.5``, ``accuracy`` on the test set, ``baseline_iou`` (IoU of
        always predicting the mean training box), ``losses``, ``seconds``, ``model``.
    """
    from cvlib.data import shapes

    torch.manual_seed(seed)
    train = _first_boxes(shapes(n_train, size=size, max_objects=1, seed=seed))
    test = _first_boxes(shapes(n_test, size=size, max_objects=1, seed=seed + 1000))
    model = BoxRegressor(image_size=size)
    with torch_threads(num_threads):  # small networks: one thread is faster
        start = time.perf_counter()
        losses = train_regressor(model, *train, epochs=epochs, seed=seed, progress=progress)
        scores = evaluate_regressor(model, *test)
        mean_box = train[2].mean(dim=0, keepdim=True)  # (1, 4)
        scores["baseline_iou"] = box_iou(mean_box, test[2]).mean().item()
    return {**scores, "losses": losses, "seconds": time.perf_counter() - start, "model": model}
