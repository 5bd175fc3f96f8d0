"""Every network of the course, written to be read (PyTorch ``nn.Module``s).

Every constructor takes ``num_classes`` (then ``in_channels`` where the input may vary). The
ImageNet architectures accept torchvision's ``state_dict`` with ``strict=True`` and take
``weights="IMAGENET1K_V1"`` to download it (online only); the course CNN ships its own weights
(``course_cnn(weights="digits-0-4")``).

- classification: LeNet-5, AlexNet, VGG, GoogLeNet, ResNet; these families, NiN and DenseNet
  scaled to 28x28 (:mod:`cvlib.models.mini`, pretrained on Fashion-MNIST); the lecture's quiz
  network, the course CNN and its shapes variant, small residual (post- and pre-activation)
  and plain networks, a small CNN with a choice of normalisation (batch, group, layer,
  instance, none), plain dense stacks;
- localisation and detection: :class:`BoxRegressor`, :class:`ProposalClassifier`, the one-stage
  detector :class:`TinySSD` (its shapes weights ship);
- segmentation: :class:`FCN`.
"""

from .alexnet import AlexNet, alexnet
from .box_nets import BoxRegressor, ProposalClassifier
from .course_cnn import CourseCNN, course_cnn
from .fcn import FCN, fcn_small
from .googlenet import GoogLeNet, Inception, googlenet
from .lecture import LectureCNN, lecture_cnn
from .lenet import LeNet5, lenet5
from .mini import (
    FAMILIES,
    fashion_net,
    mini_alexnet,
    mini_densenet,
    mini_googlenet,
    mini_nin,
    mini_resnet,
    mini_vgg,
    pretrained_families,
)
from .mlp import deep_mlp
from .norm_cnn import NormCNN, norm_layer
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
from .shapes_cnn import ShapesCNN
from .small import PreActBlock, SmallResNet, plain_small, preact_small, resnet_small
from .ssd import TinySSD
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
    "FAMILIES",
    "FCN",
    "VGG",
    "AlexNet",
    "BasicBlock",
    "Bottleneck",
    "BoxRegressor",
    "CourseCNN",
    "GoogLeNet",
    "Inception",
    "LeNet5",
    "LectureCNN",
    "NormCNN",
    "PreActBlock",
    "ProposalClassifier",
    "ResNet",
    "ShapesCNN",
    "SmallResNet",
    "TinySSD",
    "alexnet",
    "course_cnn",
    "deep_mlp",
    "fashion_net",
    "fcn_small",
    "googlenet",
    "lecture_cnn",
    "lenet5",
    "make_layers",
    "mini_alexnet",
    "mini_densenet",
    "mini_googlenet",
    "mini_nin",
    "mini_resnet",
    "mini_vgg",
    "norm_layer",
    "plain_small",
    "preact_small",
    "pretrained_families",
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
