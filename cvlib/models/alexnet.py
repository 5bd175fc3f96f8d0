"""AlexNet (Krizhevsky, Sutskever and Hinton, 2012), in torchvision's single-GPU layout.

A. Krizhevsky, I. Sutskever, G. E. Hinton, "ImageNet classification with deep convolutional neural
networks", NeurIPS 2012.
"""

import torch
from torch import nn

from ._hub import check_weights, maybe_load


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
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),  # (N, 64, 55, 55) at 224
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 64, 27, 27)
            nn.Conv2d(64, 192, kernel_size=5, padding=2),  # (N, 192, 27, 27)
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 192, 13, 13)
            nn.Conv2d(192, 384, kernel_size=3, padding=1),  # (N, 384, 13, 13)
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),  # (N, 256, 13, 13)
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),  # (N, 256, 13, 13)
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 256, 6, 6)
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))  # (N, 256, 6, 6)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

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
