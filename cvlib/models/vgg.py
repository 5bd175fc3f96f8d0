"""VGG (Simonyan and Zisserman, 2015): an architecture written as a list.

K. Simonyan, A. Zisserman, "Very deep convolutional networks for large-scale image recognition",
ICLR 2015. Each network is a column of the paper's Table 1: a number is a 3x3 convolution with that
many filters (padding 1, then ReLU), "M" a 2x2 max pool with stride 2.
"""

import torch
from torch import nn

from ._hub import check_weights, maybe_load

#: The paper's configurations A, B, D and E (VGG-11, 13, 16, 19).
CFGS = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        256,
        "M",
        512,
        512,
        512,
        "M",
        512,
        512,
        512,
        "M",
    ],
    "vgg19": [
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        256,
        256,
        "M",
        512,
        512,
        512,
        512,
        "M",
        512,
        512,
        512,
        512,
        "M",
    ],
}

#: Parameters for 1000 classes (equal to torchvision's).
NUM_PARAMS = {
    "vgg11": 132_863_336,
    "vgg13": 133_047_848,
    "vgg16": 138_357_544,
    "vgg19": 143_667_240,
    "vgg11_bn": 132_868_840,
    "vgg13_bn": 133_053_736,
    "vgg16_bn": 138_365_992,
    "vgg19_bn": 143_678_248,
}


def make_layers(cfg, batch_norm=False, in_channels=3):
    """Turn a config list into the convolutional part of a VGG.

    Examples
    --------
    >>> [type(m).__name__ for m in make_layers([8, "M"], batch_norm=True)]
    ['Conv2d', 'BatchNorm2d', 'ReLU', 'MaxPool2d']
    """
    layers = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))  # halves H and W
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))  # keeps H and W
        if batch_norm:  # not in the paper: added later (Ioffe and Szegedy, 2015)
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


def vgg_classifier(in_features, hidden, num_classes, dropout=0.5):
    """VGG's three dense layers, as a list: ReLU then dropout after each of the two hidden ones.

    Shape
    -----
    x : (N, in_features) -> logits : (N, num_classes)
    """
    return [
        nn.Linear(in_features, hidden),  # (N, hidden)
        nn.ReLU(inplace=True),
        nn.Dropout(p=dropout),
        nn.Linear(hidden, hidden),  # (N, hidden)
        nn.ReLU(inplace=True),
        nn.Dropout(p=dropout),
        nn.Linear(hidden, num_classes),  # (N, num_classes)
    ]


class VGG(nn.Module):
    """Convolutional ``features`` from :func:`make_layers`, then three dense layers.

    The adaptive average pool to 7x7 is torchvision's addition (not in the paper) so that
    smaller inputs also work; at 224x224 it does nothing.

    Shape
    -----
    x : (N, 3, H, W), H, W >= 32 -> logits : (N, num_classes)

    Examples
    --------
    >>> VGG(make_layers(CFGS["vgg11"]), num_classes=10)(torch.zeros(1, 3, 32, 32)).shape
    torch.Size([1, 10])
    """

    def __init__(self, features, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(*vgg_classifier(512 * 7 * 7, 4096, num_classes, dropout))
        self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):  # He et al. (2015): keeps activations' scale with depth
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.features(x)  # (N, 512, H/32, W/32)
        x = self.avgpool(x)  # (N, 512, 7, 7)
        x = torch.flatten(x, 1)  # (N, 25088)
        return self.classifier(x)  # (N, num_classes)


def _vgg(name, batch_norm, num_classes, weights, progress, **kwargs):
    arch = name + ("_bn" if batch_norm else "")
    pretrained = check_weights(weights, arch, num_classes)
    model = VGG(make_layers(CFGS[name], batch_norm=batch_norm), num_classes=num_classes, **kwargs)
    return maybe_load(model, pretrained, arch, progress)


def vgg11(num_classes=1000, weights=None, progress=True, **kwargs):
    """VGG-11 (configuration A): 132,863,336 parameters for 1000 classes."""
    return _vgg("vgg11", False, num_classes, weights, progress, **kwargs)


def vgg13(num_classes=1000, weights=None, progress=True, **kwargs):
    """VGG-13 (configuration B): 133,047,848 parameters for 1000 classes."""
    return _vgg("vgg13", False, num_classes, weights, progress, **kwargs)


def vgg16(num_classes=1000, weights=None, progress=True, **kwargs):
    """VGG-16 (configuration D): 138,357,544 parameters for 1000 classes."""
    return _vgg("vgg16", False, num_classes, weights, progress, **kwargs)


def vgg19(num_classes=1000, weights=None, progress=True, **kwargs):
    """VGG-19 (configuration E): 143,667,240 parameters for 1000 classes."""
    return _vgg("vgg19", False, num_classes, weights, progress, **kwargs)


def vgg11_bn(num_classes=1000, weights=None, progress=True, **kwargs):
    """VGG-11 with batch normalisation: 132,868,840 parameters for 1000 classes."""
    return _vgg("vgg11", True, num_classes, weights, progress, **kwargs)


def vgg13_bn(num_classes=1000, weights=None, progress=True, **kwargs):
    """VGG-13 with batch normalisation: 133,053,736 parameters for 1000 classes."""
    return _vgg("vgg13", True, num_classes, weights, progress, **kwargs)


def vgg16_bn(num_classes=1000, weights=None, progress=True, **kwargs):
    """VGG-16 with batch normalisation: 138,365,992 parameters for 1000 classes."""
    return _vgg("vgg16", True, num_classes, weights, progress, **kwargs)


def vgg19_bn(num_classes=1000, weights=None, progress=True, **kwargs):
    """VGG-19 with batch normalisation: 143,678,248 parameters for 1000 classes."""
    return _vgg("vgg19", True, num_classes, weights, progress, **kwargs)
