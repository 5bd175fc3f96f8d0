"""Correct versions of the PyTorch assignments' answers, run inside a box as stand-ins.

A check of a whole training run (assignment 3's ``train_lenet``, 4's ``fine_tune``, 5's
``train_box_net``) grades that answer on its own: while it runs in the box, the student's earlier
answers it calls (``train_one_epoch``, ``random_crop``, ...) mean these versions, so a wrong
earlier answer costs only its own points. They run in the box because what they take (a network,
an optimiser) stays there. :func:`cvlib.grading.box_helpers.references` sends this source only
to those last checks, after every other answer's check has run: no answer can find them in the
box and hand its work to them. Each mirrors cvlib's implementation (``cvlib.models.LeNet5``,
``cvlib.train.train_one_epoch``, ``cvlib.augment``, ``cvlib.train.transfer``), which the box does
not have; ``tests/test_trusted_torch.py`` checks that they agree. Imports torch only; it is not
imported as a module but sent as source (:func:`cvlib.grading.box_helpers.references_source`).
"""

import torch
from torch import nn


class LeNet5(nn.Module):
    """``cvlib.models.LeNet5()`` (ReLU, max pooling): the same layers, names and state dict."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def LeNet(num_classes=10):  # the assignment's class name
    """Assignment 3's ``LeNet``."""
    return LeNet5(num_classes)


def train_one_epoch(model, loader, optimizer, loss_fn):
    """Assignment 3's ``train_one_epoch``: the mean loss of ``cvlib.train.train_one_epoch``,
    whose source :func:`cvlib.grading.box_helpers.references_source` puts before this module's
    as ``_cvlib_train_one_epoch`` (the training loop has one home, ``cvlib.train``)."""
    return _cvlib_train_one_epoch(model, loader, optimizer, loss_fn, "cpu", progress=False)[0]  # noqa: F821


def evaluate(model, loader):
    """Assignment 3's ``evaluate``: accuracy in [0, 1], in eval mode."""
    model.eval()
    correct, seen = 0, 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(1) == labels).sum().item()
            seen += len(labels)
    return correct / seen


def BoxNet():  # the assignment's class name
    """Assignment 5's ``BoxNet`` as its text describes it (``reference_box_net``)."""
    blocks = []
    for c_in, c_out in ((3, 16), (16, 32), (32, 64)):
        blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
    head = [nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Linear(128, 4), nn.Sigmoid()]
    return nn.Sequential(*blocks, *head)


def hflip(img):
    """Assignment 4's ``hflip``."""
    return img.flip(-1)


def adjust_brightness(img, factor):
    """Assignment 4's ``adjust_brightness``: ``clamp(factor * img, 0, 1)``."""
    return (img * factor).clamp(0.0, 1.0)


def random_crop(img, size, padding, generator):
    """Assignment 4's ``random_crop``: ``cvlib.augment.RandomCrop(size, padding)``'s draws."""
    img = nn.functional.pad(img, (padding, padding, padding, padding))
    h, w = img.shape[-2:]
    top = int(torch.randint(0, h - size + 1, (1,), generator=generator).item())
    left = int(torch.randint(0, w - size + 1, (1,), generator=generator).item())
    return img[..., top : top + size, left : left + size]


def prepare_transfer(model, num_classes, n_trainable):
    """Assignment 4's ``prepare_transfer`` (``replace_head`` then ``unfreeze_last``)."""
    old = model.head
    model.head = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
    layers = [m for m in model.modules() if any(True for _ in m.parameters(recurse=False))]
    for p in model.parameters():
        p.requires_grad_(False)
        p.grad = None
    for layer in layers[len(layers) - n_trainable :]:
        for p in layer.parameters(recurse=False):
            p.requires_grad_(True)
    return model


class Augmented(torch.utils.data.Dataset):
    """``cvlib.augment.Augmented``: ``dataset``'s images through ``transform``."""

    def __init__(self, dataset, transform):
        if not callable(transform):
            raise TypeError(f"`transform` must be callable, got {type(transform).__name__}")
        self.dataset, self.transform = dataset, transform

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        image, target = self.dataset[index]
        return self.transform(image), target
