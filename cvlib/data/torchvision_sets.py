"""MNIST and CIFAR-10 through torchvision, cached in one folder (Fashion-MNIST:
:mod:`cvlib.data.fashion_mnist`, which also finds the files where Debian puts them).

The folder is ``root`` when given, else the environment variable ``CVLIB_DATA``, else
``~/.cache/cvlib``. Nothing is downloaded unless you pass ``download=True``; when the files are
missing (or the download fails, e.g. offline) a :class:`RuntimeError` says which files to put
where.
"""

import gzip
import os
import shutil
from pathlib import Path

__all__ = ["cifar10", "data_root", "mnist"]

_SPLITS = ("train", "test")
_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def data_root(root=None):
    """The cache folder: ``root``, else ``$CVLIB_DATA``, else ``~/.cache/cvlib``.

    Examples
    --------
    >>> str(data_root("/tmp/somewhere"))
    '/tmp/somewhere'
    """
    if root is None:
        root = os.environ.get("CVLIB_DATA") or Path.home() / ".cache" / "cvlib"
    return Path(root).expanduser()


def _check_split(split):
    if split not in _SPLITS:
        raise ValueError(f"`split` must be 'train' or 'test', got {split!r}")


def _default_transform(transform):
    if transform is not None:
        return transform
    from torchvision.transforms import ToTensor

    return ToTensor()  # PIL image -> float tensor (C, H, W) in [0, 1]


def _gunzip_present(raw):
    """Decompress ``X.gz`` files dropped into ``raw`` by hand when ``X`` is missing."""
    for name in _MNIST_FILES:
        packed, plain = raw / f"{name}.gz", raw / name
        if packed.exists() and not plain.exists():
            with gzip.open(packed, "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst)


def _mnist_like(cls, title, split, root, download, transform):
    _check_split(split)
    root = data_root(root)
    raw = root / cls.__name__ / "raw"
    if raw.is_dir():
        _gunzip_present(raw)
    try:
        return cls(
            str(root),
            train=split == "train",
            download=download,
            transform=_default_transform(transform),
        )
    except (RuntimeError, OSError) as err:
        urls = ", ".join(cls.mirrors)
        files = ", ".join(f"{name}.gz" for name in _MNIST_FILES)
        how = "the download failed" if download else "download=False"
        raise RuntimeError(
            f"{title} was not found in {raw} and {how} ({type(err).__name__}: {err}).\n"
            f"Either call again with download=True on a machine with internet access, or copy the "
            f"four files {files} (from {urls}) into {raw}; they are decompressed on first use. "
            f"Use root=... or the CVLIB_DATA environment variable to choose another folder."
        ) from err


def mnist(split="train", root=None, download=False, transform=None):
    """The MNIST handwritten digits (60,000 train / 10,000 test, 28x28 grayscale).

    Parameters
    ----------
    split : {"train", "test"}
    root : str or Path, optional
        Cache folder (see :func:`data_root`); files live in ``root/MNIST/raw``.
    download : bool, default False
        Fetch the files when missing (needs internet).
    transform : callable, optional
        Applied to each PIL image; default ``ToTensor()``.

    Returns
    -------
    torchvision.datasets.MNIST
        ``dataset[i]`` is ``(image (1, 28, 28) float in [0, 1], label int)``.

    Raises
    ------
    RuntimeError
        When the files are missing and cannot be downloaded; the message says where to put them.
    """
    from torchvision.datasets import MNIST

    return _mnist_like(MNIST, "MNIST", split, root, download, transform)


def cifar10(split="train", root=None, download=False, transform=None):
    """CIFAR-10 (50,000 train / 10,000 test colour images, 32x32, 10 classes).

    Parameters
    ----------
    split : {"train", "test"}
    root : str or Path, optional
        Cache folder; the batches live in ``root/cifar-10-batches-py``.
    download : bool, default False
    transform : callable, optional
        Default ``ToTensor()``, giving (3, 32, 32) floats in [0, 1].

    Returns
    -------
    torchvision.datasets.CIFAR10

    Raises
    ------
    RuntimeError
        When the files are missing or corrupted (torchvision checks each file's MD5) and cannot
        be downloaded.
    """
    from torchvision.datasets import CIFAR10

    _check_split(split)
    root = data_root(root)
    try:
        return CIFAR10(
            str(root),
            train=split == "train",
            download=download,
            transform=_default_transform(transform),
        )
    except (RuntimeError, OSError) as err:
        how = "the download failed" if download else "download=False"
        raise RuntimeError(
            f"CIFAR-10 was not found (or is corrupted) in {root / CIFAR10.base_folder} and {how} "
            f"({type(err).__name__}: {err}).\n"
            f"Either call again with download=True on a machine with internet access, or put "
            f"{CIFAR10.filename} (from {CIFAR10.url}) into {root} and call with download=True "
            f"(a present archive is only checked and extracted), or extract it yourself so that "
            f"{root / CIFAR10.base_folder} holds data_batch_1..5, test_batch and batches.meta. "
            f"Use root=... or the CVLIB_DATA environment variable to choose another folder."
        ) from err
