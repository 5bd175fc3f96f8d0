"""Parts of a data set: some classes only (relabelled), a few labelled images per class, or a
validation split held out of the training images."""

import numpy as np
import torch
from torch.utils.data import TensorDataset

from ._base import ImageDataset

__all__ = ["class_subset", "few_shot", "relabel", "train_val_split"]


def relabel(labels, classes):
    """``(keep, new_labels)``: which items belong to ``classes``, and their labels renumbered.

    The kept items get ``0 .. len(classes) - 1`` in the order of ``classes``.

    Examples
    --------
    >>> keep, new = relabel(torch.tensor([5, 1, 9, 5]), (9, 5))
    >>> keep.tolist(), new.tolist()
    ([True, False, True, True], [1, 0, 1])
    """
    classes = torch.as_tensor(list(classes), dtype=torch.int64)
    if len(classes) == 0 or len(classes.unique()) != len(classes) or classes.min() < 0:
        raise ValueError(f"`classes` must be distinct non-negative labels, got {classes.tolist()}")
    keep = torch.isin(labels, classes)
    remap = torch.full((int(max(labels.max(), classes.max())) + 1,), -1, dtype=torch.int64)
    remap[classes] = torch.arange(len(classes))
    return keep, remap[labels[keep]]


def class_subset(dataset, classes):
    """Images of ``classes`` only, relabelled ``0 .. len(classes) - 1`` in the given order.

    ``dataset`` has ``.images`` and ``.labels`` tensors (the course's data sets); the result is a
    ``TensorDataset`` of ``(images, labels)``.
    """
    keep, labels = relabel(dataset.labels, classes)
    return TensorDataset(dataset.images[keep], labels)


def few_shot(dataset, per_class, seed):
    """``per_class`` images of every class of a ``TensorDataset``, drawn at random with ``seed``."""
    images, labels = dataset.tensors
    g = torch.Generator().manual_seed(seed)
    picks = []
    for c in labels.unique():
        index = torch.nonzero(labels == c).flatten()
        if len(index) < per_class:
            raise ValueError(f"`per_class`={per_class} but class {int(c)} has {len(index)} images")
        picks.append(index[torch.randperm(len(index), generator=g)[:per_class]])
    picks = torch.cat(picks)
    return TensorDataset(images[picks], labels[picks])


def _images_and_labels(dataset, name):
    """The ``(images, labels)`` tensors of a course data set or of a ``TensorDataset``."""
    if isinstance(dataset, TensorDataset) and len(dataset.tensors) == 2:
        return dataset.tensors
    if hasattr(dataset, "images") and hasattr(dataset, "labels"):
        return dataset.images, dataset.labels
    raise TypeError(
        f"`{name}` must have `.images` and `.labels` or be a TensorDataset of (images, labels), "
        f"got {type(dataset).__name__}"
    )


def train_val_split(dataset, val_size, seed=0):
    """Hold ``val_size`` images out of a training set for validation, the same share per class.

    The validation part is what learning curves, early stopping and the choice of settings
    (learning rate, weight decay, ...) are read on; the test split stays untouched until the
    end. The split is stratified: every class gives the same share of its images, as in
    :func:`cvlib.data.digits`.

    Parameters
    ----------
    dataset : ImageDataset or TensorDataset
        Images ``(N, C, H, W)`` and labels ``(N,)``.
    val_size : int or float
        Number of validation images, or their share of ``dataset`` if a float in (0, 1).
    seed : int, default 0
        Seed of the split; the same seed gives the same split.

    Returns
    -------
    train, val : same type as ``dataset``
        An ``ImageDataset`` keeps its ``classes`` and ``transform`` in both parts.

    Shape
    -----
    images (N, C, H, W), labels (N,) -> (N - val_size, C, H, W), (val_size, C, H, W)

    Examples
    --------
    >>> from cvlib.data import digits
    >>> train, val = train_val_split(digits(split="train"), 360)
    >>> len(train), len(val), sorted(set(val.labels.tolist())) == list(range(10))
    (1077, 360, True)
    """
    from sklearn.model_selection import train_test_split

    images, labels = _images_and_labels(dataset, "dataset")
    n = len(labels)
    if isinstance(val_size, bool) or not isinstance(val_size, int | float):
        raise TypeError(f"`val_size` must be an int or a float, got {val_size!r}")
    count = round(val_size * n) if isinstance(val_size, float) else val_size
    if not 0 < count < n:
        raise ValueError(f"`val_size` must leave images on both sides of {n}, got {val_size!r}")
    index = np.arange(n)
    train_index, val_index = train_test_split(
        index, test_size=count, stratify=labels.numpy(), random_state=seed
    )
    parts = []
    for part in (np.sort(train_index), np.sort(val_index)):
        part = torch.from_numpy(part)
        if isinstance(dataset, ImageDataset):
            kept = ImageDataset(images[part], labels[part], dataset.classes, dataset.transform)
        else:
            kept = TensorDataset(images[part], labels[part])
        parts.append(kept)
    return tuple(parts)
