"""Data sets for the course, all usable with ``torch.utils.data.DataLoader``.

Offline, built in: :func:`digits` (scikit-learn's real 8x8 handwritten digits), :func:`shapes`
(synthetic circles, squares and triangles with boxes and masks), :func:`xo` (the X-or-O case
study), :func:`sample_images` (photographs shipped with scikit-image).
Found on disk: :func:`fashion_mnist` (Zalando's clothing photographs, 28x28), in Debian's
package ``dataset-fashion-mnist``, a folder of your own or torchvision's cache;
:func:`capstone_data`, assignment 6's fixed part of it at 14x14.
Downloaded once into a cache folder: :func:`mnist`, :func:`cifar10`.
Parts of a data set: :func:`class_subset`, :func:`few_shot`, :func:`train_val_split`
(:mod:`cvlib.data.subsets`).
"""

from ._base import ImageDataset
from .digits import digits, upsample
from .fashion_mnist import capstone_data, fashion_mnist
from .photos import sample_images
from .shapes import TEST_SEED_OFFSET, ShapesDataset, shapes
from .subsets import class_subset, few_shot, relabel, train_val_split
from .torchvision_sets import cifar10, data_root, mnist
from .xo import xo

__all__ = [
    "TEST_SEED_OFFSET",
    "ImageDataset",
    "ShapesDataset",
    "capstone_data",
    "cifar10",
    "class_subset",
    "data_root",
    "digits",
    "fashion_mnist",
    "few_shot",
    "mnist",
    "relabel",
    "sample_images",
    "shapes",
    "train_val_split",
    "upsample",
    "xo",
]
