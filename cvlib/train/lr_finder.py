"""The learning-rate range test (Smith, 2017; the "learning-rate finder" of fastai).

Train for a few mini-batches while the learning rate grows exponentially, from far too small to
far too large, and record the loss after each step::

    lr_i = start_lr * (end_lr / start_lr) ** (i / (steps - 1)),   i = 0 .. steps - 1

At first the steps are too short to change anything and the loss stays flat; then it falls,
fastest where the rate is useful; then the steps overshoot and it climbs. One short run draws
the whole window that a sweep would need a full training run per rate to find. The run stops
early once the smoothed loss exceeds ``diverge`` times its lowest value, and the model's weights
are restored afterwards: the test is a measurement, not training.
"""

import copy
import math
from dataclasses import dataclass
from itertools import cycle

import numpy as np
import torch
from torch import nn

from .evaluation import check_loader

__all__ = ["LRFinder", "lr_find"]


@dataclass(frozen=True)
class LRFinder:
    """The rates tried (``lrs``), the loss of each step (``losses``), and their exponential
    moving average, bias-corrected as in Adam (``smoothed``)."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray

    @property
    def steepest(self):
        """The rate at which the smoothed loss falls fastest per factor of learning rate, up to
        the lowest loss (beyond it the curve can also fall, on its way to diverging)."""
        last = int(np.argmin(self.smoothed)) + 1
        if last < 2:
            return float(self.lrs[0])
        slope = np.gradient(self.smoothed[:last], np.log(self.lrs[:last]))
        return float(self.lrs[int(np.argmin(slope))])

    @property
    def minimum(self):
        """The rate of the lowest smoothed loss; one tenth of it is fastai's older rule."""
        return float(self.lrs[int(np.argmin(self.smoothed))])


def lr_find(
    model,
    loader,
    make_optimizer=None,
    start_lr=1e-5,
    end_lr=10.0,
    steps=100,
    beta=0.9,
    diverge=4.0,
    loss_fn=None,
):
    """Run the learning-rate range test on ``model`` and restore its weights.

    Parameters
    ----------
    model : nn.Module
    loader : iterable of (images, labels)
        Cycled if it has fewer than ``steps`` batches.
    make_optimizer : callable, optional
        ``make_optimizer(params, lr)``; default ``torch.optim.SGD(params, lr)``.
    start_lr, end_lr : float
        First and last rate, ``0 < start_lr < end_lr``.
    steps : int
        Number of mini-batches, at least 2.
    beta : float
        Smoothing of the loss curve, in [0, 1).
    diverge : float
        Stop once the smoothed loss passes ``diverge`` times its lowest value.
    loss_fn : callable, optional
        ``loss_fn(logits, labels)``; default cross-entropy.

    Returns
    -------
    LRFinder

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> net = nn.Linear(4, 3)
    >>> data = [(torch.randn(8, 4), torch.randint(0, 3, (8,)))] * 5
    >>> found = lr_find(net, data, steps=20)
    >>> found.lrs.shape == found.losses.shape, found.lrs[0]
    (True, np.float64(1e-05))
    """
    check_loader(loader, "loader")
    if not 0 < start_lr < end_lr:
        raise ValueError(f"need 0 < `start_lr` < `end_lr`, got {start_lr} and {end_lr}")
    if not isinstance(steps, int) or steps < 2:
        raise ValueError(f"`steps` must be an integer >= 2, got {steps!r}")
    if not 0 <= beta < 1:
        raise ValueError(f"`beta` must lie in [0, 1), got {beta}")
    make_optimizer = make_optimizer or (lambda params, lr: torch.optim.SGD(params, lr=lr))
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    saved = copy.deepcopy(model.state_dict())
    lrs = start_lr * (end_lr / start_lr) ** (np.arange(steps) / (steps - 1))
    optimizer = make_optimizer(model.parameters(), float(lrs[0]))
    losses, smoothed, average = [], [], 0.0
    model.train()
    try:
        for i, (lr, (images, labels)) in enumerate(zip(lrs, cycle(loader))):
            for group in optimizer.param_groups:
                group["lr"] = float(lr)
            loss = loss_fn(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            average = beta * average + (1 - beta) * losses[-1]
            smoothed.append(average / (1 - beta ** (i + 1)))
            if not math.isfinite(smoothed[-1]) or smoothed[-1] > diverge * min(smoothed):
                break
    finally:
        model.load_state_dict(saved)
    n = len(losses)
    return LRFinder(lrs[:n], np.array(losses), np.array(smoothed))
