"""A seeded synthetic data set of circles, squares and triangles with labels, boxes and masks.

One generator serves three tasks: classification (what is the first shape?), detection
(where is every shape, as pixel boxes?) and segmentation (which pixels belong to which class?).
Image ``i`` is drawn from its own generator ``numpy.random.default_rng([seed, i])``, so the first
``k`` images of ``shapes(n, seed=s)`` do not depend on ``n``.
"""

import numpy as np
import torch
from skimage.draw import disk, polygon
from torch.utils.data import Dataset

__all__ = ["CLASSES", "TASKS", "TEST_SEED_OFFSET", "ShapesDataset", "shapes"]

CLASSES = ("circle", "square", "triangle")
TASKS = ("classify", "detect", "segment")
#: An experiment trained on ``shapes(..., seed=s)`` is tested on ``shapes(..., seed=s + 1000)``.
TEST_SEED_OFFSET = 1000


class ShapesDataset(Dataset):
    """Tensors made by :func:`shapes`; ``task`` chooses what ``__getitem__`` returns.

    Attributes
    ----------
    images : torch.Tensor, (N, 3, size, size) float32 in [0, 1]
    labels : torch.Tensor, (N,) int64, class of the first object drawn (``box_labels[i][0]``)
    boxes : list of N tensors (k_i, 4) float32, pixel boxes ``x1, y1, x2, y2``; the object covers
        pixel columns ``x1 <= x < x2`` and rows ``y1 <= y < y2`` (x2, y2 exclusive)
    box_labels : list of N tensors (k_i,) int64
    masks : torch.Tensor, (N, size, size) int64, 0 background, ``class + 1`` on object pixels
    classes : ("circle", "square", "triangle")
    """

    classes = CLASSES

    def __init__(self, images, labels, boxes, box_labels, masks, task="classify"):
        if task not in TASKS:
            raise ValueError(f"`task` must be one of {TASKS}, got {task!r}")
        self.images, self.labels, self.masks = images, labels, masks
        self.boxes, self.box_labels = boxes, box_labels
        self.task = task

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        image = self.images[index]  # (3, size, size)
        if self.task == "classify":
            return image, self.labels[index]
        if self.task == "detect":
            return image, {"boxes": self.boxes[index], "labels": self.box_labels[index]}
        return image, self.masks[index]  # (size, size)

    def first_boxes(self):
        """``(N, 4)`` float pixel boxes: the first object's box in every image (localisation)."""
        return torch.stack([b[0] for b in self.boxes]).float()

    def with_task(self, task):
        """A view of the same tensors (nothing is copied) for another task."""
        return ShapesDataset(
            self.images, self.labels, self.boxes, self.box_labels, self.masks, task
        )

    def __repr__(self):
        n, _, h, _ = self.images.shape
        return f"ShapesDataset(n={n}, size={h}, task={self.task!r})"


def _shape_pixels(kind, cy, cx, radius, angle, size):
    """Row and column indices of a filled shape of circumradius ``radius`` centred at (cy, cx)."""
    if kind == 0:
        return disk((cy, cx), radius, shape=(size, size))
    corners = 4 if kind == 1 else 3
    if kind == 1:
        radius = radius * 0.95  # a square a bit smaller than its circumcircle looks balanced
    theta = angle + 2 * np.pi * np.arange(corners) / corners
    return polygon(cy + radius * np.sin(theta), cx + radius * np.cos(theta), shape=(size, size))


def _contrasting_colour(rng, background):
    """An RGB colour at least 0.45 away (max over channels) from the background."""
    for _ in range(100):
        colour = rng.uniform(0.0, 1.0, size=3)
        if np.abs(colour - background).max() > 0.45:
            return colour
    return 1.0 - background


def _draw_one(rng, size, max_objects, noise):
    """One image: (3, size, size) array, mask, boxes, box labels."""
    background = rng.uniform(0.0, 1.0, size=3) * rng.uniform(0.3, 1.0)  # muted tones
    ramp = np.linspace(-0.5, 0.5, size)
    gradient = rng.uniform(-0.15, 0.15) * ramp[:, None] + rng.uniform(-0.15, 0.15) * ramp[None]
    image = background[:, None, None] + gradient[None]  # (3, size, size)
    mask = np.zeros((size, size), dtype=np.int64)
    boxes, labels = [], []
    count = rng.integers(1, max_objects + 1)
    for _ in range(30 * count):
        if len(labels) == count:
            break
        kind = int(rng.integers(0, 3))
        radius = rng.uniform(size / 10, size / (4 if max_objects == 1 else 5))
        cy, cx = rng.uniform(radius, size - radius, size=2)
        rr, cc = _shape_pixels(kind, cy, cx, radius, rng.uniform(0, 2 * np.pi), size)
        box = np.array([cc.min(), rr.min(), cc.max() + 1, rr.max() + 1], dtype=np.float32)
        if any(_overlaps(box, other, margin=1) for other in boxes) or len(rr) == 0:
            continue
        image[:, rr, cc] = _contrasting_colour(rng, background)[:, None]
        mask[rr, cc] = kind + 1
        boxes.append(box)
        labels.append(kind)
    image = image + rng.normal(0.0, noise, size=image.shape)
    return np.clip(image, 0.0, 1.0), mask, np.stack(boxes), np.array(labels, dtype=np.int64)


def _overlaps(a, b, margin=0):
    """True when boxes a and b (xyxy) intersect or come closer than ``margin`` pixels."""
    return not (
        a[2] + margin <= b[0]
        or b[2] + margin <= a[0]
        or a[3] + margin <= b[1]
        or b[3] + margin <= a[1]
    )


def shapes(n, size=64, max_objects=1, seed=0, task="classify", noise=0.04):
    """Generate ``n`` images of circles, squares and triangles on coloured backgrounds.

    Each image has a muted background with a gentle linear gradient, 1 to ``max_objects``
    shapes of random class, size, position, rotation and colour (contrasting with the
    background), and Gaussian pixel noise. Boxes never overlap (objects keep at least one pixel
    apart), so every object is fully visible and its mask pixels are exactly the shape; when a
    crowded image has no room left the image simply holds fewer objects.

    Parameters
    ----------
    n : int
        Number of images.
    size : int, default 64
        Height and width in pixels (at least 16).
    max_objects : int, default 1
        Each image holds between 1 and ``max_objects`` shapes.
    seed : int, default 0
    task : {"classify", "detect", "segment"}, default "classify"
        What ``dataset[i]`` returns: ``(image, label)``, ``(image, {"boxes", "labels"})`` or
        ``(image, mask)``. Switch later with ``dataset.with_task(...)``.
    noise : float, default 0.04
        Standard deviation of the Gaussian pixel noise.

    Returns
    -------
    ShapesDataset

    Shape
    -----
    images : (n, 3, size, size); labels : (n,); masks : (n, size, size); boxes[i] : (k_i, 4)

    Examples
    --------
    >>> data = shapes(4, size=32, max_objects=3, seed=1)
    >>> data.images.shape, data.masks.shape
    (torch.Size([4, 3, 32, 32]), torch.Size([4, 32, 32]))
    >>> image, target = data.with_task("detect")[0]
    >>> target["boxes"].shape[1], target["labels"].dtype
    (4, torch.int64)
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"`n` must be a positive integer, got {n!r}")
    if not isinstance(size, (int, np.integer)) or size < 16:
        raise ValueError(f"`size` must be an integer of at least 16, got {size!r}")
    if not isinstance(max_objects, (int, np.integer)) or max_objects < 1:
        raise ValueError(f"`max_objects` must be a positive integer, got {max_objects!r}")
    if task not in TASKS:
        raise ValueError(f"`task` must be one of {TASKS}, got {task!r}")
    if noise < 0:
        raise ValueError(f"`noise` must be non-negative, got {noise!r}")
    images = np.empty((n, 3, size, size), dtype=np.float32)
    masks = np.empty((n, size, size), dtype=np.int64)
    boxes, box_labels = [], []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        images[i], masks[i], b, lab = _draw_one(rng, size, max_objects, noise)
        boxes.append(torch.from_numpy(b))
        box_labels.append(torch.from_numpy(lab))
    labels = torch.stack([lab[0] for lab in box_labels])
    return ShapesDataset(
        torch.from_numpy(images), labels, boxes, box_labels, torch.from_numpy(masks), task
    )
