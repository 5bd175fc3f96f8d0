"""Random photometric transforms: colour jitter, noise, sharpness and erasing.

They change pixel values and leave positions alone. Inputs are floating-point images in [0, 1];
outputs stay in [0, 1] (``GaussianNoise(clip=False)`` aside).
"""

import math

import torch

from . import functional as AF
from .base import RandomTransform, check_probability, check_range


class ColorJitter(RandomTransform):
    """Random brightness, contrast, saturation and hue changes, applied in a random order.

    ``brightness=b`` draws a factor from ``[max(0, 1 - b), 1 + b]`` (likewise contrast and
    saturation); ``hue=h`` draws a shift from ``[-h, h]`` with ``0 <= h <= 0.5``. A pair gives the
    range directly. ``0`` switches a change off.

    Examples
    --------
    >>> x = torch.rand(3, 8, 8)
    >>> torch.equal(ColorJitter()(x), x)
    True
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0, seed=None, generator=None):
        super().__init__(seed, generator)
        self.brightness = check_range(brightness, "brightness")
        self.contrast = check_range(contrast, "contrast")
        self.saturation = check_range(saturation, "saturation")
        self.hue = check_range(hue, "hue", lower=-0.5, centre=0.0)
        if self.hue[1] > 0.5:
            raise ValueError(f"`hue` must lie in [-0.5, 0.5], got {hue!r}")

    def transform_one(self, img, generator):
        AF._check_image(img, floating=True)
        steps = [
            (AF.adjust_brightness, self.brightness, 1.0),
            (AF.adjust_contrast, self.contrast, 1.0),
            (AF.adjust_saturation, self.saturation, 1.0),
            (AF.adjust_hue, self.hue, 0.0),
        ]
        for k in torch.randperm(4, generator=generator).tolist():
            fn, (low, high), neutral = steps[k]
            if (low, high) != (neutral, neutral):
                img = fn(img, self.uniform(low, high, generator))
        return img


class GaussianNoise(RandomTransform):
    """Add independent normal noise of standard deviation ``std`` to every value.

    Shape
    -----
    ``(C, H, W)`` or ``(N, C, H, W)`` -> same shape; values clamped to [0, 1] when ``clip``.
    """

    def __init__(self, std=0.1, mean=0.0, clip=True, seed=None, generator=None):
        super().__init__(seed, generator)
        if not isinstance(std, (int, float)) or std < 0:
            raise ValueError(f"`std` must be a non-negative number, got {std!r}")
        self.std, self.mean, self.clip = float(std), float(mean), bool(clip)

    def transform_one(self, img, generator):
        AF._check_image(img, floating=True)
        noise = torch.randn(img.shape, generator=generator, dtype=img.dtype)
        return AF.gaussian_noise(img, self.mean + self.std * noise, clip=self.clip)


class RandomSharpness(RandomTransform):
    """With probability ``p``, apply :func:`~cvlib.augment.functional.adjust_sharpness`.

    ``sharpness_factor`` 0 blurs, 1 leaves the image alone, 2 sharpens (torchvision's
    ``RandomAdjustSharpness``). The blur is a 3x3 kernel built from ``cvlib.kernels``.
    """

    def __init__(self, sharpness_factor, p=0.5, seed=None, generator=None):
        super().__init__(seed, generator)
        if not isinstance(sharpness_factor, (int, float)) or sharpness_factor < 0:
            raise ValueError(
                f"`sharpness_factor` must be a non-negative number, got {sharpness_factor!r}"
            )
        self.sharpness_factor = float(sharpness_factor)
        self.p = check_probability(p)

    def transform_one(self, img, generator):
        if self.coin(self.p, generator):
            return AF.adjust_sharpness(img, self.sharpness_factor)
        return img


class RandomErasing(RandomTransform):
    """With probability ``p``, blank out a random rectangle (Zhong et al., 2017, "cutout").

    The rectangle covers a fraction of the image drawn from ``scale`` with an aspect ratio drawn
    log-uniformly from ``ratio``; it is filled with ``value`` (a number) or, for
    ``value="random"``, with standard normal noise. Works on floating-point images.
    """

    def __init__(
        self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0, seed=None, generator=None
    ):
        super().__init__(seed, generator)
        self.p = check_probability(p)
        self.scale = check_range(scale, "scale")
        if self.scale[1] > 1.0:
            raise ValueError(f"`scale` must lie in [0, 1], got {scale!r}")
        self.ratio = check_range(ratio, "ratio")
        if self.ratio[0] <= 0:
            raise ValueError(f"`ratio` must be positive, got {ratio!r}")
        if not (value == "random" or isinstance(value, (int, float))):
            raise ValueError(f"`value` must be a number or 'random', got {value!r}")
        self.value = value

    def get_params(self, img, generator):
        """``(top, left, h, w, value)`` of the rectangle, or ``None`` after 10 failed tries."""
        C, H, W = img.shape[-3:]
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            area = H * W * self.uniform(*self.scale, generator)
            aspect = math.exp(self.uniform(*log_ratio, generator))
            h = round(math.sqrt(area * aspect))
            w = round(math.sqrt(area / aspect))
            if not (0 < h < H and 0 < w < W):
                continue
            if self.value == "random":
                value = torch.randn((C, h, w), generator=generator, dtype=img.dtype)
            else:
                value = self.value
            top = self.randint(0, H - h + 1, generator)
            left = self.randint(0, W - w + 1, generator)
            return top, left, h, w, value
        return None

    def transform_one(self, img, generator):
        if not self.coin(self.p, generator):
            return img
        params = self.get_params(img, generator)
        return img if params is None else AF.erase(img, *params)


__all__ = ["ColorJitter", "GaussianNoise", "RandomErasing", "RandomSharpness"]
