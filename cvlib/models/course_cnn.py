"""The course's own small CNN, the one :func:`cvlib.transfer.load_pretrained` ships pretrained.

Three conv-BatchNorm-ReLU blocks and global average pooling make the *base* (``.features``,
one 64-number vector per image whatever the image size); one Linear layer is the *head*
(``.head``), the part transfer learning replaces.
"""

from torch import nn

__all__ = ["CourseCNN", "course_cnn"]


def _block(in_channels, out_channels):
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]


class CourseCNN(nn.Module):
    """conv 16 - pool - conv 32 - pool - conv 64 - global average pool - Linear ``num_classes``.

    **23,408** parameters in the base (3x3 convolutions without bias, each followed by
    BatchNorm), plus ``65 * num_classes`` in the head.

    Attributes
    ----------
    features : nn.Sequential
        The base; maps ``(N, in_channels, H, W)`` to ``(N, 64)``.
    head : nn.Linear
        The classifier, ``64 -> num_classes``; :func:`cvlib.transfer.replace_head` swaps it.

    Shape
    -----
    x : (N, in_channels, H, W) with H, W >= 4 -> logits : (N, num_classes)

    Examples
    --------
    >>> import torch
    >>> model = CourseCNN(num_classes=5)
    >>> model(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 5])
    >>> sum(p.numel() for p in model.features.parameters())
    23408
    """

    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        for name, value in (("num_classes", num_classes), ("in_channels", in_channels)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive int, got {value!r}")
        self.features = nn.Sequential(
            *_block(in_channels, 16),  # (N, 16, H, W)
            nn.MaxPool2d(2),  # (N, 16, H/2, W/2)
            *_block(16, 32),  # (N, 32, H/2, W/2)
            nn.MaxPool2d(2),  # (N, 32, H/4, W/4)
            *_block(32, 64),  # (N, 64, H/4, W/4)
            nn.AdaptiveAvgPool2d(1),  # (N, 64, 1, 1)
            nn.Flatten(),  # (N, 64)
        )
        self.head = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.features(x)  # (N, 64)
        return self.head(x)  # (N, num_classes)


def course_cnn(num_classes=10, in_channels=1):
    """Build an untrained :class:`CourseCNN` (for pretrained weights see ``load_pretrained``)."""
    return CourseCNN(num_classes=num_classes, in_channels=in_channels)
