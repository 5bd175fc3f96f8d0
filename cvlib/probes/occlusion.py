"""Occlusion sensitivity (Zeiler and Fergus, 2014): hide a patch, see how much the score falls.

Slide a grey (or ``fill``-valued) square over the image; at every position run the network on
the image with that square covered and record how much the score of the class falls. Where the
drop is large, the network needed the hidden pixels. Unlike a gradient this asks about a real,
large change of the input, and it needs nothing from the network but its outputs, at the price
of one forward pass per position.

Each pixel gets the mean drop over all the positions whose square covers it (what Captum's
``Occlusion`` computes), so the map has the image's size whatever the stride.

M. D. Zeiler, R. Fergus, "Visualizing and understanding convolutional networks", ECCV 2014,
Sec. 4.2.
"""

import torch

from cvlib.train import eval_mode

from .features import as_batch

__all__ = ["occlusion"]


def _positions(size, patch, stride):
    starts = list(range(0, max(size - patch, 0) + 1, stride))
    if starts[-1] + patch < size:  # the last square reaches the edge
        starts.append(size - patch)
    return starts


@torch.no_grad()
def occlusion(
    model, image, target=None, patch=8, stride=4, fill=0.0, score="probability", batch_size=64
):
    """Mean fall of the class score when a ``patch x patch`` square covers each pixel.

    Parameters
    ----------
    model : nn.Module
        Maps ``(B, C, H, W)`` to logits ``(B, K)``.
    image : Tensor, shape (C, H, W) or (1, C, H, W)
    target : int, optional
        The class whose score is watched (default: the predicted class).
    patch : int
        Side of the square, in pixels (at most the image's side).
    stride : int
        Step between squares; the last square of a row or column touches the edge.
    fill : float or "mean"
        Value of the covered pixels; ``"mean"`` uses the image's mean per channel.
    score : {"probability", "logit"}
        Watch the softmax probability (Zeiler and Fergus) or the raw logit.
    batch_size : int
        Occluded copies per forward pass.

    Returns
    -------
    Tensor, shape (H, W)
        ``score(image) - score(occluded)``, averaged over the squares covering each pixel:
        positive where hiding the pixel lowers the score; 0 on pixels that no square covers
        (``stride > patch``).

    Examples
    --------
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2))
    >>> occlusion(model, torch.rand(1, 4, 4), patch=2, stride=1).shape
    torch.Size([4, 4])
    """
    x = as_batch(image)  # (1, C, H, W)
    _, c, h, w = x.shape
    if not (isinstance(patch, int) and 1 <= patch <= min(h, w)):
        raise ValueError(f"`patch` must be an int in [1, {min(h, w)}], got {patch!r}")
    if not (isinstance(stride, int) and stride >= 1):
        raise ValueError(f"`stride` must be a positive int, got {stride!r}")
    if score not in ("probability", "logit"):
        raise ValueError(f"`score` must be 'probability' or 'logit', got {score!r}")
    value = x.mean(dim=(2, 3), keepdim=True)[0] if fill == "mean" else torch.tensor(float(fill))

    def scores(batch):
        logits = model(batch)  # (B, K)
        return (logits.softmax(dim=1) if score == "probability" else logits)[:, target]

    with eval_mode(model):
        logits = model(x)
        target = int(logits.argmax()) if target is None else int(target)
        if not 0 <= target < logits.shape[1]:
            raise ValueError(f"`target` must be in [0, {logits.shape[1]}), got {target}")
        base = scores(x)[0]
        squares = [
            (i, j) for i in _positions(h, patch, stride) for j in _positions(w, patch, stride)
        ]
        total, count = torch.zeros(h, w), torch.zeros(h, w)
        for first in range(0, len(squares), batch_size):
            chunk = squares[first : first + batch_size]
            batch = x.repeat(len(chunk), 1, 1, 1)  # (B, C, H, W)
            for b, (i, j) in enumerate(chunk):
                batch[b, :, i : i + patch, j : j + patch] = value.expand(c, patch, patch)
            drops = base - scores(batch)  # (B,)
            for (i, j), drop in zip(chunk, drops.tolist(), strict=True):
                total[i : i + patch, j : j + patch] += drop
                count[i : i + patch, j : j + patch] += 1
    return total / count.clamp(min=1)  # (H, W)
