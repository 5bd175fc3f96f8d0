"""The deep-training chapter's data: training and validation images for its measurements.

Two data sets, both split into training and validation images held out of the *training*
file (the comparisons of settings never look at a test file):

- ``"digits"``: scikit-learn's 8x8 digits (:func:`cvlib.experiments.common.digit_splits`:
  1,077 training and 360 validation images), the hand-checkable small case;
- ``"fashion"``: a fixed few-label part of Fashion-MNIST's training file, ``per_class``
  training and ``val_per_class`` validation photographs of every class (28x28), drawn once with
  ``seed``. On it a small network is far from perfect, so differences between training setups
  show (on the digits most setups end near 100%). ``size=14`` averages each 2x2 block of pixels
  (a quarter of the pixels, a quarter of a convolution's work: the deep networks' recipe).

Examples
--------
>>> train, val = splits("fashion", per_class=10, val_per_class=5)
>>> len(train), len(val), tuple(train.tensors[0].shape[1:])
(100, 50, (1, 28, 28))
>>> small, _ = fashion_splits(10, 5, size=14)
>>> tuple(small.tensors[0].shape[1:])
(1, 14, 14)
"""

import functools

import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from cvlib.data import fashion_mnist, few_shot

from .common import VAL_SIZE, digit_splits

__all__ = ["DATASETS", "fashion_splits", "splits"]

DATASETS = ("digits", "fashion")


def fashion_splits(per_class=100, val_per_class=50, seed=0, size=28):
    """``(train, val)`` TensorDatasets: ``per_class`` and ``val_per_class`` distinct training
    photographs of every class of Fashion-MNIST, drawn with ``seed``; images (N, 1, size, size).

    ``size`` divides 28: each output pixel is the mean of a ``28 // size`` square block (area
    averaging, as ``F.avg_pool2d`` computes it). The photographs are listed class by class."""
    for name, value in (("per_class", per_class), ("val_per_class", val_per_class)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be a positive int, got {value!r}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1 or 28 % size:
        raise ValueError(f"`size` must be a positive int that divides 28, got {size!r}")
    return _fashion_splits(per_class, val_per_class, seed, size)


@functools.lru_cache(maxsize=4)
def _fashion_splits(per_class, val_per_class, seed, size):
    if size != 28:  # the same photographs as at 28x28, each k x k block averaged
        k = 28 // size
        return tuple(
            TensorDataset(F.avg_pool2d(part.tensors[0], k), part.tensors[1])  # (N, 1, size, size)
            for part in _fashion_splits(per_class, val_per_class, seed, 28)
        )
    full = fashion_mnist("train")
    n = per_class + val_per_class
    images, labels = few_shot(TensorDataset(full.images, full.labels), n, seed).tensors
    first = torch.arange(len(labels)) % n < per_class  # few_shot lists each class's n in a block
    return TensorDataset(images[first], labels[first]), TensorDataset(
        images[~first], labels[~first]
    )


def splits(data, image_size=None, per_class=100, val_per_class=50, seed=0, val_size=VAL_SIZE):
    """``(train, val)`` of ``data``: ``"digits"`` at ``image_size`` (default 8; ``val_size`` of
    them for validation), or ``"fashion"`` (:func:`fashion_splits`, default 28)."""
    if data == "digits":
        return digit_splits(8 if image_size is None else image_size, val_size)[:2]
    if data == "fashion":
        size = 28 if image_size is None else image_size
        return fashion_splits(per_class, val_per_class, seed, size)
    raise ValueError(f"`data` must be one of {DATASETS}, got {data!r}")
