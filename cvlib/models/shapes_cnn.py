"""The shapes classifier: the course CNN with a centred input and a global max.

Trained like the transfer-learning chapter's digit network (plain Adam, average pooling), the
course CNN barely beats guessing on :func:`cvlib.data.shapes` (three classes). Two changes of the
network, found while fixing the detection models, make it reliable (the third is the training
recipe of :mod:`cvlib.experiments.shapes`, Adam under a one-cycle learning rate):

- **centre each image** (subtract its mean colour): the shapes' and backgrounds' colours are
  random, only their contrast matters, so the raw colour is noise the network would have to learn
  to ignore;
- **global max pooling** instead of average pooling: "is there a corner anywhere?" is a max, and
  a small shape's evidence is not diluted by the background around it.
"""

import torch  # noqa: F401 (the doctests use it)
from torch import nn

from cvlib.nn import centre_images

from .course_cnn import CourseCNN

__all__ = ["ShapesCNN"]


class ShapesCNN(CourseCNN):
    """:class:`~cvlib.models.CourseCNN` that centres its input and pools by the max.

    The layers and their names are those of ``CourseCNN`` (``features.10`` is the last ReLU, the
    usual Grad-CAM layer), except that ``features.11`` is a global **max** pool. The forward pass
    first subtracts each image's mean colour, so adding a constant to an image (a different
    background tint) does not change the logits.

    Parameters
    ----------
    num_classes : int, default 3
    in_channels : int, default 3

    Shape
    -----
    x : (N, in_channels, H, W) with H, W >= 4 -> logits : (N, num_classes)

    Examples
    --------
    >>> model = ShapesCNN().eval()
    >>> x = torch.rand(2, 3, 32, 32)
    >>> model(x).shape
    torch.Size([2, 3])
    >>> torch.allclose(model(x), model(x + 0.2), atol=1e-5)  # a uniform shift is centred away
    True
    """

    def __init__(self, num_classes=3, in_channels=3):
        super().__init__(num_classes=num_classes, in_channels=in_channels)
        self.features[11] = nn.AdaptiveMaxPool2d(1)  # (N, 64, 1, 1): the strongest response

    def forward(self, x):
        x = centre_images(x)  # (N, C, H, W)
        return super().forward(x)
