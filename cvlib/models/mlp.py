"""Plain stacks of dense layers: the smallest networks on which depth's troubles show.

X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward neural
networks", AISTATS 2010; Y. LeCun, L. Bottou, G. Orr, K. Mueller, "Efficient BackProp", 1998;
K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers", ICCV 2015.
"""

import torch  # noqa: F401 (the doctest uses it)
from torch import nn

__all__ = ["deep_mlp"]

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
_INITS = ("small", "lecun", "xavier", "kaiming", "large")


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
    init : {"small", "lecun", "xavier", "kaiming", "large"}
        Weights drawn from N(0, s^2) with s = 0.01 ("small"), sqrt(1 / fan_in) ("lecun", LeCun
        et al. 1998), sqrt(2 / (fan_in + fan_out)) ("xavier", Glorot and Bengio 2010; both keep
        the variance of a tanh network's signal), sqrt(2 / fan_in) ("kaiming", He et al. 2015,
        for ReLU) or 1 ("large"). Biases are 0.
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
                "lecun": (1 / m.in_features) ** 0.5,
                "xavier": (2 / (m.in_features + m.out_features)) ** 0.5,
                "kaiming": (2 / m.in_features) ** 0.5,
                "large": 1.0,
            }[init]
            nn.init.normal_(m.weight, 0.0, std)
            nn.init.zeros_(m.bias)
    return nn.Sequential(*layers)
