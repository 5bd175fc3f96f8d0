"""What a CNN has learnt, drawn: its filters and the feature maps they produce."""

import numpy as np
import torch  # noqa: F401 (the doctests use it)
from torch import nn

from cvlib.probes import feature_maps

from ._figure import grid_shape, imshow, new_figure, to_image, to_numpy

__all__ = ["show_feature_maps", "show_filters"]


def show_filters(weight, channel=None, ncols=None, size=1.2, title=None):
    """Show convolution kernels as small pictures.

    Filters with 3 input channels are drawn in colour (each filter rescaled to [0, 1]); otherwise
    each kernel of input channel ``channel`` is drawn with a diverging colormap, red for positive
    and blue for negative weights, symmetric around zero.

    Parameters
    ----------
    weight : nn.Conv2d, Tensor or ndarray, shape (C_out, C_in, kH, kW) or (kH, kW)
    channel : int, optional
        Input channel to draw for grayscale drawing (default 0); ignored for colour filters.
    ncols : int, optional
    size : float
        Inches per panel.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        One axes per output channel.

    Examples
    --------
    >>> len(show_filters(nn.Conv2d(1, 6, 5)).axes)
    6
    """
    if isinstance(weight, nn.Conv2d):
        weight = weight.weight
    w = to_numpy(weight, "weight").astype(np.float64)
    if w.ndim == 2:
        w = w[None, None]  # (1, 1, kH, kW)
    if w.ndim != 4:
        raise ValueError(f"`weight` must be (C_out, C_in, kH, kW) or (kH, kW), got {w.shape}")
    colour = w.shape[1] == 3 and channel is None
    channel = 0 if channel is None else int(channel)
    if not 0 <= channel < w.shape[1]:
        raise ValueError(f"`channel` must be in [0, {w.shape[1]}), got {channel}")
    nrows, ncols = grid_shape(w.shape[0], ncols, max_cols=8)
    fig, axes = new_figure(nrows, ncols, size=size, n=w.shape[0])
    for i, ax in enumerate(axes):
        if colour:
            imshow(ax, to_image(w[i]), f"{i}")  # (kH, kW, 3) rescaled
        else:
            k = w[i, channel]  # (kH, kW)
            limit = max(float(np.abs(k).max()), 1e-12)
            imshow(ax, k, f"{i}", cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.suptitle(title or f"{w.shape[0]} filters of size {w.shape[2]}x{w.shape[3]}")
    return fig


def show_feature_maps(model, image, layer, max_maps=16, ncols=None, size=1.5):
    """Grid of the activations of layer ``layer`` for one image, one panel per channel.

    Parameters
    ----------
    model : nn.Module
    image : Tensor, shape (C, H, W) or (1, C, H, W)
    layer : str
        A name from ``model.named_modules()``.
    max_maps : int
        Draw at most this many channels (the first ones).
    ncols : int, optional
    size : float
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure
        ``min(C_layer, max_maps)`` axes.

    Examples
    --------
    >>> model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU())
    >>> len(show_feature_maps(model, torch.rand(1, 8, 8), "0").axes)
    4
    """
    if int(max_maps) < 1:
        raise ValueError(f"`max_maps` must be a positive integer, got {max_maps}")
    maps = feature_maps(model, image, layer)[: int(max_maps)].numpy()  # (C, H_l, W_l)
    nrows, ncols = grid_shape(len(maps), ncols)
    fig, axes = new_figure(nrows, ncols, size=size, n=len(maps))
    for i, (ax, fmap) in enumerate(zip(axes, maps, strict=True)):
        imshow(ax, fmap, f"{i}", cmap="viridis", vmin=None, vmax=None)
    fig.suptitle(f"feature maps of layer {layer!r}, shape {tuple(maps.shape[1:])}")
    return fig
