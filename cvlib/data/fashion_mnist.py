"""Zalando's Fashion-MNIST, found on disk without a download: clothing photographs, 28x28.

70,000 greyscale photographs of clothing from Zalando's catalogue in 10 classes (60,000 for
training, 10,000 for testing; H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a novel image
dataset for benchmarking machine learning algorithms", arXiv:1708.07747, 2017; MIT licence).
The files are four IDX files, MNIST's format, gzipped or not.

Where the files are looked for, first hit wins (each folder directly, then its torchvision
layout ``FashionMNIST/raw``):

1. ``root`` when it is given (and nothing else);
2. ``$CVLIB_DATA``, else ``~/.cache/cvlib`` (:func:`cvlib.data.data_root`);
3. ``/usr/share/datasets/fashion-mnist``, where Debian's package ``dataset-fashion-mnist``
   puts them (``sudo apt-get install dataset-fashion-mnist``; ``make`` installs it when it runs
   as root).

Nothing is downloaded unless you pass ``download=True``; then torchvision fetches the files into
``data_root(root)/FashionMNIST/raw``. Offline and without the files, a :class:`RuntimeError`
names the folders searched, the Debian package and the download.

Everything the course fixes about the data set lives here: the class names (:data:`CLASSES`),
the split the graders score on (``split="heldout"``), a small fixed subset for quick cells
(``split="quick"``), and assignment 6's data (:func:`capstone_data`: a fixed subset at 14x14).
"""

import functools
import gzip
import os
from pathlib import Path

import numpy as np
import torch

from ._base import ImageDataset

__all__ = [
    "CAPSTONE_PER_CLASS",
    "CLASSES",
    "DEBIAN_FOLDER",
    "DEBIAN_PACKAGE",
    "HELDOUT_PER_CLASS",
    "QUICK_PER_CLASS",
    "SPLITS",
    "capstone_data",
    "fashion_mnist",
    "find_files",
    "read_idx",
]

#: The ten classes, in label order (Xiao et al., 2017, Table 1).
CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")
_FILES = {  # split of the files -> (images, labels), named as Zalando and torchvision name them
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
#: ``split`` values: the official files, the graders' part of the test file, a quick subset.
SPLITS = ("train", "test", "heldout", "quick")
HELDOUT_PER_CLASS = 100  # 1,000 test images that the assignments score on and no chapter shows
QUICK_PER_CLASS = 100  # 1,000 training images for cells that must run in seconds
CAPSTONE_PER_CLASS = 500  # assignment 6 trains on 5,000 training images (see capstone_data)
_SUBSET_SEED = 0  # fixes both subsets; changing it changes every grade and figure built on them
_IDX_DTYPES = {0x08: np.uint8}  # IDX type byte -> dtype (Fashion-MNIST uses unsigned bytes only)


def read_idx(path):
    """Read an IDX file (MNIST's format), gzipped or not, into a numpy array.

    The header is two zero bytes, a type byte (``0x08``: unsigned bytes), the number of
    dimensions ``d``, then ``d`` big-endian int32 sizes; the data follow in C order.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ndarray, uint8, shape given by the header: (N, 28, 28) for images, (N,) for labels

    Raises
    ------
    ValueError
        If the file is not an IDX file of unsigned bytes or its length does not match its header.
    """
    path = Path(path)
    with open(path, "rb") as f:
        packed = f.read(2) == b"\x1f\x8b"  # gzip's magic number
    with (gzip.open if packed else open)(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in _IDX_DTYPES:
        raise ValueError(f"`path` {path} is not an IDX file of unsigned bytes")
    ndim = data[3]
    shape = tuple(int(n) for n in np.frombuffer(data, ">i4", count=ndim, offset=4))
    body = np.frombuffer(data, _IDX_DTYPES[data[2]], offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"`path` {path} holds {body.size} values but its header says {shape}")
    return body.reshape(shape)


def _candidates(root):
    """The folders searched, in order (see the module's docstring)."""
    if root is not None:
        bases = [Path(root).expanduser()]
    else:
        env = os.environ.get("CVLIB_DATA")
        bases = [Path(env) if env else Path.home() / ".cache" / "cvlib", DEBIAN_FOLDER]
    return [folder for base in bases for folder in (base, base / "FashionMNIST" / "raw")]


def _file(folder, name):
    """``folder/name`` or ``folder/name.gz``, whichever exists, else None."""
    for path in (folder / name, folder / f"{name}.gz"):
        if path.is_file():
            return path
    return None


def find_files(root=None):
    """The folder that holds the four Fashion-MNIST files, or None (see the module's docstring).

    Examples
    --------
    >>> find_files("/nonexistent") is None
    True
    """
    for folder in _candidates(root):
        if all(_file(folder, name) for pair in _FILES.values() for name in pair):
            return folder
    return None


def _download(root):
    """Fetch the files with torchvision into ``data_root(root)/FashionMNIST/raw``."""
    from torchvision.datasets import FashionMNIST

    from .torchvision_sets import data_root

    FashionMNIST(str(data_root(root)), train=True, download=True)


def _missing(root, reason):
    searched = "\n".join(f"  {folder}" for folder in _candidates(root))
    names = ", ".join(f"{name}.gz" for pair in _FILES.values() for name in pair)
    return RuntimeError(
        f"Fashion-MNIST was not found ({reason}). Searched, in order:\n{searched}\n"
        f"On Debian or Ubuntu, `sudo apt-get install {DEBIAN_PACKAGE}` puts the four files in "
        f"{DEBIAN_FOLDER}. Elsewhere, call fashion_mnist(download=True) on a machine with "
        f"internet access (torchvision saves them in <root>/FashionMNIST/raw), or copy the "
        f"files {names} into one of the folders above (root=... or $CVLIB_DATA choose it)."
    )


@functools.lru_cache(maxsize=4)
def _arrays(folder, split):
    """``(images (N, 28, 28) uint8, labels (N,) uint8)`` of one file split, read once."""
    images, labels = (read_idx(_file(folder, name)) for name in _FILES[split])
    if images.ndim != 3 or len(images) != len(labels):
        raise ValueError(f"the {split} files in {folder} disagree: {images.shape}, {labels.shape}")
    return images, labels


def _per_class(labels, per_class, seed):
    """Sorted indices of ``per_class`` items of every class, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    picks = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in range(10)]
    return np.sort(np.concatenate(picks))


def _index(split, labels):
    """Which items of the underlying file a split takes (None: all of them)."""
    if split == "heldout":
        return _per_class(labels, HELDOUT_PER_CLASS, _SUBSET_SEED)
    if split == "quick":
        return _per_class(labels, QUICK_PER_CLASS, _SUBSET_SEED)
    return None


def _found(root, download):
    """The folder of the files, downloaded first if asked and missing; else a RuntimeError."""
    folder = find_files(root)
    if folder is None and download:
        try:
            _download(root)
        except (RuntimeError, OSError) as err:
            raise _missing(root, f"the download failed: {type(err).__name__}: {err}") from err
        folder = find_files(root)
    if folder is None:
        raise _missing(root, "download=False" if not download else "the download saved nothing")
    return folder


def fashion_mnist(split="train", root=None, download=False, transform=None):
    """Fashion-MNIST as tensors in memory, found on disk (see the module's docstring).

    Parameters
    ----------
    split : {"train", "test", "heldout", "quick"}, default "train"
        ``"train"`` and ``"test"`` are the official 60,000 and 10,000 images. ``"heldout"`` is
        a fixed 1,000 of the test images (100 per class) that the assignments' hidden tests
        score on; the chapters never show or tune on them. ``"quick"`` is a fixed 1,000 of the
        training images (100 per class) for cells that must run in seconds.
    root : str or Path, optional
        Look only here (and in ``root/FashionMNIST/raw``); also where ``download`` saves.
    download : bool, default False
        When the files are not found, fetch them with torchvision (needs internet).
    transform : callable, optional
        Applied to each image when indexed.

    Returns
    -------
    ImageDataset
        ``.images`` float32 in [0, 1], ``.labels`` int64 in 0..9, ``.classes`` :data:`CLASSES`.

    Shape
    -----
    images : (N, 1, 28, 28); labels : (N,)

    Raises
    ------
    ValueError, TypeError
        For a bad ``split`` or ``download``.
    RuntimeError
        When the files are not found and ``download`` is False or the download fails.

    Examples
    --------
    >>> quick = fashion_mnist("quick")
    >>> quick.images.shape, quick.classes[6]
    (torch.Size([1000, 1, 28, 28]), 'Shirt')
    """
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}, got {split!r}")
    if not isinstance(download, bool):
        raise TypeError(f"`download` must be True or False, got {download!r}")
    images, labels = _arrays(
        _found(root, download), "test" if split in ("test", "heldout") else "train"
    )
    index = _index(split, labels)
    if index is not None:
        images, labels = images[index], labels[index]
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)  # (N, 1, 28, 28)
    y = torch.from_numpy(labels.astype(np.int64))  # (N,)
    return ImageDataset(x, y, CLASSES, transform)


def capstone_data(split="train", root=None):
    """Assignment 6's data: Fashion-MNIST at half resolution, ``(images, labels)`` as numpy arrays.

    The numpy network that students write trains in a graded cell of 120 seconds, twice when
    graded (the notebook's run and the graders' retrain), so it sees a fixed part of the data at
    14x14: every 2x2 square of pixels averaged into one, which keeps the garment's outline and
    costs a quarter of the 28x28 work. ``"train"`` is a fixed :data:`CAPSTONE_PER_CLASS` training
    images of each class, drawn once (the same draw as ``"quick"``, a larger share of each
    class); ``"test"`` is the ``"heldout"`` split, 1,000 test images, 100 of each class. The
    notebook, its graders and ``python -m cvlib.bench capstone`` all read the data here.

    Parameters
    ----------
    split : {"train", "test"}, default "train"
    root : str or Path, optional
        As for :func:`fashion_mnist`.

    Returns
    -------
    images : ndarray of float64, shape (N, 1, 14, 14), values in [0, 1]
    labels : ndarray of int64, shape (N,), classes in :data:`CLASSES`

    Examples
    --------
    >>> images, labels = capstone_data("test")
    >>> images.shape, images.dtype, np.bincount(labels).tolist() == [100] * 10
    ((1000, 1, 14, 14), dtype('float64'), True)
    """
    if split not in ("train", "test"):
        raise ValueError(f"`split` must be 'train' or 'test', got {split!r}")
    images, labels = _arrays(_found(root, False), split)
    per_class = HELDOUT_PER_CLASS if split == "test" else CAPSTONE_PER_CLASS
    index = _per_class(labels, per_class, _SUBSET_SEED)
    pixels = images[index].astype(np.float64) / 255.0  # (N, 28, 28)
    half = pixels.reshape(len(index), 1, 14, 2, 14, 2).mean(axis=(3, 5))  # (N, 1, 14, 14)
    return half, labels[index].astype(np.int64)
