"""The image patches that excite a unit most (Zeiler and Fergus, 2014; Girshick et al., 2014).

A channel of a convolutional layer is one detector applied at every position. Run a set of
images through the network, find the positions where that channel's activation is highest, and
cut out of each image the patch of pixels that position can see: its **receptive field**.
Looking at the top patches side by side says what the unit responds to far better than its
weights do, once the layer is more than one step from the pixels.

Where a unit's patch sits: each layer with kernel ``k``, stride ``s``, padding ``p`` and
dilation ``d`` maps ``(r, j, start)`` (receptive field, jump between neighbouring units, centre
of the first unit, in input pixels) to::

    r' = r + d (k - 1) j        j' = j s        start' = start + (d (k - 1) / 2 - p) j

(the receptive-field arithmetic of :func:`cvlib.summary`, plus the centre), starting from
``(1, 1, 0)`` at the pixels. Unit ``(y, x)`` of the layer is centred on input pixel
``(start + y j, start + x j)``.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from cvlib.train import eval_mode

from .features import batched_capture, find_layer

__all__ = ["UnitWindow", "top_activating_patches", "unit_window"]

_WINDOWED = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)


@dataclass(frozen=True)
class UnitWindow:
    """Receptive field ``size``, ``jump`` and the centre ``start`` of unit (0, 0), in pixels."""

    size: int
    jump: int
    start: float

    def box(self, y, x):
        """``(top, left)`` pixel of the ``size x size`` window of unit ``(y, x)``."""
        half = (self.size - 1) / 2
        return round(self.start + y * self.jump - half), round(self.start + x * self.jump - half)


def _square(v, what):
    v = v if isinstance(v, tuple) else (v, v)
    if v[0] != v[1]:
        raise ValueError(f"{what} must be square, got {v}")
    return v[0]


def unit_window(model, layer, input_size):
    """The :class:`UnitWindow` of the units of ``layer``, following the layers in call order.

    Parameters
    ----------
    model : nn.Module
        Convolutions, poolings and elementwise layers on one path (a plain CNN; branches and
        shortcuts are not followed).
    layer : str
        A name from ``model.named_modules()``.
    input_size : tuple
        ``(C, H, W)`` of one input.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(2, 2, 3))
    >>> unit_window(net, "2", (1, 16, 16))
    UnitWindow(size=8, jump=2, start=2.5)
    """
    target = find_layer(model, layer)
    order = []
    hooks = [
        m.register_forward_hook(lambda m, i, o: order.append(m))
        for m in model.modules()
        if not list(m.children())
    ]
    try:
        with eval_mode(model), torch.no_grad():
            model(torch.zeros(1, *input_size))
    finally:
        for h in hooks:
            h.remove()
    inside = set(map(id, target.modules()))  # the layer itself, or every leaf of a container
    last = max((i for i, m in enumerate(order) if id(m) in inside), default=None)
    if last is None:
        raise ValueError(f"`layer` {layer!r} did not run in the forward pass")
    size, jump, start = 1, 1, 0.0
    for m in order[: last + 1]:
        if isinstance(m, _WINDOWED):
            k = _square(m.kernel_size, "`kernel_size`")
            s = _square(m.stride or m.kernel_size, "`stride`")
            p = _square(m.padding, "`padding`")
            d = _square(getattr(m, "dilation", 1), "`dilation`")
            start += (d * (k - 1) / 2 - p) * jump
            size, jump = size + d * (k - 1) * jump, jump * s
    return UnitWindow(size, jump, start)


def top_activating_patches(model, images, layer, channel, k=9, batch_size=256):
    """The ``k`` strongest activations of one channel over ``images``, with their patches.

    Each image contributes at most once (its strongest position), so the patches are ``k``
    different images.

    Parameters
    ----------
    model : nn.Module
    images : Tensor, shape (N, C, H, W)
    layer : str
        A convolutional (or activation) layer's name.
    channel : int
        The channel (unit) of that layer.
    k : int
    batch_size : int

    Returns
    -------
    patches : Tensor, shape (k, C, r, r)
        The receptive fields, zero where they reach past the image.
    activations : Tensor, shape (k,)
    where : list of (int, int, int)
        ``(image index, y, x)`` of each activation in the layer's map.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU())
    >>> patches, acts, where = top_activating_patches(net, torch.rand(5, 1, 8, 8), "1", 0, k=3)
    >>> patches.shape, acts.shape, len(where)
    (torch.Size([3, 1, 3, 3]), torch.Size([3]), 3)
    """
    grab = lambda inputs, output: output[:, channel].clone()  # noqa: E731
    maps = torch.cat(batched_capture(model, images, layer, grab, batch_size))  # (N, H_l, W_l)
    best, position = maps.flatten(1).max(dim=1)  # (N,), (N,)
    top = best.argsort(descending=True)[: int(k)]
    window = unit_window(model, layer, tuple(images.shape[1:]))
    r, pad = window.size, window.size  # pad the images so that every window fits
    padded = F.pad(images.float(), (pad, pad, pad, pad))
    patches, where = [], []
    for n in top.tolist():
        y, x = divmod(int(position[n]), maps.shape[-1])
        top_px, left_px = window.box(y, x)
        patches.append(
            padded[n, :, top_px + pad : top_px + pad + r, left_px + pad : left_px + pad + r]
        )
        where.append((n, y, x))
    return torch.stack(patches), best[top], where
