"""Residual networks (He, Zhang, Ren and Sun, 2016), ImageNet versions, torchvision's layout.

K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image recognition", CVPR 2016.
A ResNet is a block class and a list of how many blocks each of its four stages holds.
"""

import torch
from torch import nn

from ._hub import check_weights, maybe_load

#: Blocks per stage (conv2_x .. conv5_x of the paper's Table 1).
STAGES = {
    "resnet18": ("basic", [2, 2, 2, 2]),
    "resnet34": ("basic", [3, 4, 6, 3]),
    "resnet50": ("bottleneck", [3, 4, 6, 3]),
    "resnet101": ("bottleneck", [3, 4, 23, 3]),
    "resnet152": ("bottleneck", [3, 8, 36, 3]),
}


def conv3x3(in_planes, out_planes, stride=1):
    """3x3 convolution with padding 1 and no bias (batch norm follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution without bias: mixes channels, or projects the shortcut."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a shortcut: ``relu(F(x) + x)`` (ResNet-18/34).

    Shape
    -----
    x : (N, inplanes, H, W) -> (N, planes, H / stride, W / stride)

    Examples
    --------
    >>> BasicBlock(64, 64)(torch.zeros(1, 64, 8, 8)).shape
    torch.Size([1, 64, 8, 8])
    """

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample  # projects x when the shape changes

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))  # (N, planes, H', W')
        out = self.bn2(self.conv2(out))  # (N, planes, H', W')
        if self.downsample is not None:
            identity = self.downsample(x)  # (N, planes, H', W')
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4), and a shortcut (ResNet-50/101/152).

    ResNet v1.5: the stride sits in the 3x3 convolution (``conv2``); the paper puts it in the
    first 1x1 convolution. Torchvision's weights follow v1.5, which is slightly more accurate
    and slightly costlier.

    Shape
    -----
    x : (N, inplanes, H, W) -> (N, 4 * planes, H / stride, W / stride)

    Examples
    --------
    >>> Bottleneck(256, 64)(torch.zeros(1, 256, 8, 8)).shape
    torch.Size([1, 256, 8, 8])
    """

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)  # v1.5: stride here, not in conv1
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))  # (N, planes, H, W)
        out = self.relu(self.bn2(self.conv2(out)))  # (N, planes, H', W')
        out = self.bn3(self.conv3(out))  # (N, 4 * planes, H', W')
        if self.downsample is not None:
            identity = self.downsample(x)  # (N, 4 * planes, H', W')
        out += identity
        return self.relu(out)


_BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


class ResNet(nn.Module):
    """Stem (7x7/2 conv, 3x3/2 max pool), four stages of blocks, global average pool, one fc.

    Shape
    -----
    x : (N, 3, H, W) -> logits : (N, num_classes); 224x224 input gives 7x7 maps before the pool.

    Examples
    --------
    >>> ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10)(torch.zeros(1, 3, 64, 64)).shape
    torch.Size([1, 10])
    """

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:  # each block starts as the identity (Goyal et al., 2017)
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.zeros_(m.bn3.weight)
                elif isinstance(m, BasicBlock):
                    nn.init.zeros_(m.bn2.weight)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(  # projection shortcut (the paper's option B)
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))  # (N, 64, H/2, W/2)
        x = self.maxpool(x)  # (N, 64, H/4, W/4)
        x = self.layer1(x)  # (N, 64 e, H/4, W/4), e = block.expansion
        x = self.layer2(x)  # (N, 128 e, H/8, W/8)
        x = self.layer3(x)  # (N, 256 e, H/16, W/16)
        x = self.layer4(x)  # (N, 512 e, H/32, W/32)
        x = torch.flatten(self.avgpool(x), 1)  # (N, 512 e)
        return self.fc(x)  # (N, num_classes)


def _resnet(arch, num_classes, weights, progress, **kwargs):
    pretrained = check_weights(weights, arch, num_classes)
    kind, layers = STAGES[arch]
    model = ResNet(_BLOCKS[kind], layers, num_classes=num_classes, **kwargs)
    return maybe_load(model, pretrained, arch, progress)


def resnet18(num_classes=1000, weights=None, progress=True, **kwargs):
    """ResNet-18: 11,689,512 parameters for 1000 classes.

    Examples
    --------
    >>> sum(p.numel() for p in resnet18().parameters())
    11689512
    """
    return _resnet("resnet18", num_classes, weights, progress, **kwargs)


def resnet34(num_classes=1000, weights=None, progress=True, **kwargs):
    """ResNet-34: 21,797,672 parameters for 1000 classes."""
    return _resnet("resnet34", num_classes, weights, progress, **kwargs)


def resnet50(num_classes=1000, weights=None, progress=True, **kwargs):
    """ResNet-50 (v1.5): 25,557,032 parameters for 1000 classes."""
    return _resnet("resnet50", num_classes, weights, progress, **kwargs)


def resnet101(num_classes=1000, weights=None, progress=True, **kwargs):
    """ResNet-101 (v1.5): 44,549,160 parameters for 1000 classes."""
    return _resnet("resnet101", num_classes, weights, progress, **kwargs)


def resnet152(num_classes=1000, weights=None, progress=True, **kwargs):
    """ResNet-152 (v1.5): 60,192,808 parameters for 1000 classes."""
    return _resnet("resnet152", num_classes, weights, progress, **kwargs)
