"""Building blocks that several of the course's networks share.

- :func:`conv_bn_relu`: a 3x3 convolution without bias, batch normalisation and ReLU, the unit
  of the course CNN, the shapes networks and the FCN (batch norm lets a few epochs suffice), and
  :func:`double_conv`, two of them in a row;
- :class:`CentreImages` and :func:`centre_images`: subtract each image's mean colour. The shapes
  data have random colours: only the contrast between a shape and its background carries
  information, so the networks that read them see images with their mean removed.
"""

from torch import nn

__all__ = ["CentreImages", "centre_images", "conv_bn_relu", "double_conv"]


def conv_bn_relu(in_channels, out_channels, kernel_size=3):
    """``Conv2d(kernel_size, padding keeps the size, no bias)`` -> ``BatchNorm2d`` -> ``ReLU``.

    Returns an ``nn.Sequential`` of the three layers (unpack it with ``*`` to splice them into a
    flat ``nn.Sequential``, as the course CNN does).

    Shape
    -----
    (N, in_channels, H, W) -> (N, out_channels, H, W)

    Examples
    --------
    >>> import torch
    >>> block = conv_bn_relu(3, 8)
    >>> block(torch.zeros(2, 3, 5, 5)).shape, [type(m).__name__ for m in block]
    (torch.Size([2, 8, 5, 5]), ['Conv2d', 'BatchNorm2d', 'ReLU'])
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


def double_conv(in_channels, out_channels):
    """Two :func:`conv_bn_relu` in a row (an ``nn.Sequential`` of the two): one network stage.

    Shape
    -----
    (N, in_channels, H, W) -> (N, out_channels, H, W)

    Examples
    --------
    >>> import torch
    >>> double_conv(3, 8)(torch.zeros(1, 3, 6, 6)).shape
    torch.Size([1, 8, 6, 6])
    """
    return nn.Sequential(
        conv_bn_relu(in_channels, out_channels), conv_bn_relu(out_channels, out_channels)
    )


def centre_images(x):
    """``x`` minus each image's mean over its pixels, per channel.

    Shape
    -----
    (N, C, H, W) -> (N, C, H, W)

    Examples
    --------
    >>> import torch
    >>> x = torch.rand(2, 3, 4, 4)
    >>> bool(centre_images(x).mean(dim=(2, 3)).abs().max() < 1e-6)
    True
    """
    return x - x.mean(dim=(2, 3), keepdim=True)  # (N, C, H, W)


class CentreImages(nn.Module):
    """:func:`centre_images` as a layer, for the front of an ``nn.Sequential``."""

    def forward(self, x):
        return centre_images(x)
