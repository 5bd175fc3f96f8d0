"""The classic families scaled down to 28x28 greyscale images, small enough for a CPU.

Each keeps the idea that defines its family and shrinks the widths and the number of stages
so that one epoch over thousands of Fashion-MNIST images takes seconds, not hours:

- LeNet-5 (LeCun et al., 1998): :func:`cvlib.models.lenet5` with ``padding=2``, as is;
- AlexNet (Krizhevsky et al., 2012): large first filters, overlapping 3x3 max pools, three
  dense layers with dropout; :func:`mini_alexnet`;
- VGG (Simonyan and Zisserman, 2015): only 3x3 convolutions, stacked, between 2x2 pools, from
  a config list; :func:`mini_vgg`;
- NiN (Lin, Chen and Yan, 2014): "mlpconv" blocks (a convolution, then two 1x1 convolutions)
  and no dense layer: the last block has one channel per class, averaged; :func:`mini_nin`;
- GoogLeNet (Szegedy et al., 2015): Inception modules; :func:`mini_googlenet`;
- ResNet (He et al., 2016): BasicBlocks with identity and projection shortcuts;
  :func:`mini_resnet`;
- DenseNet (Huang et al., 2017): every layer of a dense block receives all the maps before it,
  concatenated; transitions halve the maps; :func:`mini_densenet`.

The pretrained versions (``fashion_net(name, weights="fashion-mnist")``) are made by
``python -m cvlib.experiments.pretrain NAME``; ``weights/fashion/NAME.md`` is each one's card.
"""

from importlib import resources

import torch
from torch import nn

from .alexnet import alexnet_classifier, alexnet_features
from .googlenet import Inception
from .lenet import LeNet5
from .resnet import BasicBlock, conv1x1
from .vgg import make_layers, vgg_classifier

__all__ = [
    "FAMILIES",
    "DenseLayer",
    "fashion_net",
    "mini_alexnet",
    "mini_densenet",
    "mini_googlenet",
    "mini_nin",
    "mini_resnet",
    "mini_vgg",
    "pretrained_families",
]

MINI_VGG_CFG = [32, "M", 64, "M", 128, 128, "M"]  # 28 -> 14 -> 7 -> 3


def mini_alexnet(num_classes=10, in_channels=1):
    """AlexNet's shape at 28x28: 5x5 then 3x3 convolutions, 3x3/2 pools, dense 256-256.

    Departs from the paper: 5x5 filters at stride 1 where it had 11x11 at stride 4 (the image
    is 8 times smaller), no local response normalisation, one tower. 16.4 M multiply-adds,
    380,042 parameters.

    Shape
    -----
    x : (N, in_channels, 28, 28) -> logits : (N, num_classes)
    """
    widths = (32, 64, 96, 96, 64)
    return nn.Sequential(
        *alexnet_features(in_channels, widths, first_kernel=5, first_stride=1),  # (N, 64, 2, 2)
        nn.Flatten(),  # (N, 256)
        *alexnet_classifier(64 * 2 * 2, 256, num_classes),  # (N, num_classes)
    )


def mini_vgg(num_classes=10, in_channels=1):
    """VGG's recipe at 28x28: :data:`MINI_VGG_CFG` through ``make_layers``, dense 128-128.

    Four 3x3 convolutions in three stages (VGG-11 has eight in five); no batch norm, as in the
    paper. 14.8 M multiply-adds, 405,642 parameters.

    Shape
    -----
    x : (N, in_channels, 28, 28) -> logits : (N, num_classes)
    """
    return nn.Sequential(
        make_layers(MINI_VGG_CFG, in_channels=in_channels),  # (N, 128, 3, 3)
        nn.Flatten(),  # (N, 1152)
        *vgg_classifier(128 * 3 * 3, 128, num_classes),  # (N, num_classes)
    )


def nin_block(in_channels, out_channels, kernel_size, padding, last_relu=True):
    """NiN's "mlpconv": a k x k convolution, then two 1x1 convolutions (a tiny MLP per pixel)."""
    layers = [
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, kernel_size=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, kernel_size=1),
    ]
    return nn.Sequential(*layers, *([nn.ReLU(inplace=True)] if last_relu else []))


def mini_nin(num_classes=10, in_channels=1):
    """Network in Network at 28x28: three mlpconv blocks, the last with ``num_classes`` maps.

    No dense layer: global average pooling turns each class's map into its logit. Departs from
    the paper: the last 1x1 convolution has no ReLU (logits may be negative). 6.9 M
    multiply-adds, 35,750 parameters.

    Shape
    -----
    x : (N, in_channels, 28, 28) -> logits : (N, num_classes)
    """
    return nn.Sequential(
        nin_block(in_channels, 32, kernel_size=5, padding=2),  # (N, 32, 28, 28)
        nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 32, 13, 13)
        nin_block(32, 64, kernel_size=3, padding=1),  # (N, 64, 13, 13)
        nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 64, 6, 6)
        nn.Dropout(0.5),
        nin_block(64, num_classes, kernel_size=3, padding=1, last_relu=False),  # (N, K, 6, 6)
        nn.AdaptiveAvgPool2d(1),  # (N, num_classes, 1, 1)
        nn.Flatten(),  # (N, num_classes)
    )


def mini_googlenet(num_classes=10, in_channels=1):
    """GoogLeNet at 28x28: a 3x3 stem, three Inception modules, global average pooling.

    Uses :class:`cvlib.models.Inception` (batch norm after every convolution, as in
    torchvision's port; the 2015 paper had none). 4.7 M multiply-adds, 42,114 parameters.

    Shape
    -----
    x : (N, in_channels, 28, 28) -> logits : (N, num_classes)
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, kernel_size=3, padding=1),  # (N, 32, 28, 28)
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=2),  # (N, 32, 14, 14)
        Inception(32, 16, 16, 24, 4, 8, 8),  # (N, 56, 14, 14)
        Inception(56, 24, 24, 32, 8, 16, 16),  # (N, 88, 14, 14)
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # (N, 88, 7, 7)
        Inception(88, 32, 32, 48, 8, 16, 16),  # (N, 112, 7, 7)
        nn.AdaptiveAvgPool2d(1),  # (N, 112, 1, 1)
        nn.Flatten(),
        nn.Linear(112, num_classes),  # (N, num_classes)
    )


def _stage(inplanes, planes, stride):
    """One BasicBlock; a 1x1 projection shortcut where the shape changes (option B)."""
    downsample = None
    if stride != 1 or inplanes != planes:
        downsample = nn.Sequential(conv1x1(inplanes, planes, stride), nn.BatchNorm2d(planes))
    return BasicBlock(inplanes, planes, stride, downsample)


def mini_resnet(num_classes=10, in_channels=1):
    """ResNet at 28x28: a 3x3 stem and three BasicBlocks of 16, 32, 64 channels.

    The first block keeps 28x28, the next two halve the map (projection shortcuts). 9.3 M
    multiply-adds, 77,754 parameters.

    Shape
    -----
    x : (N, in_channels, 28, 28) -> logits : (N, num_classes)
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 16, kernel_size=3, padding=1, bias=False),  # (N, 16, 28, 28)
        nn.BatchNorm2d(16),
        nn.ReLU(inplace=True),
        _stage(16, 16, stride=1),  # (N, 16, 28, 28)
        _stage(16, 32, stride=2),  # (N, 32, 14, 14)
        _stage(32, 64, stride=2),  # (N, 64, 7, 7)
        nn.AdaptiveAvgPool2d(1),  # (N, 64, 1, 1)
        nn.Flatten(),
        nn.Linear(64, num_classes),  # (N, num_classes)
    )


class DenseLayer(nn.Module):
    """BN-ReLU-3x3 conv giving ``growth`` new maps, concatenated to its input (DenseNet).

    Shape
    -----
    x : (N, C, H, W) -> (N, C + growth, H, W)
    """

    def __init__(self, in_channels, growth):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_channels)
        self.conv = nn.Conv2d(in_channels, growth, kernel_size=3, padding=1, bias=False)

    def forward(self, x):
        new = self.conv(torch.relu(self.bn(x)))  # (N, growth, H, W)
        return torch.cat([x, new], dim=1)  # (N, C + growth, H, W)


def _dense_block(in_channels, layers, growth):
    block = [DenseLayer(in_channels + i * growth, growth) for i in range(layers)]
    return nn.Sequential(*block), in_channels + layers * growth


def _transition(in_channels):
    """BN-ReLU-1x1 conv halving the channels, then a 2x2 average pool halving the map."""
    out = in_channels // 2
    layers = [nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True), conv1x1(in_channels, out)]
    return nn.Sequential(*layers, nn.AvgPool2d(kernel_size=2)), out


def mini_densenet(num_classes=10, in_channels=1, growth=12, layers=(4, 4, 4)):
    """DenseNet at 28x28: a stem, dense blocks of ``layers`` layers of ``growth`` maps.

    Departs from the paper: a 3x3 stem and a 2x2 max pool (28 -> 14) before the first block.
    5.8 M multiply-adds and 76,378 parameters with the defaults.

    Shape
    -----
    x : (N, in_channels, 28, 28) -> logits : (N, num_classes)
    """
    parts = [
        nn.Conv2d(in_channels, 2 * growth, kernel_size=3, padding=1, bias=False),  # 28x28
        nn.MaxPool2d(kernel_size=2),  # (N, 2 * growth, 14, 14)
    ]
    channels = 2 * growth
    for i, n in enumerate(layers):
        block, channels = _dense_block(channels, n, growth)  # (N, channels, h, w)
        parts.append(block)
        if i < len(layers) - 1:
            transition, channels = _transition(channels)  # (N, channels, h / 2, w / 2)
            parts.append(transition)
    parts += [nn.BatchNorm2d(channels), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1)]
    return nn.Sequential(*parts, nn.Flatten(), nn.Linear(channels, num_classes))


def _lenet(num_classes=10, in_channels=1):
    return LeNet5(num_classes=num_classes, in_channels=in_channels, padding=2)


#: name -> constructor ``f(num_classes, in_channels)``, in the order of the families' history.
FAMILIES = {
    "lenet": _lenet,
    "alexnet": mini_alexnet,
    "vgg": mini_vgg,
    "nin": mini_nin,
    "googlenet": mini_googlenet,
    "resnet": mini_resnet,
    "densenet": mini_densenet,
}


def pretrained_families():
    """The names of :data:`FAMILIES` whose Fashion-MNIST weights ship with the package, in order.

    Examples
    --------
    >>> set(pretrained_families()) <= set(FAMILIES)
    True
    """
    folder = resources.files("cvlib.models") / "weights" / "fashion"
    return [name for name in FAMILIES if (folder / f"{name}.pt").is_file()]


def fashion_net(name, weights=None):
    """One of :data:`FAMILIES` for 28x28 greyscale images, untrained or pretrained.

    Parameters
    ----------
    name : str
        A key of :data:`FAMILIES`.
    weights : {None, "fashion-mnist"}
        ``"fashion-mnist"`` loads ``weights/fashion/NAME.pt``, trained on Fashion-MNIST by
        ``python -m cvlib.experiments.pretrain NAME`` (its card: ``NAME.md``); the model comes
        back in eval mode with the file's ``meta`` and ``history`` as attributes
        ``.pretrain_meta`` and ``.pretrain_history``.

    Examples
    --------
    >>> fashion_net("resnet")(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    """
    if name not in FAMILIES:
        raise ValueError(f"`name` must be one of {list(FAMILIES)}, got {name!r}")
    if weights is None:
        return FAMILIES[name]()
    if weights != "fashion-mnist":
        raise ValueError(f"`weights` must be None or 'fashion-mnist', got {weights!r}")
    ref = resources.files("cvlib.models") / "weights" / "fashion" / f"{name}.pt"
    with resources.as_file(ref) as path:
        if not path.exists():
            raise FileNotFoundError(
                f"no weights for {name!r} at {path}: run python -m cvlib.experiments.pretrain "
                f"{name}"
            )
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = FAMILIES[name](**checkpoint["config"])
    model.load_state_dict(checkpoint["state_dict"])
    model.pretrain_meta = checkpoint["meta"]
    model.pretrain_history = checkpoint["history"]
    return model.eval()
