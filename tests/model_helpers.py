"""Small networks shared by the tests of the probes and of the figures drawn from them."""

import torch
from torch import nn


def tiny_cnn():
    """A seeded 3-class CNN on RGB images: two conv/ReLU layers (ReLUs named "1" and "4"),
    a max pool, global average pooling and a dense layer."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.ReLU(),  # "0", "1"
        nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, padding=1),
        nn.ReLU(),  # "3", "4"
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 3),
    )
