"""Random geometric transforms: flips, rotation, crops and zoom.

Each moves pixels around without changing their values (up to interpolation), so a digit stays
the same digit as long as the change is small: a flip is fine for a photo of a cat, not for a 6.
"""

import math

import torch.nn.functional as F

from . import functional as AF
from .base import RandomTransform, check_probability, check_range


def _size_pair(size, name="size"):
    if isinstance(size, int):
        size = (size, size)
    if not (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(s, int) and s > 0 for s in size)
    ):
        raise ValueError(f"`{name}` must be a positive int or a pair of them, got {size!r}")
    return tuple(size)


class RandomHorizontalFlip(RandomTransform):
    """Mirror the image left-right with probability ``p``.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[[1.0, 2.0]]])
    >>> RandomHorizontalFlip(p=1.0)(x)
    tensor([[[2., 1.]]])
    """

    def __init__(self, p=0.5, seed=None, generator=None):
        super().__init__(seed, generator)
        self.p = check_probability(p)

    def transform_one(self, img, generator):
        return AF.hflip(img) if self.coin(self.p, generator) else img


class RandomVerticalFlip(RandomTransform):
    """Mirror the image top-bottom with probability ``p``."""

    def __init__(self, p=0.5, seed=None, generator=None):
        super().__init__(seed, generator)
        self.p = check_probability(p)

    def transform_one(self, img, generator):
        return AF.vflip(img) if self.coin(self.p, generator) else img


class RandomRotation(RandomTransform):
    """Rotate by an angle drawn uniformly from ``degrees`` (a number ``d`` means ``[-d, d]``).

    Pixels that rotate in from outside the image get ``fill``.

    Shape
    -----
    ``(C, H, W)`` -> ``(C, H, W)``; a batch gets one angle per image.
    """

    def __init__(self, degrees, interpolation="bilinear", fill=0.0, seed=None, generator=None):
        super().__init__(seed, generator)
        self.degrees = check_range(degrees, "degrees", lower=-math.inf, centre=0.0)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(
                f"`interpolation` must be 'nearest' or 'bilinear', got {interpolation!r}"
            )
        if not isinstance(fill, (int, float)):
            raise ValueError(f"`fill` must be a number, got {fill!r}")
        self.interpolation = interpolation
        self.fill = fill

    def transform_one(self, img, generator):
        angle = self.uniform(*self.degrees, generator)
        return AF.rotate(img, angle, interpolation=self.interpolation, fill=self.fill)


class RandomCrop(RandomTransform):
    """Pad each side by ``padding`` pixels, then cut a ``size`` window at a random position.

    With ``padding=p`` and ``size`` equal to the image size this is a random shift of up to ``p``
    pixels in each direction, the classic augmentation for small images.

    Shape
    -----
    ``(C, H, W)`` -> ``(C, size[0], size[1])``.
    """

    def __init__(
        self, size, padding=0, fill=0.0, padding_mode="constant", seed=None, generator=None
    ):
        super().__init__(seed, generator)
        self.size = _size_pair(size)
        if not isinstance(padding, int) or padding < 0:
            raise ValueError(f"`padding` must be a non-negative int, got {padding!r}")
        if padding_mode not in ("constant", "reflect", "replicate"):
            raise ValueError(
                f"`padding_mode` must be 'constant', 'reflect' or 'replicate', got {padding_mode!r}"
            )
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def transform_one(self, img, generator):
        if self.padding:
            p = self.padding
            if self.padding_mode == "constant":
                img = F.pad(img, (p, p, p, p), value=self.fill)  # (C, H + 2p, W + 2p)
            else:
                padded = F.pad(img.unsqueeze(0).float(), (p, p, p, p), mode=self.padding_mode)
                img = AF._restore_dtype(padded[0], img.dtype)
        H, W = img.shape[-2:]
        h, w = self.size
        if h > H or w > W:
            raise ValueError(f"crop `size` {self.size} is larger than the padded image {H}x{W}")
        top = self.randint(0, H - h + 1, generator)
        left = self.randint(0, W - w + 1, generator)
        return AF.crop(img, top, left, h, w)


class RandomResizedCrop(RandomTransform):
    """Zoom: cut a window of random area and aspect ratio, resize it to ``size``.

    The window covers a fraction of the image drawn uniformly from ``scale`` and has a width/height
    ratio drawn log-uniformly from ``ratio`` (torchvision's recipe, 10 tries, then a central crop).

    Shape
    -----
    ``(C, H, W)`` -> ``(C, size[0], size[1])``.
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), seed=None, generator=None):
        super().__init__(seed, generator)
        self.size = _size_pair(size)
        self.scale = check_range(scale, "scale")
        if self.scale[1] > 1.0 or self.scale[0] <= 0.0:
            raise ValueError(f"`scale` must lie in (0, 1], got {scale!r}")
        self.ratio = check_range(ratio, "ratio")
        if self.ratio[0] <= 0:
            raise ValueError(f"`ratio` must be positive, got {ratio!r}")

    def get_params(self, height, width, generator):
        """``(top, left, h, w)`` of the window for a ``height x width`` image."""
        area = height * width
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target_area = area * self.uniform(*self.scale, generator)
            aspect = math.exp(self.uniform(*log_ratio, generator))
            w = round(math.sqrt(target_area * aspect))
            h = round(math.sqrt(target_area / aspect))
            if 0 < w <= width and 0 < h <= height:
                top = self.randint(0, height - h + 1, generator)
                left = self.randint(0, width - w + 1, generator)
                return top, left, h, w
        # Fallback: the largest central window whose aspect ratio lies inside `ratio`.
        in_ratio = width / height
        if in_ratio < self.ratio[0]:
            w, h = width, round(width / self.ratio[0])
        elif in_ratio > self.ratio[1]:
            h, w = height, round(height * self.ratio[1])
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def transform_one(self, img, generator):
        top, left, h, w = self.get_params(*img.shape[-2:], generator)
        return AF.resized_crop(img, top, left, h, w, self.size)


__all__ = [
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomVerticalFlip",
]
