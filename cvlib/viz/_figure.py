"""Shared helpers of :mod:`cvlib.viz`: new figures and images converted for ``imshow``."""

import math

import matplotlib.pyplot as plt
import numpy as np


def new_figure(nrows=1, ncols=1, size=2.5, n=None):
    """A closed pyplot figure with a grid of axes: ``(fig, axes)``, ``axes`` a flat list.

    The figure is closed in pyplot so a notebook shows it once (as the value a viz function
    returns), never a second time when the cell ends. ``n`` keeps only the first ``n`` axes.
    """
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False, layout="constrained"
    )
    plt.close(fig)
    axes = list(axes.ravel())
    if n is not None:
        for ax in axes[n:]:
            fig.delaxes(ax)
        axes = axes[:n]
    return fig, axes


def grid_shape(n, ncols=None, max_cols=8):
    """``(nrows, ncols)`` of a grid holding ``n`` panels."""
    if n < 1:
        raise ValueError(f"need at least one panel to draw, got {n}")
    ncols = min(n, max_cols) if ncols is None else int(ncols)
    if ncols < 1:
        raise ValueError(f"`ncols` must be a positive integer, got {ncols}")
    return math.ceil(n / ncols), ncols


def to_numpy(x, name):
    """A numpy copy of a numpy array or a (possibly grad-tracking) torch tensor."""
    if hasattr(x, "detach"):  # a torch tensor, without importing torch here
        x = x.detach().cpu().numpy()
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except Exception as err:  # pragma: no cover - exotic inputs
            kind = type(x).__name__
            raise TypeError(f"`{name}` must be an array or a tensor, got {kind}") from err
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise TypeError(f"`{name}` must hold numbers, got dtype {x.dtype}")
    return np.array(x)


def to_image(x, name="image"):
    """One image as ``imshow`` wants it: ``(H, W)`` or ``(H, W, 3|4)`` floats in [0, 1].

    Accepts ``(H, W)``, ``(C, H, W)`` or ``(H, W, C)`` with ``C`` in 1, 3, 4, as numpy or torch.
    The layout is channels-first when the first axis has 1, 3 or 4 entries and the last does
    not, or when both do and the first is smaller (``(1, 4, 4)`` is a 4x4 grayscale image).
    ``uint8`` is divided by 255; floats already in [0, 1] stay; any other floats (normalised
    images, activations) are rescaled from their min-max range to [0, 1].
    """
    x = to_numpy(x, name)
    if x.ndim == 3:
        first, last = x.shape[0] in (1, 3, 4), x.shape[-1] in (1, 3, 4)
        if first and (not last or x.shape[0] < x.shape[-1]):
            x = np.moveaxis(x, 0, -1)  # (H, W, C)
        if x.shape[-1] not in (1, 3, 4):
            raise ValueError(f"`{name}` must have 1, 3 or 4 channels, got shape {x.shape}")
        if x.shape[-1] == 1:
            x = x[..., 0]  # (H, W)
    elif x.ndim != 2:
        raise ValueError(f"`{name}` must be (H, W), (C, H, W) or (H, W, C), got shape {x.shape}")
    if x.dtype == np.uint8:
        return x.astype(np.float64) / 255.0
    x = x.astype(np.float64)
    lo, hi = float(x.min()), float(x.max())
    if lo >= 0.0 and hi <= 1.0:
        return x
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def to_image_list(images, name="images"):
    """A list of images from a list, or a batch ``(N, C, H, W)``, ``(N, H, W, C)``, ``(N, H, W)``.

    A 3-D array is one image when its first or last axis has 1, 3 or 4 entries, else a batch of
    grayscale images.
    """
    if isinstance(images, (list, tuple)):
        return [to_image(im, f"{name}[{i}]") for i, im in enumerate(images)]
    arr = to_numpy(images, name)
    if arr.ndim == 4 or (
        arr.ndim == 3 and arr.shape[0] not in (1, 3, 4) and arr.shape[-1] not in (1, 3, 4)
    ):  # (N, C, H, W) or (N, H, W)
        return [to_image(im, f"{name}[{i}]") for i, im in enumerate(arr)]
    if arr.ndim in (2, 3):
        return [to_image(arr, name)]
    raise ValueError(f"`{name}` must be one image, a batch (N, C, H, W) or a list, got {arr.shape}")


def imshow(ax, image, title=None, **kwargs):
    """Draw an image from :func:`to_image` without ticks; grayscale uses the gray colormap."""
    if image.ndim == 2:
        kwargs.setdefault("cmap", "gray")
        kwargs.setdefault("vmin", 0.0)
        kwargs.setdefault("vmax", 1.0)
    ax.imshow(image, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(str(title), fontsize=9)
