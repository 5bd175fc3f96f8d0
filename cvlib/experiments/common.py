"""Pieces the digit experiments share: the image size, one training-and-testing run, and the
three-way split (training, validation, test) of the experiments that read learning curves."""

import torch
from torch.utils.data import DataLoader

from cvlib.data import digits, train_val_split
from cvlib.train import evaluate, fit

__all__ = ["SIZE", "VAL_SIZE", "digit_splits", "machine_stamp", "made_here", "train_and_test"]

SIZE = 28  # the digits are upsampled from 8x8 to 28x28 (MNIST's size)
VAL_SIZE = 360  # validation images held out of the 1,437 training digits, as many as the test


def digit_splits(size=32, val_size=VAL_SIZE):
    """``(train, val, test)`` digits: the training split less ``val_size`` stratified images
    (:func:`cvlib.data.train_val_split`, seed 0), those images, and the untouched test split.

    >>> train, val, test = digit_splits(8)
    >>> len(train), len(val), len(test)
    (1077, 360, 360)
    """
    train, val = train_val_split(digits(size=size, split="train"), val_size)
    return train, val, digits(size=size, split="test")


def train_and_test(model, train_set, test_set, epochs, lr, seed, batch_size=32):
    """Adam for ``epochs`` over ``train_set`` (shuffled by ``seed``); test accuracy after.

    The model and batches use the channels-last layout (faster on a CPU, same results to
    rounding).
    """
    g = torch.Generator().manual_seed(seed)
    loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=g)
    fit(model, loader, epochs=epochs, lr=lr, device="cpu", progress=False, channels_last=True)
    return evaluate(model, DataLoader(test_set, batch_size=256), device="cpu").accuracy


def machine_stamp():
    """Where a shipped checkpoint is made: the machine, torch's version, the CPU kernels torch
    picked (AVX2, AVX512, ...) and the processor's model. Their float rounding differs (the same
    AVX512 kernels gave other weights on an AMD EPYC than on the processor that made the first
    checkpoints), so a recipe repeats its file to the bit only where all four match
    (:func:`made_here`)."""
    import platform

    return {
        "machine": platform.machine(),
        "torch": torch.__version__.split("+")[0],
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu": cpu_model(),
    }


def cpu_model():
    """The processor's model name (``/proc/cpuinfo`` on Linux), else what ``platform`` says."""
    import platform

    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def made_here(meta):
    """True when the checkpoint's ``meta`` carries this machine's :func:`machine_stamp`."""
    return all(meta.get(key) == value for key, value in machine_stamp().items())
