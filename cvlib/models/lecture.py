"""The quiz network of the lecture "Deep learning for computer vision".

The slide draws ``3x100x100 -> 32 filters 5x5 -> 3x3 -> 64 filters 5x5 -> 3x3 -> 512 512 4`` and
asks for the shape after the second pooling, the receptive field of one cell after the second
convolution, the costliest layer and the layer with most parameters. :func:`cvlib.summary` answers
all four (see ``tests/test_summary.py`` for the hand computations).
"""

from torch import nn


class LectureCNN(nn.Module):
    """Two conv/pool stages and three dense layers, as on the lecture's quiz slide.

    Choices the slide leaves open, made here:

    - convolutions have no padding and stride 1 (``"valid"``), so 100 -> 96 and 32 -> 28;
    - "3x3" is max pooling with a 3x3 window and stride 3 (non-overlapping), flooring:
      96 -> 32 and 28 -> 9;
    - "512 512 4" is read as three dense layers: two hidden layers of 512 units, each followed by
      ReLU, and an output layer of 4 logits (no softmax: cross-entropy takes logits).

    Layer sizes (parameters = weights + biases):

    ======  ===================  =====================
    layer   output               parameters
    ======  ===================  =====================
    conv1   32 x 96 x 96         32*(3*5*5) + 32 = 2,432
    pool1   32 x 32 x 32         0
    conv2   64 x 28 x 28         64*(32*5*5) + 64 = 51,264
    pool2   64 x 9 x 9           0
    fc1     512                  5184*512 + 512 = 2,654,720
    fc2     512                  512*512 + 512 = 262,656
    fc3     num_classes          512*4 + 4 = 2,052
    ======  ===================  =====================

    Total for 4 classes: **2,973,124** parameters.

    Parameters
    ----------
    num_classes : int, default 4
    in_channels : int, default 3

    Shape
    -----
    x : (N, in_channels, 100, 100) -> logits : (N, num_classes)

    Examples
    --------
    >>> import torch
    >>> model = LectureCNN()
    >>> sum(p.numel() for p in model.parameters())
    2973124
    >>> model(torch.zeros(1, 3, 100, 100)).shape
    torch.Size([1, 4])
    """

    def __init__(self, num_classes=4, in_channels=3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, kernel_size=5),  # (N, 32, 96, 96)
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3),  # (N, 32, 32, 32)
            nn.Conv2d(32, 64, kernel_size=5),  # (N, 64, 28, 28)
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3),  # (N, 64, 9, 9)
        )
        self.flatten = nn.Flatten()  # (N, 5184)
        self.classifier = nn.Sequential(
            nn.Linear(64 * 9 * 9, 512),  # (N, 512)
            nn.ReLU(),
            nn.Linear(512, 512),  # (N, 512)
            nn.ReLU(),
            nn.Linear(512, num_classes),  # (N, num_classes)
        )

    def forward(self, x):
        x = self.features(x)  # (N, 64, 9, 9)
        x = self.flatten(x)  # (N, 5184)
        return self.classifier(x)  # (N, num_classes)


def lecture_cnn(num_classes=4, in_channels=3):
    """Build the lecture's quiz network, :class:`LectureCNN`.

    Examples
    --------
    >>> import torch
    >>> lecture_cnn(num_classes=10)(torch.zeros(2, 3, 100, 100)).shape
    torch.Size([2, 10])
    """
    return LectureCNN(num_classes=num_classes, in_channels=in_channels)
