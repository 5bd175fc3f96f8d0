"""The augmentations the course's digit experiments use, in one place.

- :func:`default_augmentation`: small turns, zooms and shifts that keep a digit the same digit
  (no flips), used for pretraining the shipped course CNN and in the augmentation and
  transfer-learning chapters;
- :func:`perturbed`: one fixed, seeded draw of turned and shifted copies of a data set, the test
  set for "does the model cope with digits that are not centred?".
"""

from torch.utils.data import TensorDataset

from .base import Compose
from .geometric import RandomCrop, RandomResizedCrop, RandomRotation

__all__ = ["default_augmentation", "perturbed"]


def default_augmentation(size=28):
    """Rotation up to 12 degrees, resized crop (scale 0.8-1), shift up to 2 pixels.

    Examples
    --------
    >>> import torch
    >>> default_augmentation()(torch.rand(1, 28, 28)).shape
    torch.Size([1, 28, 28])
    """
    return Compose(
        [
            RandomRotation(12),
            RandomResizedCrop(size, scale=(0.8, 1.0), ratio=(0.85, 1.15)),
            RandomCrop(size, padding=2),
        ]
    )


def perturbed(dataset, seed=1234):
    """A fixed copy of a ``TensorDataset`` with every image rotated up to 15 degrees and shifted
    up to 3 pixels (one draw per image, from ``seed``); labels unchanged."""
    images, labels = dataset.tensors
    size = images.shape[-1]
    move = Compose([RandomRotation(15), RandomCrop(size, padding=3)], seed=seed)
    return TensorDataset(move(images), labels)  # (N, C, size, size)
