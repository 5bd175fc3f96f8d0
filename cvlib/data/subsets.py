"""Parts of a data set: some classes only (relabelled), or a few labelled images per class."""

import torch
from torch.utils.data import TensorDataset

__all__ = ["class_subset", "few_shot", "relabel"]


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
