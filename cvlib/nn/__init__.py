"""The PyTorch side's base: the numpy core inside autograd, and the blocks networks share.

- :mod:`cvlib.nn.autograd`: :class:`Conv2d` and :class:`MaxPool2d`, drop-in replacements for
  ``torch.nn``'s layers that compute with :mod:`cvlib.conv` and :mod:`cvlib.pool`;
- :mod:`cvlib.nn.blocks`: :func:`conv_bn_relu`, :func:`double_conv`, :func:`centre_images` /
  :class:`CentreImages`.
"""

from .autograd import Conv2d, Conv2dFunction, MaxPool2d, MaxPool2dFunction
from .blocks import CentreImages, centre_images, conv_bn_relu, double_conv

__all__ = [
    "CentreImages",
    "Conv2d",
    "Conv2dFunction",
    "MaxPool2d",
    "MaxPool2dFunction",
    "centre_images",
    "conv_bn_relu",
    "double_conv",
]
