"""Per-layer statistics that show vanishing and exploding signals in a deep network.

:func:`gradient_norms` and :func:`activation_stats` probe a network on one batch: the norm of
d(loss)/d(weight) of every convolution and dense layer, and the mean and standard deviation of
every such layer's output. Vanishing or exploding signals show up as norms that shrink or grow
geometrically with depth.
"""

import torch
import torch.nn.functional as F
from torch import nn

from cvlib.train import eval_mode

__all__ = ["activation_stats", "first_layer_grad_norm", "gradient_norms"]

_LAYERS = (nn.Conv2d, nn.Linear)


def _weighted_layers(model):
    """(name, module) of every Conv2d and Linear, in registration order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, _LAYERS)]


def gradient_norms(model, images, labels):
    """Norm of d(cross-entropy)/d(weight) of every conv and dense layer, on one batch.

    The model runs in training mode (batch norm uses the batch's statistics, as in training);
    its gradients are overwritten.

    Parameters
    ----------
    model : torch.nn.Module
    images : torch.Tensor, shape (N, ...)
    labels : torch.Tensor, shape (N,)

    Returns
    -------
    list of (str, float)
        Layer name and Frobenius norm of its weight gradient, input side first.

    Examples
    --------
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> [name for name, _ in gradient_norms(net, torch.ones(5, 1, 2, 2), torch.zeros(5).long())]
    ['1', '3']
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"`model` must be a torch.nn.Module, got {type(model).__name__}")
    if len(images) != len(labels):
        raise ValueError(f"`images` has {len(images)} examples but `labels` has {len(labels)}")
    layers = _weighted_layers(model)
    if not layers:
        raise ValueError("`model` has no Conv2d or Linear layer")
    model.train()
    model.zero_grad()
    F.cross_entropy(model(images), labels).backward()
    return [(name, m.weight.grad.norm().item()) for name, m in layers]


def first_layer_grad_norm(model, images, labels):
    """Gradient norm of the first conv or dense layer (see :func:`gradient_norms`)."""
    return gradient_norms(model, images, labels)[0][1]


@torch.no_grad()
def activation_stats(model, images, after=_LAYERS):
    """Mean and standard deviation of the output of every layer of the types ``after``.

    Parameters
    ----------
    model : torch.nn.Module
    images : torch.Tensor, shape (N, ...)
    after : type or tuple of types, default (Conv2d, Linear)
        Which modules to watch, e.g. ``(nn.ReLU, nn.Tanh)`` for the activations.

    Returns
    -------
    list of (str, float, float)
        Layer name, mean and standard deviation of its output over the batch, in call order.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    >>> with torch.no_grad():
    ...     _ = net[0].weight.fill_(1.0), net[0].bias.fill_(0.0)
    >>> activation_stats(net, torch.ones(4, 3))
    [('0', 3.0, 0.0)]
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"`model` must be a torch.nn.Module, got {type(model).__name__}")
    stats = []

    def record(name):
        def hook(module, inputs, output):
            stats.append((name, output.mean().item(), output.std().item()))

        return hook

    handles = [
        m.register_forward_hook(record(name))
        for name, m in model.named_modules()
        if isinstance(m, after) and name
    ]
    try:
        with eval_mode(model, mode=True):  # batch norm uses the batch's statistics, as in training
            model(images)
    finally:
        for h in handles:
            h.remove()
    return stats
