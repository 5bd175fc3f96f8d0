"""Data augmentation written from scratch on torch tensors, shaped like torchvision.transforms.v2.

A transform is a callable on an image tensor ``(C, H, W)`` (and a batch ``(N, C, H, W)``, each
image with its own random draw) that returns an image; labels never pass through it. Wrap a
dataset with :class:`Augmented` to augment its images on the fly. Deterministic operations live
in :mod:`cvlib.augment.functional` (``hflip``, ``rotate``, ``adjust_contrast``, ...).

Beyond one image at a time: :mod:`cvlib.augment.mix` mixes pairs of images and their labels
(``mixup``, ``cutmix``), and :mod:`cvlib.augment.tta` averages a model's predictions over views
of each test image (``tta_predict``).

The digit experiments' own recipes are :func:`default_augmentation` and :func:`perturbed`
(:mod:`cvlib.augment.presets`).

Reproducibility: every random transform takes ``seed=`` or ``generator=``; ``Compose`` passes its
own generator to every step.

Examples
--------
>>> import torch
>>> from cvlib import augment as A
>>> t = A.Compose([A.RandomCrop(28, padding=2), A.RandomRotation(10)], seed=0)
>>> t(torch.rand(1, 28, 28)).shape
torch.Size([1, 28, 28])
"""

from . import functional
from .base import Augmented, Compose, Normalize, RandomTransform, make_generator
from .batched import BatchAffine, affine, augmenting_collate
from .geometric import (
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
)
from .mix import blend_pairs, cutmix, cutmix_box, mixup, paste_box, soft_targets
from .photometric import ColorJitter, GaussianNoise, RandomErasing, RandomSharpness
from .presets import default_augmentation, perturbed
from .tta import flip_shift_views, tta_predict

__all__ = [
    "Augmented",
    "BatchAffine",
    "ColorJitter",
    "Compose",
    "GaussianNoise",
    "Normalize",
    "RandomCrop",
    "RandomErasing",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomSharpness",
    "RandomTransform",
    "RandomVerticalFlip",
    "affine",
    "augmenting_collate",
    "blend_pairs",
    "cutmix",
    "cutmix_box",
    "default_augmentation",
    "flip_shift_views",
    "functional",
    "make_generator",
    "mixup",
    "paste_box",
    "perturbed",
    "soft_targets",
    "tta_predict",
]
