"""GoogLeNet / Inception v1 (Szegedy et al., 2015), with torchvision's parameter names.

C. Szegedy et al., "Going deeper with convolutions", CVPR 2015.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ._hub import check_weights, maybe_load

#: Inception modules of the paper's Table 1, in order: name -> (in_channels, #1x1, #3x3 reduce,
#: #3x3, #5x5 reduce, #5x5, pool proj). Output channels = #1x1 + #3x3 + #5x5 + pool proj.
INCEPTION_CFG = {
    "inception3a": (192, 64, 96, 128, 16, 32, 32),
    "inception3b": (256, 128, 128, 192, 32, 96, 64),
    "inception4a": (480, 192, 96, 208, 16, 48, 64),
    "inception4b": (512, 160, 112, 224, 24, 64, 64),
    "inception4c": (512, 128, 128, 256, 24, 64, 64),
    "inception4d": (512, 112, 144, 288, 32, 64, 64),
    "inception4e": (528, 256, 160, 320, 32, 128, 128),
    "inception5a": (832, 256, 160, 320, 32, 128, 128),
    "inception5b": (832, 384, 192, 384, 48, 128, 128),
}


class BasicConv2d(nn.Module):
    """Convolution (no bias), batch norm (eps 0.001), ReLU. The paper had no batch norm."""

    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """Four parallel branches whose outputs are concatenated along the channels.

    1x1 conv | 1x1 reduce -> 3x3 | 1x1 reduce -> "5x5" | 3x3 max pool -> 1x1 projection.

    The third branch uses a 3x3 kernel where the paper has 5x5: a slip carried over from
    torchvision's port, kept so its weights load.

    Shape
    -----
    x : (N, in_channels, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)

    Examples
    --------
    >>> Inception(192, 64, 96, 128, 16, 32, 32)(torch.zeros(1, 192, 28, 28)).shape
    torch.Size([1, 256, 28, 28])
    """

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1),  # paper: 5x5, padding 2
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )

    def forward(self, x):
        b1 = self.branch1(x)  # (N, ch1x1, H, W)
        b2 = self.branch2(x)  # (N, ch3x3, H, W)
        b3 = self.branch3(x)  # (N, ch5x5, H, W)
        b4 = self.branch4(x)  # (N, pool_proj, H, W)
        return torch.cat([b1, b2, b3, b4], 1)


class InceptionAux(nn.Module):
    """Auxiliary classifier on an intermediate map (used only in training, as in the paper)."""

    def __init__(self, in_channels, num_classes, dropout=0.7):
        super().__init__()
        self.conv = BasicConv2d(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(128 * 4 * 4, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(x, (4, 4))  # (N, C, 4, 4)
        x = self.conv(x)  # (N, 128, 4, 4)
        x = torch.flatten(x, 1)  # (N, 2048)
        x = F.relu(self.fc1(x), inplace=True)  # (N, 1024)
        x = self.dropout(x)
        return self.fc2(x)  # (N, num_classes)


class GoogLeNet(nn.Module):
    """22 layers deep, 6,624,904 parameters for 1000 classes without the auxiliary heads.

    With ``aux_logits=True`` the model has two auxiliary classifiers (after inception4a and 4d;
    13,004,888 parameters in all), and in training
    mode ``forward`` returns ``(logits, aux2, aux1)`` like torchvision's namedtuple; in eval mode
    it returns the logits only. ``transform_input=True`` maps inputs normalised with ImageNet's
    mean/std to the [-1, 1] scaling the ported weights expect.

    Shape
    -----
    x : (N, 3, H, W), H, W >= 15 -> logits : (N, num_classes)
    """

    def __init__(
        self,
        num_classes=1000,
        aux_logits=False,
        transform_input=False,
        dropout=0.2,
        dropout_aux=0.7,
    ):
        super().__init__()
        self.aux_logits = aux_logits
        self.transform_input = transform_input
        self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)  # (N, 64, 112, 112)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # (N, 64, 56, 56)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)  # (N, 192, 56, 56)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # (N, 192, 28, 28)
        self.inception3a = Inception(*INCEPTION_CFG["inception3a"])
        self.inception3b = Inception(*INCEPTION_CFG["inception3b"])  # (N, 480, 28, 28)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # (N, 480, 14, 14)
        self.inception4a = Inception(*INCEPTION_CFG["inception4a"])
        self.inception4b = Inception(*INCEPTION_CFG["inception4b"])
        self.inception4c = Inception(*INCEPTION_CFG["inception4c"])
        self.inception4d = Inception(*INCEPTION_CFG["inception4d"])
        self.inception4e = Inception(*INCEPTION_CFG["inception4e"])  # (N, 832, 14, 14)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)  # (N, 832, 7, 7)
        self.inception5a = Inception(*INCEPTION_CFG["inception5a"])
        self.inception5b = Inception(*INCEPTION_CFG["inception5b"])  # (N, 1024, 7, 7)
        self.aux1 = InceptionAux(512, num_classes, dropout_aux) if aux_logits else None
        self.aux2 = InceptionAux(528, num_classes, dropout_aux) if aux_logits else None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)

    def _transform_input(self, x):
        # undo ImageNet's (x - mean) / std and apply (x - 0.5) / 0.5 instead, per channel
        mean = x.new_tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = x.new_tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        return (x * std + mean - 0.5) / 0.5

    def forward(self, x):
        if self.transform_input:
            x = self._transform_input(x)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)  # (N, 512, 14, 14)
        train_aux = self.training and self.aux1 is not None
        aux1 = self.aux1(x) if train_aux else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))  # (N, 528, 14, 14)
        aux2 = self.aux2(x) if train_aux else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))  # (N, 1024, 7, 7)
        x = torch.flatten(self.avgpool(x), 1)  # (N, 1024)
        x = self.fc(self.dropout(x))  # (N, num_classes)
        return (x, aux2, aux1) if train_aux else x


def googlenet(
    num_classes=1000, weights=None, progress=True, aux_logits=False, transform_input=None, **kwargs
):
    """Build :class:`GoogLeNet`; ``weights="IMAGENET1K_V1"`` (or True) loads torchvision's weights.

    6,624,904 parameters for 1000 classes without auxiliary heads. ``transform_input`` defaults to
    True when weights are loaded (as in torchvision), else False. Torchvision's checkpoint holds
    the auxiliary heads too (not trained, torchvision warns); they are kept only if
    ``aux_logits=True``.

    Note: ``torchvision.models.googlenet(weights=None)`` builds the auxiliary heads by default;
    this one does not, so pass ``aux_logits=True`` to mirror it.

    Examples
    --------
    >>> sum(p.numel() for p in googlenet().parameters())
    6624904
    """
    pretrained = check_weights(weights, "googlenet", num_classes)
    if transform_input is None:
        transform_input = pretrained
    model = GoogLeNet(
        num_classes, aux_logits=aux_logits or pretrained, transform_input=transform_input, **kwargs
    )
    maybe_load(model, pretrained, "googlenet", progress)
    if pretrained and not aux_logits:
        model.aux_logits = False
        model.aux1 = None
        model.aux2 = None
    return model
