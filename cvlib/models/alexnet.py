"""AlexNet (Krizhevsky, Sutskever and Hinton, 2012), in torchvision's single-GPU layout.

A. Krizhevsky, I. Sutskever, G. E. Hinton, "ImageNet classification with deep convolutional neural
networks", NeurIPS 2012.
"""

import torch
from torch import nn

from ._hub import check_weights, maybe_load


def alexnet_features(in_channels, widths, first_kernel, first_stride):
    """AlexNet's five convolutions, as a list of layers (``widths``: their filter counts).

    A large-filter convolution and a 5x5 one, each followed by ReLU and an overlapping 3x3 max
    pool with stride 2 (a side ``s`` becomes ``(s - 1) // 2``); three 3x3 convolutions with
    ReLU; a last overlapping pool. Every convolution after the first keeps its input's size.

    Shape
    -----
    x : (N, in_channels, H, W) -> (N, widths[4], h3, w3); ``h = (H + 4 - first_kernel) //
    first_stride + 1`` after the first convolution, then ``h1, h2, h3`` after each pool
    (55, 27, 13, 6 for AlexNet at 224x224; 28, 13, 6, 2 for the 28x28 one)

    Examples
    --------
    >>> features = nn.Sequential(*alexnet_features(1, (4, 4, 4, 4, 8), 5, 1))
    >>> features(torch.zeros(1, 1, 28, 28)).shape
    torch.Size([1, 8, 2, 2])
    """
    c1, c2, c3, c4, c5 = widths
    return [
        nn.Conv2d(in_channels, c1, first_kernel, stride=first_stride, padding=2),  # (N, c1, h, w)
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),  # (N, c1, h1, w1): overlapping windows
        nn.Conv2d(c1, c2, kernel_size=5, padding=2),  # (N, c2, h1, w1)
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),  # (N, c2, h2, w2)
        nn.Conv2d(c2, c3, kernel_size=3, padding=1),  # (N, c3, h2, w2)
        nn.ReLU(inplace=True),
        nn.Conv2d(c3, c4, kernel_size=3, padding=1),  # (N, c4, h2, w2)
        nn.ReLU(inplace=True),
        nn.Conv2d(c4, c5, kernel_size=3, padding=1),  # (N, c5, h2, w2)
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),  # (N, c5, h3, w3)
    ]


def alexnet_classifier(in_features, hidden, num_classes, dropout=0.5):
    """AlexNet's three dense layers, as a list: dropout before each of the two hidden ones.

    Shape
    -----
    x : (N, in_features) -> logits : (N, num_classes)
    """
    return [
        nn.Dropout(p=dropout),
        nn.Linear(in_features, hidden),  # (N, hidden)
        nn.ReLU(inplace=True),
        nn.Dropout(p=dropout),
        nn.Linear(hidden, hidden),  # (N, hidden)
        nn.ReLU(inplace=True),
        nn.Linear(hidden, num_classes),  # (N, num_classes)
    ]


class AlexNet(nn.Module):
    """Five convolutions and three dense layers; 61,100,840 parameters for 1000 classes.

    Departures from the paper, kept so torchvision's weights load (they come from the
    "one weird trick" paper, Krizhevsky 2014):

    - one tower instead of the paper's two GPU halves, with 64, 192, 384, 256, 256 filters
      (the paper: 96, 256, 384, 384, 256);
    - no local response normalisation;
    - an adaptive average pool to 6x6 so inputs other than 224x224 work.

    Shape
    -----
    x : (N, 3, H, W), H, W >= 63 -> logits : (N, num_classes)

    Examples
    --------
    >>> AlexNet(num_classes=10)(torch.zeros(1, 3, 64, 64)).shape
    torch.Size([1, 10])
    """

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        widths = (64, 192, 384, 256, 256)
        self.features = nn.Sequential(*alexnet_features(3, widths, first_kernel=11, first_stride=4))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))  # (N, 256, 6, 6)
        head = alexnet_classifier(256 * 6 * 6, 4096, num_classes, dropout)
        self.classifier = nn.Sequential(*head)

    def forward(self, x):
        x = self.features(x)  # (N, 256, h, w)
        x = self.avgpool(x)  # (N, 256, 6, 6)
        x = torch.flatten(x, 1)  # (N, 9216)
        return self.classifier(x)  # (N, num_classes)


def alexnet(num_classes=1000, weights=None, progress=True, **kwargs):
    """Build :class:`AlexNet`; ``weights="IMAGENET1K_V1"`` (or True) loads torchvision's weights.

    61,100,840 parameters for 1000 classes.
    """
    pretrained = check_weights(weights, "alexnet", num_classes)
    model = AlexNet(num_classes=num_classes, **kwargs)
    return maybe_load(model, pretrained, "alexnet", progress)
