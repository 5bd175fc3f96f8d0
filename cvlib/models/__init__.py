"""The networks the course builds, written to be read (PyTorch ``nn.Module``s).

Every constructor takes ``num_classes``. The ImageNet architectures accept torchvision's
``state_dict`` with ``strict=True`` and take ``weights="IMAGENET1K_V1"`` to download it (online
only).
"""

from .alexnet import AlexNet, alexnet
from .course_cnn import CourseCNN, course_cnn
from .googlenet import GoogLeNet, Inception, googlenet
from .lecture import LectureCNN, lecture_cnn
from .lenet import LeNet5, lenet5
from .resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)
from .small import SmallResNet, plain_small, resnet_small
from .vgg import (
    VGG,
    make_layers,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)

__all__ = [
    "VGG",
    "AlexNet",
    "BasicBlock",
    "Bottleneck",
    "CourseCNN",
    "GoogLeNet",
    "Inception",
    "LeNet5",
    "LectureCNN",
    "ResNet",
    "SmallResNet",
    "alexnet",
    "course_cnn",
    "googlenet",
    "lecture_cnn",
    "lenet5",
    "make_layers",
    "plain_small",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnet_small",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
]
