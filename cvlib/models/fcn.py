"""A small fully convolutional network (Long, Shelhamer and Darrell, 2015) for per-pixel classes.

Two stages of convolutions with 2x2 max pooling between them shrink the image by 4; two
transposed convolutions (``nn.ConvTranspose2d``, kernel 2, stride 2) grow it back. After each
transposed convolution the encoder's feature map of the same size is brought back through a skip
connection, which restores the detail that pooling threw away; a 1x1 convolution then gives a
score per class at every pixel.

Departures from the paper, for small images and a few CPU-minutes: batch norm after every
convolution, and skips that *concatenate* the encoder features and mix them with a 3x3
convolution (as U-Net does) instead of adding class scores (FCN-8s).
"""

import torch
from torch import nn

from cvlib.nn import centre_images, conv_bn_relu, double_conv

__all__ = ["FCN", "fcn_small"]


class FCN(nn.Module):
    """Encoder (3 stages, 2 poolings), decoder (2 transposed convolutions), 1x1 classifier.

    Parameters
    ----------
    num_classes : int
        Including background (4 for :func:`cvlib.data.shapes`: background + 3 shapes).
    in_channels : int
    width : int
        Channels of the first stage; the next stages have ``2 * width`` and ``4 * width``.
    skip : bool
        Concatenate the encoder features to the upsampled ones; without, the decoder must
        rebuild detail from the 1/4-resolution features alone.

    Shape
    -----
    - Input: ``(N, in_channels, H, W)``, any ``H, W >= 4``. Each image is centred (its mean
      colour per channel subtracted) first: what matters is contrast, not the colour itself.
    - Output: ``(N, num_classes, H, W)``: the same size as the input, also when ``H`` or ``W`` is
      not a multiple of 4 (the transposed convolutions are given the encoder's sizes).

    Examples
    --------
    >>> FCN()(torch.zeros(2, 3, 30, 37)).shape
    torch.Size([2, 4, 30, 37])
    """

    def __init__(self, num_classes=4, in_channels=3, width=16, skip=True):
        super().__init__()
        if in_channels < 1 or num_classes < 1 or width < 1:
            raise ValueError("`in_channels`, `num_classes` and `width` must be positive")
        self.skip = skip
        w, extra = width, int(skip)
        self.stage1 = double_conv(in_channels, w)
        self.stage2 = double_conv(w, 2 * w)
        self.stage3 = double_conv(2 * w, 4 * w)
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(4 * w, 2 * w, kernel_size=2, stride=2)
        self.mix2 = conv_bn_relu((1 + extra) * 2 * w, 2 * w)
        self.up1 = nn.ConvTranspose2d(2 * w, w, kernel_size=2, stride=2)
        self.mix1 = conv_bn_relu((1 + extra) * w, w)
        self.classifier = nn.Conv2d(w, num_classes, kernel_size=1)

    def forward(self, x):
        if x.ndim != 4 or min(x.shape[-2:]) < 4:
            raise ValueError(f"`x` must be (N, C, H, W) with H, W >= 4, got {tuple(x.shape)}")
        x = centre_images(x)  # (N, C, H, W)
        f1 = self.stage1(x)  # (N, w, H, W)
        f2 = self.stage2(self.pool(f1))  # (N, 2w, H/2, W/2)
        f3 = self.stage3(self.pool(f2))  # (N, 4w, H/4, W/4)
        u2 = self.up2(f3, output_size=f2.shape[-2:])  # (N, 2w, H/2, W/2)
        if self.skip:
            u2 = torch.cat([u2, f2], dim=1)  # (N, 4w, H/2, W/2)
        u2 = self.mix2(u2)  # (N, 2w, H/2, W/2)
        u1 = self.up1(u2, output_size=f1.shape[-2:])  # (N, w, H, W)
        if self.skip:
            u1 = torch.cat([u1, f1], dim=1)  # (N, 2w, H, W)
        return self.classifier(self.mix1(u1))  # (N, num_classes, H, W)


def fcn_small(num_classes=4, in_channels=3, skip=True):
    """The course's FCN for 32-64 pixel shapes: width 16, about 106 k parameters.

    Examples
    --------
    >>> sum(p.numel() for p in fcn_small().parameters())
    105796
    """
    return FCN(num_classes=num_classes, in_channels=in_channels, width=16, skip=skip)
