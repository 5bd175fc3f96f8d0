"""LeNet-5 (LeCun, Bottou, Bengio and Haffner, 1998), in its usual modern reading.

Y. LeCun et al., "Gradient-based learning applied to document recognition", Proc. IEEE 86(11), 1998.
"""

import torch
from torch import nn

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}
_POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


class LeNet5(nn.Module):
    """LeNet-5 for 1x32x32 images: conv 6@5x5, pool, conv 16@5x5, pool, fc 120, 84, num_classes.

    With ``num_classes=10`` it has the textbook **61,706** parameters:
    conv1 6*(1*25+1) = 156, conv2 16*(6*25+1) = 2,416, fc1 400*120+120 = 48,120,
    fc2 120*84+84 = 10,164, fc3 84*10+10 = 850.

    This is the reading found in most courses, not a literal copy of the paper:

    - the paper's S2/S4 "subsampling" layers average 2x2 windows and then apply a trainable
      coefficient, bias and sigmoid-like squashing; here they are plain 2x2 pools, max by default
      (``pooling="avg"`` gives the parameter-free average);
    - the paper squashes with a scaled tanh; ReLU is the modern default (``activation="tanh"``);
    - the paper's C3 connects each of its 16 maps to only a subset of S2's 6 maps (1,516 weights);
      here C3 sees all 6 maps (2,416 weights);
    - the paper's output layer F7 is a set of Euclidean RBF units; here it is a linear layer whose
      outputs are logits for cross-entropy.

    Parameters
    ----------
    num_classes : int, default 10
    in_channels : int, default 1
    activation : {"relu", "tanh"}, default "relu"
    pooling : {"max", "avg"}, default "max"
    padding : int, default 0
        Zeros around the input of the first convolution. ``padding=2`` reads 28x28 images
        (MNIST, Fashion-MNIST) exactly as the 32x32 ones they would be if padded with zeros.

    Shape
    -----
    x : (N, in_channels, 32 - 2 * padding, 32 - 2 * padding) -> logits : (N, num_classes)

    Examples
    --------
    >>> model = LeNet5()
    >>> sum(p.numel() for p in model.parameters())
    61706
    >>> model(torch.zeros(2, 1, 32, 32)).shape
    torch.Size([2, 10])
    """

    def __init__(self, num_classes=10, in_channels=1, activation="relu", pooling="max", padding=0):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"`activation` must be one of {sorted(_ACTIVATIONS)}, got {activation!r}"
            )
        if pooling not in _POOLS:
            raise ValueError(f"`pooling` must be one of {sorted(_POOLS)}, got {pooling!r}")
        act, pool = _ACTIVATIONS[activation], _POOLS[pooling]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding),  # C1: (N, 6, 28, 28)
            act(),
            pool(kernel_size=2, stride=2),  # S2: (N, 6, 14, 14)
            nn.Conv2d(6, 16, kernel_size=5),  # C3: (N, 16, 10, 10)
            act(),
            pool(kernel_size=2, stride=2),  # S4: (N, 16, 5, 5)
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),  # C5 (a 5x5 conv on a 5x5 map is a dense layer)
            act(),
            nn.Linear(120, 84),  # F6
            act(),
            nn.Linear(84, num_classes),  # output
        )

    def forward(self, x):
        x = self.features(x)  # (N, 16, 5, 5)
        x = torch.flatten(x, 1)  # (N, 400)
        return self.classifier(x)  # (N, num_classes)


def lenet5(num_classes=10, **kwargs):
    """Build :class:`LeNet5`; keyword arguments (``activation``, ``pooling``, ...) pass through.

    Examples
    --------
    >>> lenet5(activation="tanh", pooling="avg")(torch.zeros(1, 1, 32, 32)).shape
    torch.Size([1, 10])
    """
    return LeNet5(num_classes=num_classes, **kwargs)
