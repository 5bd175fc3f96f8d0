"""CIFAR-sized residual and plain networks for the depth experiment (He et al., 2016, Sec. 4.2).

K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image recognition", CVPR 2016.
The paper's CIFAR-10 networks have depth 6n + 2: one 3x3 convolution, three stages of n blocks of
two 3x3 convolutions each (16, 32, 64 filters on 32x32, 16x16, 8x8 maps), a global average pool
and one dense layer. :func:`plain_small` is the same network with the skip connections removed,
the "plain" baseline whose training error grows with depth. :func:`preact_small` uses the
pre-activation block of the follow-up paper (K. He, X. Zhang, S. Ren, J. Sun, "Identity mappings
in deep residual networks", ECCV 2016): batch norm and ReLU *before* each convolution, nothing
after the addition, so the shortcut carries ``x`` from block to block untouched.
"""

import torch
import torch.nn.functional as F
from torch import nn

from .resnet import conv1x1, conv3x3


class SmallBlock(nn.Module):
    """Two 3x3 conv/BN layers; with ``skip=True`` the input is added before the last ReLU.

    When the block halves the map and doubles the channels, the shortcut subsamples x by 2 and
    pads the new channels with zeros (the paper's parameter-free option A), so a residual
    network and its plain twin have exactly the same parameters.

    Shape
    -----
    x : (N, in_planes, H, W) -> (N, planes, H / stride, W / stride)
    """

    def __init__(self, in_planes, planes, stride=1, skip=True):
        super().__init__()
        self.conv1 = conv3x3(in_planes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.skip = skip
        self.stride = stride
        self.extra_channels = planes - in_planes

    def shortcut(self, x):
        x = x[:, :, :: self.stride, :: self.stride]  # (N, in_planes, H', W')
        return F.pad(x, (0, 0, 0, 0, 0, self.extra_channels))  # (N, planes, H', W')

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))  # (N, planes, H', W')
        out = self.bn2(self.conv2(out))  # (N, planes, H', W')
        if self.skip:
            out = out + self.shortcut(x)
        return F.relu(out)


class PreActBlock(nn.Module):
    """Pre-activation residual block: ``x + conv(relu(bn(conv(relu(bn(x))))))``.

    Nothing follows the addition, so stacked blocks give ``x_L = x_l + sum_i F_i(x_i)``: the
    signal and its gradient pass from any block to any other through additions only. When the
    block halves the map and doubles the channels, the shortcut is the parameter-free option A
    of :class:`SmallBlock` (``shortcut="zeros"``) or a strided 1x1 projection
    (``shortcut="projection"``, applied after the first batch norm and ReLU, as in the paper).

    Shape
    -----
    x : (N, in_planes, H, W) -> (N, planes, H / stride, W / stride)

    Examples
    --------
    >>> PreActBlock(16, 32, stride=2)(torch.zeros(1, 16, 8, 8)).shape
    torch.Size([1, 32, 4, 4])
    """

    preactivation = True  # read by cvlib.viz.block_diagram

    def __init__(self, in_planes, planes, stride=1, shortcut="zeros"):
        super().__init__()
        if shortcut not in ("zeros", "projection"):
            raise ValueError(f"`shortcut` must be 'zeros' or 'projection', got {shortcut!r}")
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = conv3x3(in_planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.stride = stride
        self.extra_channels = planes - in_planes
        changes = stride != 1 or in_planes != planes
        self.shortcut = (
            conv1x1(in_planes, planes, stride) if changes and shortcut == "projection" else None
        )

    def forward(self, x):
        out = F.relu(self.bn1(x))  # (N, in_planes, H, W)
        if self.shortcut is not None:
            identity = self.shortcut(out)  # (N, planes, H', W')
        elif self.stride != 1 or self.extra_channels:
            identity = F.pad(
                x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, 0, self.extra_channels)
            )
        else:
            identity = x  # (N, planes, H, W): a clean identity
        out = self.conv1(out)  # (N, planes, H', W')
        out = self.conv2(F.relu(self.bn2(out)))  # (N, planes, H', W')
        return out + identity


class SmallResNet(nn.Module):
    """Depth 6n + 2 network on 32x32 inputs, with or without skip connections.

    Parameter count for width 16, 3 input channels, 10 classes: 269,722 at depth 20
    (the paper's 0.27M), 853,018 at depth 56.

    Shape
    -----
    x : (N, in_channels, H, W) -> logits : (N, num_classes)
    """

    def __init__(self, depth, num_classes=10, in_channels=3, width=16, skip=True, preact=False):
        super().__init__()
        if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
            raise ValueError(
                f"`depth` must be 6n + 2 with n >= 1 (8, 14, 20, 32, 56, ...), got {depth!r}"
            )
        n = (depth - 2) // 6
        self.depth = depth
        self.preact = preact
        self.conv1 = conv3x3(in_channels, width)
        self.bn1 = nn.BatchNorm2d(4 * width if preact else width)  # pre-act: the final BN-ReLU
        self.stage1 = self._stage(width, width, n, 1, skip, preact)
        self.stage2 = self._stage(width, 2 * width, n, 2, skip, preact)
        self.stage3 = self._stage(2 * width, 4 * width, n, 2, skip, preact)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(4 * width, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    @staticmethod
    def _stage(in_planes, planes, n, stride, skip, preact):
        if preact:
            blocks = [PreActBlock(in_planes, planes, stride)]
            blocks += [PreActBlock(planes, planes) for _ in range(n - 1)]
        else:
            blocks = [SmallBlock(in_planes, planes, stride, skip)]
            blocks += [SmallBlock(planes, planes, 1, skip) for _ in range(n - 1)]
        return nn.Sequential(*blocks)

    def forward(self, x):
        x = self.conv1(x)  # (N, w, 32, 32)
        if not self.preact:
            x = F.relu(self.bn1(x))  # pre-activation blocks normalise their own input
        x = self.stage1(x)  # (N, w, 32, 32)
        x = self.stage2(x)  # (N, 2w, 16, 16)
        x = self.stage3(x)  # (N, 4w, 8, 8)
        if self.preact:
            x = F.relu(self.bn1(x))  # (N, 4w, 8, 8): the last block's sum, normalised once
        x = torch.flatten(self.avgpool(x), 1)  # (N, 4w)
        return self.fc(x)  # (N, num_classes)


def resnet_small(depth=20, num_classes=10, in_channels=3, width=16):
    """CIFAR-style ResNet of depth 6n + 2 (ResNet-20: 269,722 parameters for 10 classes).

    Examples
    --------
    >>> model = resnet_small(20)
    >>> sum(p.numel() for p in model.parameters())
    269722
    >>> model(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    """
    return SmallResNet(depth, num_classes, in_channels, width, skip=True)


def plain_small(depth=20, num_classes=10, in_channels=3, width=16):
    """:func:`resnet_small` without skip connections: the same layers and parameters.

    Examples
    --------
    >>> sum(p.numel() for p in plain_small(20).parameters())
    269722
    """
    return SmallResNet(depth, num_classes, in_channels, width, skip=False)


def preact_small(depth=20, num_classes=10, in_channels=3, width=16):
    """:func:`resnet_small` with pre-activation blocks (He et al., ECCV 2016).

    Same convolutions and option-A shortcuts; the batch norms sit before the convolutions (and
    one more before the pool). The counts happen to match :func:`resnet_small`'s exactly.

    Examples
    --------
    >>> sum(p.numel() for p in preact_small(20).parameters())
    269722
    """
    return SmallResNet(depth, num_classes, in_channels, width, skip=True, preact=True)
