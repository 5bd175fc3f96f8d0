"""A small fully convolutional network (Long, Shelhamer and Darrell, 2015) for per-pixel classes.

Convolutions with 2x2 max pooling between them shrink the image by 4; two transposed
convolutions (``nn.ConvTranspose2d``, kernel 2, stride 2) grow it back, each optionally adding
the encoder's feature map of the same size (the FCN's skip connections, which restore detail that
pooling threw away); a 1x1 convolution gives a score per class at every pixel.
"""

import torch.nn.functional as F
from torch import nn

__all__ = ["FCN", "fcn_small"]


def conv3x3(in_channels, out_channels):
    """3x3 convolution with padding 1 (keeps the size), followed by ReLU."""
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU(inplace=True))


class FCN(nn.Module):
    """Encoder (conv, pool, conv, pool, conv), decoder (transposed conv, twice), 1x1 classifier.

    Parameters
    ----------
    in_channels : int
    num_classes : int
        Including background (4 for :func:`cvlib.data.shapes`: background + 3 shapes).
    width : int
        Channels of the first stage; the next stages have ``2 * width`` and ``4 * width``.
    skip : bool
        Add encoder features to the upsampled ones (FCN-8s style); without, the decoder must
        rebuild detail from the 1/4-resolution features alone.

    Shape
    -----
    - Input: ``(N, in_channels, H, W)``, any ``H, W >= 4``.
    - Output: ``(N, num_classes, H, W)``: the same size as the input, also when ``H`` or ``W`` is
      not a multiple of 4 (the transposed convolutions are given the encoder's sizes).

    Examples
    --------
    >>> import torch
    >>> FCN()(torch.zeros(2, 3, 30, 37)).shape
    torch.Size([2, 4, 30, 37])
    """

    def __init__(self, in_channels=3, num_classes=4, width=16, skip=True):
        super().__init__()
        if in_channels < 1 or num_classes < 1 or width < 1:
            raise ValueError("`in_channels`, `num_classes` and `width` must be positive")
        self.skip = skip
        self.stage1 = conv3x3(in_channels, width)
        self.stage2 = conv3x3(width, 2 * width)
        self.stage3 = conv3x3(2 * width, 4 * width)
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(4 * width, 2 * width, kernel_size=2, stride=2)
        self.up1 = nn.ConvTranspose2d(2 * width, width, kernel_size=2, stride=2)
        self.classifier = nn.Conv2d(width, num_classes, kernel_size=1)

    def forward(self, x):
        if x.ndim != 4 or min(x.shape[-2:]) < 4:
            raise ValueError(f"`x` must be (N, C, H, W) with H, W >= 4, got {tuple(x.shape)}")
        f1 = self.stage1(x)  # (N, w, H, W)
        f2 = self.stage2(self.pool(f1))  # (N, 2w, H/2, W/2)
        f3 = self.stage3(self.pool(f2))  # (N, 4w, H/4, W/4)
        u2 = self.up2(f3, output_size=f2.shape[-2:])  # (N, 2w, H/2, W/2)
        if self.skip:
            u2 = u2 + f2
        u1 = self.up1(F.relu(u2), output_size=f1.shape[-2:])  # (N, w, H, W)
        if self.skip:
            u1 = u1 + f1
        return self.classifier(F.relu(u1))  # (N, num_classes, H, W)


def fcn_small(num_classes=4, in_channels=3, skip=True):
    """The course's FCN for 32-64 pixel shapes: width 16, about 34 k parameters.

    Examples
    --------
    >>> sum(p.numel() for p in fcn_small().parameters())
    33940
    """
    return FCN(in_channels=in_channels, num_classes=num_classes, width=16, skip=skip)
