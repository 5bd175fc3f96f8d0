"""The "X or O?" case study: glyphs shifted, scaled, rotated and deformed.

A computer compares pixel values literally, so an X moved by two pixels no longer matches the
template X. This generator makes that concrete: every image is an X (label 1) or an O (label 0)
drawn under a random similarity transform plus a smooth random warp.

Rendering works backwards, in numpy only: each pixel centre is mapped into the glyph's own
coordinates (the inverse of shift, scale and rotation, then a sinusoidal warp), where the glyph
is a set of points within ``thickness / 2`` of its strokes: two diagonals for X, a circle for O.
A one-pixel-wide linear ramp at the edge gives anti-aliased strokes.
"""

import numpy as np
import torch

from ._base import ImageDataset

__all__ = ["CLASSES", "xo"]

CLASSES = ("O", "X")


def _distance_to_x(u, v):
    """Distance from (u, v) to the two diagonals of the square [-1, 1]^2 (the strokes of an X)."""
    t = np.clip((u + v) / 2, -1.0, 1.0)  # projection onto the diagonal direction (1, 1)
    d1 = np.hypot(u - t, v - t)
    s = np.clip((u - v) / 2, -1.0, 1.0)  # projection onto the anti-diagonal (1, -1)
    d2 = np.hypot(u - s, v + s)
    return np.minimum(d1, d2)


def _distance_to_o(u, v, radius=0.85):
    return np.abs(np.hypot(u, v) - radius)


def _render(rng, label, size, shift, scale, rotation, deform, thickness):
    """One glyph as a (size, size) float array in [0, 1]."""
    coords = (np.arange(size) + 0.5) / size * 2 - 1  # pixel centres in [-1, 1]
    y, x = np.meshgrid(coords, coords, indexing="ij")  # (size, size) each
    s = rng.uniform(*scale) * 0.7  # glyph half-width relative to the image half-width
    angle = np.deg2rad(rng.uniform(-rotation, rotation))
    dy, dx = rng.uniform(-shift, shift, size=2)
    # inverse similarity transform: image coordinates -> glyph coordinates
    xs, ys = (x - dx) / s, (y - dy) / s
    u = np.cos(angle) * xs + np.sin(angle) * ys
    v = -np.sin(angle) * xs + np.cos(angle) * ys
    # smooth deformation: each coordinate bends along a random low-frequency sine
    amp = rng.uniform(0, deform, size=2)
    freq = rng.uniform(0.5, 1.5, size=2) * np.pi
    phase = rng.uniform(0, 2 * np.pi, size=2)
    u, v = u + amp[0] * np.sin(freq[0] * v + phase[0]), v + amp[1] * np.sin(freq[1] * u + phase[1])
    distance = _distance_to_x(u, v) if label == 1 else _distance_to_o(u, v)
    pixel = 2 / size / s  # one pixel in glyph units
    return np.clip((thickness / 2 - distance) / pixel + 0.5, 0.0, 1.0)


def xo(
    n,
    size=28,
    seed=0,
    shift=0.2,
    scale=(0.7, 1.1),
    rotation=30.0,
    deform=0.15,
    thickness=0.3,
    transform=None,
):
    """``n`` images of X (label 1) and O (label 0) glyphs, half of each, in shuffled order.

    Parameters
    ----------
    n : int
        Number of images; ``n // 2`` are O and ``n - n // 2`` are X.
    size : int, default 28
        Height and width in pixels (at least 8).
    seed : int, default 0
    shift : float, default 0.2
        Largest move of the glyph centre, as a fraction of the image half-width.
    scale : (float, float), default (0.7, 1.1)
        Range of the random scale factor.
    rotation : float, default 30
        Largest rotation in degrees (either way).
    deform : float, default 0.15
        Largest amplitude of the sinusoidal warp, in glyph units (the glyph spans [-1, 1]).
        0 gives rigid glyphs.
    thickness : float, default 0.3
        Stroke width in glyph units.
    transform : callable, optional

    Returns
    -------
    ImageDataset
        ``.images`` float32 in [0, 1] (white glyph on black), ``.labels`` int64,
        ``.classes`` ("O", "X").

    Shape
    -----
    images : (n, 1, size, size); labels : (n,)

    Examples
    --------
    >>> data = xo(10, size=16, seed=3)
    >>> data.images.shape, int(data.labels.sum())
    (torch.Size([10, 1, 16, 16]), 5)
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"`n` must be a positive integer, got {n!r}")
    if not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"`size` must be an integer of at least 8, got {size!r}")
    if len(scale) != 2 or not 0 < scale[0] <= scale[1]:
        raise ValueError(f"`scale` must be (low, high) with 0 < low <= high, got {scale!r}")
    for name, value in (("shift", shift), ("rotation", rotation), ("deform", deform)):
        if value < 0:
            raise ValueError(f"`{name}` must be non-negative, got {value!r}")
    if thickness <= 0:
        raise ValueError(f"`thickness` must be positive, got {thickness!r}")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) >= n // 2).astype(np.int64)
    images = np.stack(
        [_render(rng, label, size, shift, scale, rotation, deform, thickness) for label in labels]
    )  # (n, size, size)
    images = torch.from_numpy(images.astype(np.float32)).unsqueeze(1)  # (n, 1, size, size)
    return ImageDataset(images, torch.from_numpy(labels), CLASSES, transform)
