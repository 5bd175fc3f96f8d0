"""The course's own small CNN, shipped with weights pretrained on digits 0-4.

Three conv-BatchNorm-ReLU blocks and global average pooling make the *base* (``.features``,
one 64-number vector per image whatever the image size); one Linear layer is the *head*
(``.head``), the part transfer learning replaces. ``course_cnn(weights="digits-0-4")`` loads the
weights in ``cvlib/models/weights/course_cnn.pt`` (offline: they ship in the package);
``weights/MODEL_CARD.md`` beside them says how they were made (``python -m
cvlib.experiments.pretrain``).
"""

from importlib import resources

import torch
from torch import nn

from cvlib.nn import conv_bn_relu

__all__ = ["WEIGHTS", "CourseCNN", "course_cnn"]

#: The shipped weights: name -> file in ``cvlib/models/weights``.
WEIGHTS = {"digits-0-4": "course_cnn.pt", "fashion-source": "course_cnn_fashion.pt"}


class CourseCNN(nn.Module):
    """conv 16 - pool - conv 32 - pool - conv 64 - global average pool - Linear ``num_classes``.

    **23,408** parameters in the base (3x3 convolutions without bias, each followed by
    BatchNorm), plus ``65 * num_classes`` in the head.

    Attributes
    ----------
    features : nn.Sequential
        The base; maps ``(N, in_channels, H, W)`` to ``(N, 64)``.
    head : nn.Linear
        The classifier, ``64 -> num_classes``; :func:`cvlib.train.transfer.replace_head` swaps
        it.

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
            *conv_bn_relu(in_channels, 16),  # (N, 16, H, W)
            nn.MaxPool2d(2),  # (N, 16, H/2, W/2)
            *conv_bn_relu(16, 32),  # (N, 32, H/2, W/2)
            nn.MaxPool2d(2),  # (N, 32, H/4, W/4)
            *conv_bn_relu(32, 64),  # (N, 64, H/4, W/4)
            nn.AdaptiveAvgPool2d(1),  # (N, 64, 1, 1)
            nn.Flatten(),  # (N, 64)
        )
        self.head = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.features(x)  # (N, 64)
        return self.head(x)  # (N, num_classes)


def course_cnn(num_classes=None, in_channels=1, weights=None):
    """A :class:`CourseCNN`, untrained or with shipped weights (``weights=`` as in torchvision).

    Parameters
    ----------
    num_classes : int, optional
        Default 10, or the classes the weights were trained for (5 for either set).
    in_channels : int, default 1
    weights : {None, "digits-0-4", "fashion-source"}
        ``"digits-0-4"``: pretrained on scikit-learn's digits 0-4 at 28x28 (``MODEL_CARD.md``);
        ``"fashion-source"``: on five Fashion-MNIST classes (T-shirt/top, trouser, sandal,
        sneaker, bag; ``course_cnn_fashion.md``), the transfer chapter's base. The model comes
        back in eval mode.

    Examples
    --------
    >>> model = course_cnn(weights="digits-0-4")
    >>> model.head.out_features, model.training
    (5, False)
    >>> course_cnn(3, in_channels=3)(torch.zeros(2, 3, 16, 16)).shape
    torch.Size([2, 3])
    """
    if weights is None:
        return CourseCNN(num_classes=num_classes or 10, in_channels=in_channels)
    if weights not in WEIGHTS:
        raise ValueError(f"`weights` must be None or one of {sorted(WEIGHTS)}, got {weights!r}")
    ref = resources.files("cvlib.models") / "weights" / WEIGHTS[weights]
    with resources.as_file(ref) as path:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    config = checkpoint["config"]
    for name, value in (("num_classes", num_classes), ("in_channels", in_channels)):
        if value is not None and value != config[name]:
            raise ValueError(
                f"the {weights!r} weights have {name}={config[name]}, got {name}={value}; "
                "load them as they are and replace the head (cvlib.train.transfer.replace_head)"
            )
    model = CourseCNN(**config)
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()
