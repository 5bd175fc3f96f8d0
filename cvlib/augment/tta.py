"""Test-time augmentation: average a model's predictions over a few transformed copies (views) of
every test image.

A network trained with flips and shifts has learnt that a mirrored or slightly moved garment is
the same garment; at test time we can ask it about several such views and average its class
probabilities (softmax outputs), which smooths over the views it happens to get wrong. The
views must be deterministic and label-preserving; :func:`flip_shift_views` gives the usual
ones (the image, its mirror, and the image moved by a pixel or two each way).

Examples
--------
>>> from torch import nn
>>> model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
>>> tta_predict(model, torch.rand(5, 1, 4, 4)).shape
torch.Size([5, 3])
"""

import torch
import torch.nn.functional as F

from . import functional as AF

__all__ = ["flip_shift_views", "identity", "tta_predict"]


def identity(images):
    """The image itself, the first view."""
    return images


def _shifted(dx, dy):
    def view(images):
        return AF.shift(images, dx, dy)

    view.__name__ = f"shift({dx}, {dy})"
    return view


def flip_shift_views(hflip=True, shift=1):
    """The views of :func:`tta_predict`: the image, its mirror (when ``hflip``), and the image
    moved by ``shift`` pixels left, right, up and down (when ``shift`` > 0). A list of
    functions ``(N, C, H, W) -> (N, C, H, W)``; ``hflip=True, shift=1`` gives six.

    >>> [v.__name__ for v in flip_shift_views(shift=1)]
    ['identity', 'hflip', 'shift(-1, 0)', 'shift(1, 0)', 'shift(0, -1)', 'shift(0, 1)']
    """
    if isinstance(shift, bool) or not isinstance(shift, int) or shift < 0:
        raise ValueError(f"`shift` must be a non-negative int number of pixels, got {shift!r}")
    if not isinstance(hflip, bool):
        raise TypeError(f"`hflip` must be True or False, got {hflip!r}")
    views = [identity] + ([AF.hflip] if hflip else [])
    if shift:
        views += [_shifted(-shift, 0), _shifted(shift, 0), _shifted(0, -shift), _shifted(0, shift)]
    return views


@torch.no_grad()
def tta_predict(model, images, views=None, batch_size=500):
    """The mean of ``softmax(model(view(images)))`` over ``views``, in eval mode.

    Parameters
    ----------
    model : nn.Module
        Returns logits ``(N, K)``; it is put in eval mode and given back in the mode it had.
    images : Tensor, shape (N, C, H, W)
    views : sequence of callables, optional
        Deterministic transforms of a batch; default :func:`flip_shift_views` (six views). A
        single view ``[identity]`` gives the plain prediction.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    Tensor, shape (N, K): class probabilities, each row summing to 1.
    """
    AF._check_image(images, "images", floating=True)
    if images.dim() != 4:
        raise ValueError(f"`images` must be a batch (N, C, H, W), got shape {tuple(images.shape)}")
    views = flip_shift_views() if views is None else list(views)
    if not views or not all(callable(v) for v in views):
        raise ValueError("`views` must be a non-empty sequence of callables")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int, got {batch_size!r}")
    was_training = model.training
    model.eval()
    try:
        chunks = []
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]  # (B, C, H, W)
            probs = [F.softmax(model(view(batch)), dim=1) for view in views]  # V x (B, K)
            chunks.append(torch.stack(probs).mean(0))  # (B, K)
        return torch.cat(chunks)  # (N, K)
    finally:
        model.train(was_training)
