"""Mixing two training images and their labels: mixup and CutMix, on a whole batch at once.

Both pair every image of a batch with another image of the same batch (``images[perm]``, a
random permutation) and give the pair a *soft* label, the one-hot labels of the two mixed in the
proportion in which their pixels were mixed:

- **mixup** (Zhang et al., 2018) blends the whole pictures,
  ``x = lam * x_i + (1 - lam) * x_j`` and ``y = lam * y_i + (1 - lam) * y_j``;
- **CutMix** (Yun et al., 2019) pastes a rectangle of ``x_j`` into ``x_i``; the label weight
  of ``x_j`` is the share of the picture the rectangle covers, ``1 - lam = h w / (H W)``.

``lam`` is drawn once per batch from ``Beta(alpha, alpha)`` (the papers' code does the same). For
CutMix the rectangle's sides are ``H sqrt(1 - lam)`` and ``W sqrt(1 - lam)`` around a centre drawn
uniformly over the picture; the part that falls outside is cut off, so ``lam`` is then
recomputed from the area actually pasted.

The loss of a soft label is the cross-entropy against it, ``F.cross_entropy(logits, targets)``
with ``targets`` of shape ``(N, K)``, which equals
``lam * CE(logits, y_i) + (1 - lam) * CE(logits, y_j)``.

H. Zhang, M. Cisse, Y. N. Dauphin, D. Lopez-Paz, "mixup: beyond empirical risk minimization",
ICLR 2018. S. Yun, D. Han, S. J. Oh, S. Chun, J. Choe, Y. Yoo, "CutMix: regularization strategy
to train strong classifiers with localizable features", ICCV 2019.

Examples
--------
>>> images, labels = torch.rand(8, 1, 28, 28), torch.arange(8) % 4
>>> x, y, lam = mixup(images, labels, num_classes=4, generator=torch.Generator().manual_seed(0))
>>> x.shape, y.shape, torch.allclose(y.sum(1), torch.ones(8))
(torch.Size([8, 1, 28, 28]), torch.Size([8, 4]), True)
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from .base import make_generator

__all__ = ["blend_pairs", "cutmix", "cutmix_box", "mixup", "paste_box", "soft_targets"]


def _check_batch(images, labels, num_classes):
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        raise TypeError("`images` must be a floating-point torch.Tensor")
    if images.dim() != 4:
        raise ValueError(f"`images` must be a batch (N, C, H, W), got shape {tuple(images.shape)}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"`num_classes` must be an int >= 2, got {num_classes!r}")
    if not isinstance(labels, torch.Tensor) or labels.shape != (len(images),):
        raise ValueError(f"`labels` must be a tensor of shape ({len(images)},), one per image")
    if labels.is_floating_point() or labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"`labels` must be integer classes in [0, {num_classes - 1}]")


def _check_perm(perm, n):
    if not isinstance(perm, torch.Tensor) or perm.shape != (n,):
        raise ValueError(f"`perm` must be a tensor of shape ({n},)")
    if not torch.equal(perm.sort().values, torch.arange(n)):
        raise ValueError(f"`perm` must be a permutation of 0..{n - 1}")


def _check_lam(lam):
    if isinstance(lam, bool) or not isinstance(lam, int | float) or not 0.0 <= lam <= 1.0:
        raise ValueError(f"`lam` must be a number in [0, 1], got {lam!r}")
    return float(lam)


def soft_targets(labels, num_classes):
    """One-hot rows, float: ``(N,)`` class indices -> ``(N, num_classes)``."""
    return F.one_hot(labels, num_classes).float()


def blend_pairs(images, labels, num_classes, perm, lam):
    """mixup with a given pairing and weight: ``lam * x + (1 - lam) * x[perm]`` and the same
    blend of the one-hot labels.

    Shape
    -----
    images (N, C, H, W), labels (N,) -> images (N, C, H, W), targets (N, num_classes)
    """
    _check_batch(images, labels, num_classes)
    _check_perm(perm, len(images))
    lam = _check_lam(lam)
    y = soft_targets(labels, num_classes)  # (N, K)
    return lam * images + (1 - lam) * images[perm], lam * y + (1 - lam) * y[perm]


def paste_box(images, labels, num_classes, perm, box):
    """CutMix with a given pairing and rectangle: ``box = (top, left, height, width)`` of every
    image is replaced by the same rectangle of ``images[perm]``; the labels are mixed by area.

    Returns
    -------
    images : Tensor (N, C, H, W)
    targets : Tensor (N, num_classes), ``lam * y + (1 - lam) * y[perm]``
    lam : float, ``1 - height * width / (H * W)``, the share of each picture that is its own
    """
    _check_batch(images, labels, num_classes)
    _check_perm(perm, len(images))
    H, W = images.shape[-2:]
    if len(box) != 4 or any(isinstance(v, bool) or not isinstance(v, int) for v in box):
        raise ValueError(f"`box` must be four ints (top, left, height, width), got {box!r}")
    top, left, height, width = box
    if not (0 <= top and 0 <= left and 0 <= height and 0 <= width):
        raise ValueError(f"`box` must have non-negative entries, got {box!r}")
    if top + height > H or left + width > W:
        raise ValueError(f"`box` {box!r} does not fit in a {H} x {W} image")
    mixed = images.clone()
    rows, cols = slice(top, top + height), slice(left, left + width)
    mixed[:, :, rows, cols] = images[perm][:, :, rows, cols]
    lam = 1.0 - height * width / (H * W)
    y = soft_targets(labels, num_classes)  # (N, K)
    return mixed, lam * y + (1 - lam) * y[perm], lam


def cutmix_box(height, width, lam, generator=None):
    """The rectangle CutMix pastes for a weight ``lam``: sides ``H sqrt(1 - lam)`` and
    ``W sqrt(1 - lam)`` (rounded) around a centre drawn uniformly over the ``H x W`` picture,
    cut off at the border (Yun et al., 2019, Sec. 3.1). ``(top, left, height, width)``.

    For ``lam = 0.75`` the sides are 14 of 28 (a quarter of the area); this seed draws the
    centre ``(4, 3)``, so the border cuts the box to 11 x 10 and the true weight is 1 - 110/784:

    >>> cutmix_box(28, 28, 0.75, torch.Generator().manual_seed(0))
    (0, 0, 11, 10)
    """
    lam = _check_lam(lam)
    cut_h, cut_w = round(height * math.sqrt(1 - lam)), round(width * math.sqrt(1 - lam))
    cy = int(torch.randint(height, (1,), generator=generator))
    cx = int(torch.randint(width, (1,), generator=generator))
    top, bottom = max(cy - cut_h // 2, 0), min(cy - cut_h // 2 + cut_h, height)
    left, right = max(cx - cut_w // 2, 0), min(cx - cut_w // 2 + cut_w, width)
    return top, left, max(bottom - top, 0), max(right - left, 0)


def _draw(n, alpha, generator):
    """A permutation of ``n`` and ``lam ~ Beta(alpha, alpha)``, both from ``generator``."""
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or alpha <= 0:
        raise ValueError(f"`alpha` must be a positive number, got {alpha!r}")
    perm = torch.randperm(n, generator=generator)
    # torch's Beta sampler takes no generator: numpy's, seeded from the generator, repeats
    seed = int(torch.randint(2**62, (1,), generator=generator))
    lam = float(np.random.default_rng(seed).beta(alpha, alpha))
    return perm, lam


def mixup(images, labels, num_classes, alpha=0.2, generator=None, seed=None):
    """Blend every image of a batch with another one of the batch, labels likewise.

    ``lam ~ Beta(alpha, alpha)`` once for the batch, a random pairing ``perm``; then
    :func:`blend_pairs`. Zhang et al. used ``alpha`` from 0.1 to 0.4 on ImageNet and 1 on
    CIFAR-10.

    Returns
    -------
    images (N, C, H, W), targets (N, num_classes), lam (float)
    """
    _check_batch(images, labels, num_classes)
    perm, lam = _draw(len(images), alpha, make_generator(seed, generator))
    mixed, targets = blend_pairs(images, labels, num_classes, perm, lam)
    return mixed, targets, lam


def cutmix(images, labels, num_classes, alpha=1.0, generator=None, seed=None):
    """Paste a rectangle of another image of the batch into every image, labels mixed by area.

    ``lam ~ Beta(alpha, alpha)`` (Yun et al. use ``alpha = 1``, a uniform ``lam``), one
    rectangle for the batch (:func:`cutmix_box`), a random pairing; then :func:`paste_box`.
    The returned ``lam`` is the share of each picture left its own, after the cut at the border.

    Returns
    -------
    images (N, C, H, W), targets (N, num_classes), lam (float)
    """
    _check_batch(images, labels, num_classes)
    g = make_generator(seed, generator)
    perm, lam = _draw(len(images), alpha, g)
    box = cutmix_box(*images.shape[-2:], lam, generator=g)
    return paste_box(images, labels, num_classes, perm, box)
