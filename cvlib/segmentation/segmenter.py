"""Train and evaluate a segmentation network (:class:`cvlib.models.FCN`) on image/mask pairs."""

import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from cvlib.train import eval_mode, fit_one_cycle

from .metrics import iou_per_class, mean_iou, pixel_accuracy

__all__ = ["evaluate_segmenter", "predict_masks", "train_segmenter"]


def _pairs(images, masks):
    if masks is None:  # a dataset with .images (N, C, H, W) and .masks (N, H, W)
        images, masks = getattr(images, "images", None), getattr(images, "masks", None)
        if images is None or masks is None:
            raise TypeError("pass `images` and `masks`, or a dataset with .images and .masks")
    if images.ndim != 4 or masks.shape != (images.shape[0], *images.shape[-2:]):
        raise ValueError(
            f"`images` must be (N, C, H, W) and `masks` (N, H, W), got {tuple(images.shape)} "
            f"and {tuple(masks.shape)}"
        )
    return images.float(), masks.long()


def train_segmenter(
    model,
    images,
    masks=None,
    epochs=12,
    lr=1e-2,
    batch_size=32,
    seed=0,
    class_weights=None,
    progress=True,
):
    """Fit ``model`` with per-pixel cross-entropy and Adam; returns the mean loss of each epoch.

    The learning rate follows a one-cycle schedule (:class:`torch.optim.lr_scheduler.OneCycleLR`):
    a warm-up to ``lr`` over the first 30 % of the steps, then annealing towards zero.

    Parameters
    ----------
    model : nn.Module
        Maps ``(N, C, H, W)`` to scores ``(N, K, H, W)``.
    images : Tensor, shape (N, C, H, W), or a dataset with ``.images`` and ``.masks``
    masks : Tensor of int, shape (N, H, W), optional
    epochs, lr, batch_size, seed : training settings (``seed`` fixes the shuffling)
    class_weights : sequence of float, optional
        Weight of each class in the loss; a background weight below 1 stops the many
        background pixels from drowning the few object pixels.
    progress : bool
        A tqdm bar over epochs (never when ``NBGRADER_EXECUTION`` is set).

    Returns
    -------
    list of float
    """
    images, masks = _pairs(images, masks)
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive integer, got {epochs!r}")
    weight = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)

    def batch_loss(model, x, y):
        return F.cross_entropy(model(x), y, weight=weight)  # scores (B, K, H, W) vs (B, H, W)

    data = TensorDataset(images, masks)
    return fit_one_cycle(
        model, data, batch_loss, epochs, lr, batch_size, seed, "FCN", progress, channels_last=True
    )


@torch.no_grad()
def predict_masks(model, images, batch_size=64):
    """Class map ``(N, H, W)``: the argmax over the scores of ``model`` in eval mode."""
    with eval_mode(model):
        return torch.cat(
            [
                model(images[i : i + batch_size].float()).argmax(dim=1)
                for i in range(0, len(images), batch_size)
            ]
        )


def evaluate_segmenter(model, images, masks=None, num_classes=4):
    """``{"pixel_accuracy", "mean_iou", "iou_per_class"}`` of ``model`` on image/mask pairs."""
    images, masks = _pairs(images, masks)
    pred = predict_masks(model, images)  # (N, H, W)
    return {
        "pixel_accuracy": pixel_accuracy(pred, masks),
        "mean_iou": mean_iou(pred, masks, num_classes),
        "iou_per_class": iou_per_class(pred, masks, num_classes).tolist(),
    }
