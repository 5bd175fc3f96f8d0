"""Gradient ascent on a tensor that is not a model's weights (an input image, say).

The one loop of :mod:`cvlib.train` that optimises something other than the weights: feature
visualisation (:func:`cvlib.probes.maximise_unit`) climbs a unit's activation with respect to
the pixels, with the network fixed.
"""

import torch

from cvlib.optim import Adam

__all__ = ["ascend"]


def ascend(x, objective, steps, lr, after_step=None):
    """Maximise ``objective(x)`` by ``steps`` Adam steps on ``x`` itself, in place.

    Only ``x`` receives a gradient (``torch.autograd.grad``), so the parameters of any model
    inside ``objective`` keep ``grad is None``. The step is the course's own numpy Adam
    (:class:`cvlib.optim.Adam`, equal to ``torch.optim.Adam``) on a numpy view of ``x``, which
    spares a notebook the two seconds that ``torch.optim`` takes to set up its first optimiser.

    Parameters
    ----------
    x : Tensor
        A leaf tensor on the CPU, updated in place.
    objective : callable
        ``objective(x)`` -> scalar tensor to maximise.
    steps : int
    lr : float
        Adam's learning rate.
    after_step : callable, optional
        ``after_step(step, x)``, called without gradient tracking after each step (to blur or
        clip ``x``, for instance).

    Returns
    -------
    list of float
        The objective before each step.

    Examples
    --------
    >>> x = torch.zeros(3)
    >>> trace = ascend(x, lambda v: -(v - 1).pow(2).sum(), steps=300, lr=0.05)
    >>> torch.allclose(x, torch.ones(3), atol=1e-2), trace[0]
    (True, -3.0)
    """
    if not isinstance(x, torch.Tensor) or not x.is_leaf:
        raise TypeError("`x` must be a leaf tensor (not the result of an operation)")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"`steps` must be a positive integer, got {steps!r}")
    x.requires_grad_(True)
    optimizer = Adam([x.detach().numpy()], lr=lr)  # the numpy view shares x's memory
    trace = []
    for step in range(steps):
        value = objective(x)
        (grad,) = torch.autograd.grad(-value, x)
        optimizer.step([grad.numpy()])
        if after_step is not None:
            with torch.no_grad():
                after_step(step, x)
        trace.append(value.item())
    x.requires_grad_(False)
    return trace
