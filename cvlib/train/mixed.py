"""Training on mixed pairs: the loop of mixup and CutMix (the augmentation chapter's runs).

:func:`fit_mixed` is Adam over a loader, every batch mixed by :func:`cvlib.augment.mixup` or
:func:`cvlib.augment.cutmix` (``lam`` drawn from ``Beta(alpha, alpha)`` for each batch) and
scored against its soft labels with the cross-entropy. :func:`cvlib.train.fit` cannot take soft
labels (it counts correct answers against class indices), hence this short loop beside it.

:data:`ALPHAS` are the papers' CIFAR settings: ``alpha = 1`` for both (Zhang et al., 2018,
Sec. 3.2; Yun et al., 2019, Sec. 4.1.1), so ``lam`` is uniform on [0, 1].

Examples
--------
>>> from torch.utils.data import DataLoader, TensorDataset
>>> from torch import nn
>>> data = TensorDataset(torch.rand(16, 1, 8, 8), torch.arange(16) % 4)
>>> model = nn.Sequential(nn.Flatten(), nn.Linear(64, 4))
>>> losses = fit_mixed(model, DataLoader(data, batch_size=8), 2, 1e-2, "cutmix", 4, seed=0)
>>> len(losses)
2
"""

import torch
import torch.nn.functional as F

from cvlib import augment as A

__all__ = ["ALPHAS", "MIXES", "fit_mixed"]

MIXES = {"mixup": A.mixup, "cutmix": A.cutmix}
ALPHAS = {"mixup": 1.0, "cutmix": 1.0}


def fit_mixed(model, loader, epochs, lr, mix, num_classes, alpha=None, seed=0, channels_last=True):
    """Train ``model`` with Adam at ``lr`` for ``epochs`` passes of ``loader``, every batch mixed
    by ``mix`` (``"mixup"`` or ``"cutmix"``, with ``alpha``, default :data:`ALPHAS`); the
    mixing draws come from a generator seeded with ``seed``. Returns the mean loss of each
    epoch (against the soft labels). The model is left in training mode."""
    if mix not in MIXES:
        raise ValueError(f"`mix` must be one of {sorted(MIXES)}, got {mix!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive int, got {epochs!r}")
    alpha = ALPHAS[mix] if alpha is None else alpha
    draws = torch.Generator().manual_seed(seed)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(epochs):
        total, seen = 0.0, 0
        for images, labels in loader:
            mixed, targets, _ = MIXES[mix](images, labels, num_classes, alpha, generator=draws)
            if channels_last:
                mixed = mixed.contiguous(memory_format=torch.channels_last)
            loss = F.cross_entropy(model(mixed), targets)  # soft targets (B, K)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, seen = total + loss.item() * len(labels), seen + len(labels)
        losses.append(total / seen)
    return losses
