"""Measuring why deep networks are hard to train: per-layer gradients, activations, depth runs.

Three tools and one experiment:

- :func:`gradient_norms` and :func:`activation_stats` probe a network on one batch: the norm of
  d(loss)/d(weight) of every convolution and dense layer, and the mean and standard deviation of
  every such layer's output. Vanishing or exploding signals show up as norms that shrink or grow
  geometrically with depth.
- :func:`deep_mlp` builds a plain stack of dense layers with a chosen activation, initialisation
  and optional batch norm, the smallest network on which those effects are visible.
- :func:`depth_run` trains a model epoch by epoch with Adam and records accuracy and the first
  layer's gradient norm; :func:`depth_experiment` repeats it for ``resnet_small`` and
  ``plain_small`` at several depths (He et al., 2016, Sec. 4.2).

K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image recognition", CVPR 2016.
"""

import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from cvlib.models import plain_small, resnet_small
from cvlib.train import evaluate, run_parallel, set_seed, train_one_epoch

__all__ = [
    "DepthRun",
    "activation_stats",
    "deep_mlp",
    "depth_experiment",
    "depth_run",
    "first_layer_grad_norm",
    "gradient_norms",
]

_LAYERS = (nn.Conv2d, nn.Linear)
_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
_INITS = ("small", "xavier", "kaiming", "large")


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
    was_training = model.training
    model.train()  # batch norm normalises with the batch's statistics, as at the first step
    try:
        model(images)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return stats


def deep_mlp(
    depth,
    in_features=64,
    width=64,
    num_classes=10,
    activation="relu",
    init="kaiming",
    batch_norm=False,
):
    """A plain stack of ``depth`` dense layers (``depth - 1`` hidden) for flattened images.

    Parameters
    ----------
    depth : int
        Number of dense layers, at least 2.
    in_features, width, num_classes : int
    activation : {"relu", "tanh", "sigmoid"}
    init : {"small", "xavier", "kaiming", "large"}
        Weights drawn from N(0, s^2) with s = 0.01 ("small"), sqrt(1 / fan_in) ("xavier", the
        variance-preserving choice for tanh; LeCun's form of Glorot and Bengio's rule),
        sqrt(2 / fan_in) ("kaiming", He et al. 2015, for ReLU) or 1 ("large"). Biases are 0.
    batch_norm : bool
        Put a ``BatchNorm1d`` between each hidden dense layer and its activation.

    Shape
    -----
    x : (N, ...) with in_features values per example -> logits : (N, num_classes)

    Examples
    --------
    >>> net = deep_mlp(4, in_features=8, width=16, activation="tanh", init="xavier")
    >>> net(torch.zeros(2, 1, 2, 4)).shape
    torch.Size([2, 10])
    >>> sum(isinstance(m, nn.Linear) for m in net)
    4
    """
    if not isinstance(depth, int) or depth < 2:
        raise ValueError(f"`depth` must be an int >= 2, got {depth!r}")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"`activation` must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    if init not in _INITS:
        raise ValueError(f"`init` must be one of {_INITS}, got {init!r}")
    layers = [nn.Flatten()]
    fan_in = in_features
    for _ in range(depth - 1):
        layers.append(nn.Linear(fan_in, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(_ACTIVATIONS[activation]())
        fan_in = width
    layers.append(nn.Linear(fan_in, num_classes))
    for m in layers:
        if isinstance(m, nn.Linear):
            std = {
                "small": 0.01,
                "xavier": m.in_features**-0.5,
                "kaiming": (2 / m.in_features) ** 0.5,
                "large": 1.0,
            }[init]
            nn.init.normal_(m.weight, 0.0, std)
            nn.init.zeros_(m.bias)
    return nn.Sequential(*layers)


@dataclass
class DepthRun:
    """One training run of :func:`depth_run`; lists have one entry per epoch.

    ``grad_norm[0]`` is the first layer's gradient norm at initialisation, ``grad_norm[e]`` after
    epoch ``e`` (so it has ``epochs + 1`` entries), all on the same probe batch.
    """

    name: str
    depth: int
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    seconds: float = 0.0


def depth_run(model, train_loader, test_loader, probe, epochs=3, lr=1e-3, name="", depth=0):
    """Train ``model`` with Adam, recording accuracy and first-layer gradient norm per epoch.

    ``probe`` is an ``(images, labels)`` batch on which the gradient norm is measured before
    training and after each epoch. Runs on the CPU.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive int, got {epochs!r}")
    images, labels = probe
    run = DepthRun(name=name, depth=depth)
    run.grad_norm.append(first_layer_grad_norm(model, images, labels))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    start = time.perf_counter()
    for _ in range(epochs):
        loss, acc = train_one_epoch(
            model,
            train_loader,
            optimizer,
            nn.CrossEntropyLoss(),
            torch.device("cpu"),
            progress=False,
            channels_last=True,
        )
        run.train_loss.append(loss)
        run.train_acc.append(acc)
        run.test_acc.append(evaluate(model, test_loader, device="cpu").accuracy)
        run.grad_norm.append(first_layer_grad_norm(model, images, labels))
    run.seconds = time.perf_counter() - start
    model.zero_grad()
    return run


def depth_experiment(
    train_loader,
    test_loader,
    depths=(20, 56),
    epochs=3,
    lr=1e-3,
    seed=0,
    in_channels=1,
    num_classes=10,
):
    """``resnet_small`` against ``plain_small`` at each depth, same data, seed and budget.

    Returns a list of :class:`DepthRun`, for each depth the residual network then the plain one.
    The probe batch is the first 256 examples of ``train_loader.dataset``.
    """
    dataset = train_loader.dataset
    probe_size = min(256, len(dataset))
    probe = next(iter(torch.utils.data.DataLoader(dataset, batch_size=probe_size)))
    jobs = [
        dict(
            name=name,
            depth=depth,
            train_loader=train_loader,
            test_loader=test_loader,
            probe=probe,
            epochs=epochs,
            lr=lr,
            seed=seed,
            in_channels=in_channels,
            num_classes=num_classes,
        )
        for depth in depths
        for name in ("resnet_small", "plain_small")
    ]
    return run_parallel(_depth_job, jobs)  # one process per core; each run seeds itself


def _depth_job(name, depth, train_loader, test_loader, probe, epochs, lr, seed, **sizes):
    """One run of :func:`depth_experiment`, seeded on its own (same result in any process)."""
    build = {"resnet_small": resnet_small, "plain_small": plain_small}[name]
    set_seed(seed)
    model = build(depth, **sizes)
    return depth_run(model, train_loader, test_loader, probe, epochs, lr, name=name, depth=depth)
