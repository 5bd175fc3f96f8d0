"""Held-out data for the hidden tests of assignments 3 to 5: images no notebook has seen.

scikit-learn ships only 1,797 digits, and ``cvlib.data.digits(split="all")`` hands all of them to
anybody who asks. So the hidden tests do not score a trained model on the digits themselves but on
a **perturbed copy of the fixed test split**: every image shifted by a random whole number of
pixels (up to ``max_shift`` in each direction, zeros coming in) and its ink scaled by a random
factor in ``[0.8, 1.0]``. A model that learned digits (rather than memorised pixels) scores on
them about as well as on the test split; the thresholds of the assignments leave room for that
small loss. For the shapes of assignment 5 the held-out set is a fresh draw
(``cvlib.data.shapes`` draws every image from its seed).

The draw is seeded by the **graders' seed**, :func:`grader_seed`: the environment variable
``CVLIB_HELDOUT_SEED`` when it is set (an instructor sets it at grading time, for example through
a private ``.heldout_seed`` file that ``nbgrader_config.py`` reads), else a public default, so
that self-learners get reproducible held-out sets and an instructor's are not public.
"""

import os

import torch

from ._student import reference

DEFAULT_SEED = 8_2025  # self-learners' held-out seed; notebooks use small seeds (0, 1, 2, ...)
SEED_VARIABLE = "CVLIB_HELDOUT_SEED"


def grader_seed():
    """The held-out seed: ``$CVLIB_HELDOUT_SEED`` if set (an int), else :data:`DEFAULT_SEED`.

    Examples
    --------
    >>> os.environ.pop(SEED_VARIABLE, None) and None
    >>> grader_seed()
    82025
    """
    value = os.environ.get(SEED_VARIABLE, "").strip()
    if not value:
        return DEFAULT_SEED
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"${SEED_VARIABLE} must be an integer, got {value!r}") from None


def _seed(seed):
    return grader_seed() if seed == "grader" else seed


def perturb(images, seed, max_shift=1):
    """Shift each image by up to ``max_shift`` pixels and scale its values by 0.8 to 1.0.

    Shape
    -----
    images : (N, C, H, W) -> (N, C, H, W)

    Examples
    --------
    >>> x = torch.zeros(2, 1, 5, 5)
    >>> x[:, :, 2, 2] = 1.0
    >>> y = perturb(x, seed=0)
    >>> y.shape, bool((y.sum(dim=(1, 2, 3)) >= 0.8).all())
    (torch.Size([2, 1, 5, 5]), True)
    """
    g = torch.Generator().manual_seed(seed)
    n = images.shape[0]
    shifts = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=g)  # (N, 2)
    scale = 0.8 + 0.2 * torch.rand(n, generator=g)  # (N,)
    shift = reference("cvlib.augment.functional").shift  # zeros come in at the border
    moves = zip(images, shifts.tolist(), scale, strict=True)
    return torch.stack([shift(image, dx, dy) * s for image, (dy, dx), s in moves])  # (N, C, H, W)


def heldout_digits(size=32, classes=None, seed="grader"):
    """``(images, labels)``: the perturbed test split of the digits (optionally some classes only).

    With ``classes`` (e.g. ``(5, 6, 7, 8, 9)``) only those digits are kept and relabelled
    ``0 .. len(classes) - 1`` in the given order, as :func:`cvlib.data.class_subset` does.
    ``seed="grader"`` (the default) perturbs with :func:`grader_seed`, an int with that seed;
    ``seed=None`` returns the test split unperturbed (what the visible tests score).

    Shape
    -----
    images : (N, 1, size, size) float32 in [0, 1]; labels : (N,) int64
    """
    data = reference("cvlib.data.digits").digits(size=size, split="test")
    images, labels = data.images.clone(), data.labels.clone()
    if classes is not None:
        keep, labels = reference("cvlib.data.subsets").relabel(labels, classes)
        images = images[keep]
    return (images if seed is None else perturb(images, _seed(seed))), labels


def heldout_shapes(n=300, size=32, seed="grader"):
    """``(images, boxes)``: one-object shapes drawn with the graders' seed; boxes in pixels.

    Shape
    -----
    images : (n, 3, size, size); boxes : (n, 4) pixel ``xyxy``
    """
    data = reference("cvlib.data.shapes").shapes(n, size=size, max_objects=1, seed=_seed(seed))
    boxes = data.first_boxes()  # (n, 4)
    return data.images.clone(), boxes
