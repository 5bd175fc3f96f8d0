"""Pieces the digit experiments share: the image size and one training-and-testing run."""

import torch
from torch.utils.data import DataLoader

from cvlib.train import evaluate, fit

__all__ = ["SIZE", "train_and_test"]

SIZE = 28  # the digits are upsampled from 8x8 to 28x28 (MNIST's size)


def train_and_test(model, train_set, test_set, epochs, lr, seed, batch_size=32):
    """Adam for ``epochs`` over ``train_set`` (shuffled by ``seed``); test accuracy after.

    The model and batches use the channels-last layout (faster on a CPU, same results to
    rounding).
    """
    g = torch.Generator().manual_seed(seed)
    loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=g)
    fit(model, loader, epochs=epochs, lr=lr, device="cpu", progress=False, channels_last=True)
    return evaluate(model, DataLoader(test_set, batch_size=256), device="cpu").accuracy
