"""The fast path for training: random flips, turns, zooms and shifts of a whole batch at once.

The transforms of :mod:`cvlib.augment.geometric` treat one image at a time, which is what a
reader should see first; for a batch they loop in Python, one ``grid_sample`` per image and per
transform. :class:`BatchAffine` draws every image's parameters at once and moves all the pixels
with a single ``affine_grid`` / ``grid_sample`` call, and :func:`augmenting_collate` plugs it
into a ``DataLoader``, so each batch is augmented as it is assembled. ``tests/test_augment.py``
checks :func:`affine` against :func:`~cvlib.augment.functional.hflip`,
:func:`~cvlib.augment.functional.rotate` and :func:`~cvlib.augment.functional.shift`.
"""

import torch
import torch.nn.functional as F
from torch.utils.data import default_collate

from . import functional as AF
from .base import check_probability, make_generator

__all__ = ["BatchAffine", "affine", "augmenting_collate"]


def affine(images, angle, zoom, dx, dy, flip):
    """Mirror (where ``flip``), turn by ``angle`` degrees counter-clockwise, magnify by ``zoom``
    and move by ``(dx, dy)`` pixels (right, down), every image with its own values.

    Output pixel ``p`` (relative to the centre) reads the input at ``R(angle) p / zoom - d``,
    mirrored left-right where ``flip``; pixels from outside the image are 0, values between
    pixels are interpolated bilinearly. A zoom of 1, an angle of 0 and whole-pixel shifts move
    pixels exactly (a flip alone is ``hflip``, a shift alone is ``shift``).

    Parameters
    ----------
    images : Tensor, shape (N, C, H, W), floating point
    angle, zoom, dx, dy : Tensor, shape (N,)
    flip : Tensor of bool, shape (N,)

    Returns
    -------
    Tensor, shape (N, C, H, W)
    """
    AF._check_image(images, "images", floating=True)
    if images.dim() != 4:
        raise ValueError(f"`images` must be a batch (N, C, H, W), got shape {tuple(images.shape)}")
    N, C, H, W = images.shape
    params = {"angle": angle, "zoom": zoom, "dx": dx, "dy": dy, "flip": flip}
    for name, value in params.items():
        if not isinstance(value, torch.Tensor) or value.shape != (N,):
            raise ValueError(f"`{name}` must be a tensor of shape ({N},), one value per image")
    if (zoom <= 0).any():
        raise ValueError("`zoom` must be positive")
    a = torch.deg2rad(angle.to(images.dtype))
    cos, sin = torch.cos(a), torch.sin(a)
    mirror = 1.0 - 2.0 * flip.to(images.dtype)  # -1 where flipped: x -> -x
    z = zoom.to(images.dtype)
    theta = torch.zeros(N, 2, 3, dtype=images.dtype)  # (N, 2, 3)
    theta[:, 0, 0] = cos * mirror / z
    theta[:, 0, 1] = -sin * H / W / z
    theta[:, 1, 0] = sin * W / H * mirror / z
    theta[:, 1, 1] = cos / z
    theta[:, 0, 2] = -2.0 * dx.to(images.dtype) / W
    theta[:, 1, 2] = -2.0 * dy.to(images.dtype) / H
    grid = F.affine_grid(theta, [N, C, H, W], align_corners=False)  # (N, H, W, 2)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class BatchAffine:
    """Random mirror (probability ``hflip``), turn (up to ``degrees`` either way), zoom (by a
    factor drawn from ``zoom``) and whole-pixel shift (up to ``shift`` pixels each way), drawn
    independently for every image of a batch and applied in one :func:`affine` call.

    ``BatchAffine(degrees=12, zoom=(1.0, 1.12), shift=2)`` is the batched counterpart of
    :func:`~cvlib.augment.default_augmentation` (whose crop of 80-100% of the area magnifies by
    1 to 1.12); add ``hflip=0.5`` for photographs whose mirror image is as likely as the image.

    Examples
    --------
    >>> t = BatchAffine(hflip=0.5, shift=2, seed=0)
    >>> t(torch.rand(8, 1, 28, 28)).shape
    torch.Size([8, 1, 28, 28])
    """

    def __init__(self, hflip=0.0, degrees=0.0, zoom=(1.0, 1.0), shift=0, seed=None, generator=None):
        check_probability(hflip, "hflip")
        if not isinstance(degrees, int | float) or not 0 <= degrees <= 180:
            raise ValueError(f"`degrees` must be a number in [0, 180], got {degrees!r}")
        low, high = zoom
        if not 0 < low <= high:
            raise ValueError(f"`zoom` must be (low, high) with 0 < low <= high, got {zoom!r}")
        if isinstance(shift, bool) or not isinstance(shift, int) or shift < 0:
            raise ValueError(f"`shift` must be a non-negative int number of pixels, got {shift!r}")
        self.hflip, self.degrees, self.zoom, self.shift = hflip, degrees, (low, high), shift
        self.generator = make_generator(seed, generator)

    def draw(self, n, generator=None):
        """Parameters for ``n`` images: a dict of ``angle, zoom, dx, dy, flip``, each ``(n,)``."""
        g = generator if generator is not None else self.generator

        def uniform(low, high):
            return low + (high - low) * torch.rand(n, generator=g)

        return {
            "angle": uniform(-self.degrees, self.degrees),
            "zoom": uniform(*self.zoom),
            "dx": torch.randint(-self.shift, self.shift + 1, (n,), generator=g).float(),
            "dy": torch.randint(-self.shift, self.shift + 1, (n,), generator=g).float(),
            "flip": torch.rand(n, generator=g) < self.hflip,
        }

    def __call__(self, images, generator=None):
        return affine(images, **self.draw(len(images), generator))  # (N, C, H, W)

    def __repr__(self):
        return (
            f"BatchAffine(hflip={self.hflip}, degrees={self.degrees}, zoom={self.zoom}, "
            f"shift={self.shift})"
        )


def augmenting_collate(transform, generator=None):
    """A ``DataLoader`` ``collate_fn`` that stacks a batch as usual, then passes its images
    through ``transform`` (a batched transform such as :class:`BatchAffine`); labels untouched.

    With ``generator`` every batch's random draws come from it (``transform(images,
    generator=generator)``), so a training run repeats exactly.

    Examples
    --------
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> data = TensorDataset(torch.rand(10, 1, 8, 8), torch.arange(10))
    >>> loader = DataLoader(data, batch_size=4, collate_fn=augmenting_collate(BatchAffine(shift=1)))
    >>> images, labels = next(iter(loader))
    >>> images.shape, labels.tolist()
    (torch.Size([4, 1, 8, 8]), [0, 1, 2, 3])
    """
    if not callable(transform):
        raise TypeError(f"`transform` must be callable, got {type(transform).__name__}")

    def collate(batch):
        images, *rest = default_collate(batch)
        if generator is not None:
            return [transform(images, generator=generator), *rest]
        return [transform(images), *rest]

    return collate
