"""A small CNN whose normalisation layers are a choice: batch, group, layer, instance or none.

Batch norm (Ioffe and Szegedy, 2015) normalises each channel over the batch and all positions
(``N, H, W``), so its statistics get noisy when batches are small, and at test time it must use
running averages instead. Group norm (Wu and He, 2018) normalises each sample on its own over
groups of channels and positions (``C / G, H, W``); with one group it is layer norm over
``(C, H, W)`` (Ba et al., 2016), with one channel per group instance norm (Ulyanov et al.,
2016). Neither depends on the batch, so they behave the same at any batch size and in training
and testing. Each keeps a learnt scale and shift per channel.
"""

import torch  # noqa: F401 (the doctests use it)
from torch import nn

__all__ = ["NORMS", "NormCNN", "norm_layer"]

NORMS = ("batch", "group", "layer", "instance", "none")


def norm_layer(kind, channels, groups=4):
    """The normalisation layer ``kind`` for ``channels`` feature maps.

    ``"batch"``: ``BatchNorm2d``; ``"group"``: ``GroupNorm(groups, C)``; ``"layer"``:
    ``GroupNorm(1, C)`` (statistics over ``C, H, W`` of each sample); ``"instance"``:
    ``GroupNorm(C, C)``; ``"none"``: ``Identity``.

    Examples
    --------
    >>> norm_layer("layer", 8)
    GroupNorm(1, 8, eps=1e-05, affine=True, bias=True)
    """
    if kind not in NORMS:
        raise ValueError(f"`kind` must be one of {NORMS}, got {kind!r}")
    if kind == "group" and channels % groups:
        raise ValueError(f"`groups` ({groups}) must divide the {channels} channels")
    return {
        "batch": lambda: nn.BatchNorm2d(channels),
        "group": lambda: nn.GroupNorm(groups, channels),
        "layer": lambda: nn.GroupNorm(1, channels),
        "instance": lambda: nn.GroupNorm(channels, channels),
        "none": nn.Identity,
    }[kind]()


class NormCNN(nn.Module):
    """conv 16 - pool - conv 32 - pool - conv 64, each conv followed by ``norm`` and ReLU; then
    global average pooling and a Linear head (the course CNN's layout).

    Without normalisation the convolutions keep their bias; with it the bias is dropped (the
    normalisation's shift replaces it). 24,058 parameters for 10 classes and one input channel
    with any normalisation, as the course CNN (23,946 without).

    Shape
    -----
    x : (N, in_channels, H, W) with H, W >= 4 -> logits : (N, num_classes)

    Examples
    --------
    >>> NormCNN("group", num_classes=10)(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    """

    def __init__(self, norm="batch", num_classes=10, in_channels=1, widths=(16, 32, 64), groups=4):
        super().__init__()
        layers, c_in = [], in_channels
        for i, width in enumerate(widths):
            layers += [
                nn.Conv2d(c_in, width, 3, padding=1, bias=norm == "none"),
                norm_layer(norm, width, groups),
                nn.ReLU(inplace=True),
            ]
            if i < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
            c_in = width
        self.norm = norm
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(c_in, num_classes)

    def forward(self, x):
        return self.head(self.features(x))  # (N, num_classes)
