"""The detection networks: one-object localisation and the R-CNN crop classifier.

Both read the shapes data (:func:`cvlib.data.shapes`) the same way: each image (or crop) is
centred first, the class comes from the **global max** of the feature maps (where a shape sits
does not change what it is) and the box from the **flattened** maps (which keep the position).
:mod:`cvlib.detection` trains and uses them.
"""

import torch  # noqa: F401 (the doctests use it)
from torch import nn

from cvlib.nn import centre_images, conv_bn_relu, double_conv

__all__ = ["BoxRegressor", "ProposalClassifier"]


def _two_stages(in_channels):
    """Two :func:`double_conv` stages (16 then 32 channels), each followed by a 2x2 max pool."""
    return [
        *double_conv(in_channels, 16),
        nn.MaxPool2d(2),  # (N, 16, S/2, .)
        *double_conv(16, 32),
        nn.MaxPool2d(2),  # (N, 32, S/4, .)
    ]


class BoxRegressor(nn.Module):
    """A conv-BN-ReLU body and two heads: "what" from pooled features, "where" from the map.

    The two questions need different things. The class of a shape does not depend on where it
    sits, so the class head reads the **global max** of each feature map (translation
    invariant). The box depends on nothing but where it sits, so the box head reads the
    **flattened** feature map, which keeps the position. The input is centred per image (its
    mean colour subtracted): the shapes' colours are random, only their contrast with the
    background matters.

    Parameters
    ----------
    num_classes : int
    in_channels : int
    image_size : int
        Side of the square input (a multiple of 8).

    Shape
    -----
    - Input: ``(N, in_channels, image_size, image_size)``
    - Output: ``(logits (N, num_classes), boxes (N, 4))``, boxes as ``xyxy / image_size``.

    Examples
    --------
    >>> logits, boxes = BoxRegressor(image_size=32)(torch.zeros(2, 3, 32, 32))
    >>> logits.shape, boxes.shape
    (torch.Size([2, 3]), torch.Size([2, 4]))
    """

    def __init__(self, num_classes=3, in_channels=3, image_size=32):
        super().__init__()
        if image_size % 8:
            raise ValueError(f"`image_size` must be a multiple of 8, got {image_size}")
        self.features = nn.Sequential(
            *_two_stages(in_channels),  # (N, 32, S/4, .)
            conv_bn_relu(32, 64),
            nn.MaxPool2d(2),  # (N, 64, S/8, .)
        )
        side = image_size // 8
        self.classifier = nn.Linear(64, num_classes)
        self.box_head = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * side * side, 128), nn.ReLU(), nn.Linear(128, 4)
        )

    def forward(self, x):
        x = centre_images(x)  # (N, C, S, S)
        f = self.features(x)  # (N, 64, S/8, S/8)
        logits = self.classifier(f.amax(dim=(2, 3)))  # (N, K) from the global max
        return logits, self.box_head(f)  # (N, K), (N, 4)


class ProposalClassifier(nn.Module):
    """Scores a warped crop for ``num_classes + 1`` classes (0 is background), plus box offsets.

    As in :class:`BoxRegressor`, each crop is centred (its mean colour
    subtracted), the class is read from the global max of the feature maps and the offsets from
    the flattened maps.

    Shape
    -----
    - Input: ``(P, C, crop_size, crop_size)``, ``crop_size`` a multiple of 4.
    - Output: ``(logits (P, num_classes + 1), deltas (P, 4))``.

    Examples
    --------
    >>> logits, deltas = ProposalClassifier()(torch.zeros(5, 3, 16, 16))
    >>> logits.shape, deltas.shape
    (torch.Size([5, 4]), torch.Size([5, 4]))
    """

    def __init__(self, num_classes=3, in_channels=3, crop_size=16):
        super().__init__()
        if crop_size % 4:
            raise ValueError(f"`crop_size` must be a multiple of 4, got {crop_size}")
        self.features = nn.Sequential(*_two_stages(in_channels))  # (P, 32, s/4, s/4)
        self.classifier = nn.Linear(32, num_classes + 1)
        self.box_head = nn.Sequential(
            nn.Flatten(), nn.Linear(32 * (crop_size // 4) ** 2, 64), nn.ReLU(), nn.Linear(64, 4)
        )

    def forward(self, crops):
        crops = centre_images(crops)  # (P, C, s, s)
        f = self.features(crops)  # (P, 32, s/4, s/4)
        return self.classifier(f.amax(dim=(2, 3))), self.box_head(f)  # (P, K + 1), (P, 4)
