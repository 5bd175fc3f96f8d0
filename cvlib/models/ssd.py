"""A one-stage detector for the shapes images, in the manner of SSD (Liu et al., 2016).

One network looks at the whole image once. Two of its feature maps carry a small convolutional
**head** each, which predicts, at every cell and for each of the cell's anchors, the scores of
background and of every class and four box offsets. There are no proposals and no crops: the
anchors (:func:`cvlib.detection.ssd_anchors` lays them out from :attr:`TinySSD.anchor_spec`)
are the only boxes the network starts from. :mod:`cvlib.detection.ssd` labels the anchors,
computes the loss, trains the network and decodes its output into detections.
"""

import torch
from torch import nn

from cvlib.nn import centre_images, double_conv

__all__ = ["TinySSD"]


class TinySSD(nn.Module):
    """Three conv-BN-ReLU stages and a detection head on the last two of them.

    The body is :class:`~cvlib.models.ProposalClassifier`'s, run once on the whole image (each
    image centred first: the shapes' colours are random) with a third stage added:

    - stage 1, ``double_conv(3, 16)`` and a 2x2 max pool: stride 2;
    - stage 2, ``double_conv(16, 32)``; its map (stride 2, 16 x 16 on a 32 x 32 image) feeds the
      first head, for the small anchors;
    - a 2x2 max pool and stage 3, ``double_conv(32, 64)``; its map (stride 4, 8 x 8) feeds the
      second head, for the larger anchors.

    Each head is one 3x3 convolution with ``A * (num_classes + 1 + 4)`` output channels for the
    ``A`` anchors of a cell: for each anchor, its class scores (0 is background) and its offsets
    ``(t_x, t_y, t_w, t_h)``. The outputs are flattened in the order of
    :func:`cvlib.detection.anchor_boxes` (cell by cell in reading order, then anchor by anchor),
    fine map first.

    Parameters
    ----------
    num_classes : int, default 3
    in_channels : int, default 3
    anchor_spec : tuple of (stride, sizes), default :attr:`anchor_spec`
        For each of the two maps, its stride in pixels (2 and 4: fixed by the body) and the sizes
        (square roots of the areas) of its anchors, all square.

    Shape
    -----
    - Input: ``(N, in_channels, H, W)``, ``H`` and ``W`` multiples of 4.
    - Output: ``(logits (N, P, num_classes + 1), deltas (N, P, 4))`` with
      ``P = (H/2)(W/2) A_1 + (H/4)(W/4) A_2`` anchors.

    Examples
    --------
    >>> logits, deltas = TinySSD()(torch.zeros(2, 3, 32, 32))
    >>> logits.shape, deltas.shape  # 16 * 16 * 1 + 8 * 8 * 2 = 384 anchors
    (torch.Size([2, 384, 4]), torch.Size([2, 384, 4]))
    """

    #: ``(stride, anchor sizes)`` of the two maps: one anchor of 6 pixels every 2 pixels, two of
    #: 9 and 12 pixels every 4 (the shapes' boxes are 4 to 13 pixels wide and nearly square).
    anchor_spec = ((2, (6.0,)), (4, (9.0, 12.0)))

    def __init__(self, num_classes=3, in_channels=3, anchor_spec=None):
        super().__init__()
        spec = self.anchor_spec if anchor_spec is None else tuple(anchor_spec)
        if [stride for stride, _ in spec] != [2, 4] or not all(sizes for _, sizes in spec):
            raise ValueError(f"`anchor_spec` must give strides 2 and 4 with sizes, got {spec!r}")
        self.anchor_spec = tuple((stride, tuple(float(a) for a in sizes)) for stride, sizes in spec)
        self.num_classes = num_classes
        per_anchor = num_classes + 1 + 4
        self.stage1 = nn.Sequential(double_conv(in_channels, 16), nn.MaxPool2d(2))
        self.stage2 = double_conv(16, 32)  # (N, 32, H/2, W/2)
        self.stage3 = nn.Sequential(nn.MaxPool2d(2), double_conv(32, 64))  # (N, 64, H/4, W/4)
        self.heads = nn.ModuleList(
            nn.Conv2d(channels, len(sizes) * per_anchor, kernel_size=3, padding=1)
            for channels, (_, sizes) in zip((32, 64), self.anchor_spec, strict=True)
        )

    def _flatten(self, out):
        """``(N, A * (K + 5), h, w)`` -> logits ``(N, h * w * A, K + 1)``, deltas ``(.., 4)``."""
        n, _, h, w = out.shape
        out = out.permute(0, 2, 3, 1).reshape(n, h * w, -1, self.num_classes + 5)  # (N, hw, A, .)
        out = out.reshape(n, -1, self.num_classes + 5)  # (N, hw * A, K + 5)
        return out[..., : self.num_classes + 1], out[..., self.num_classes + 1 :]

    def forward(self, x):
        if x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(f"`x` must have a height and width divisible by 4, got {x.shape}")
        x = centre_images(x)  # (N, C, H, W)
        fine = self.stage2(self.stage1(x))  # (N, 32, H/2, W/2)
        coarse = self.stage3(fine)  # (N, 64, H/4, W/4)
        parts = [self._flatten(head(f)) for head, f in zip(self.heads, (fine, coarse), strict=True)]
        logits = torch.cat([p[0] for p in parts], dim=1)  # (N, P, K + 1)
        deltas = torch.cat([p[1] for p in parts], dim=1)  # (N, P, 4)
        return logits, deltas
