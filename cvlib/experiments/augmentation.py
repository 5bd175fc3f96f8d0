"""The augmentation chapter's measurement: the course CNN on 200 digits, with and without
augmentation.

Same model, same images, same number of epochs; the only difference is that with augmentation
each epoch sees randomly changed copies (``transform``, by default
:func:`cvlib.augment.default_augmentation`). Both models are tested on the clean test split and on
a :func:`cvlib.augment.perturbed` copy of it (rotated and shifted digits). Each seed draws its own
training images and initial weights. ``python -m cvlib.bench augment`` prints the table.

Examples
--------
>>> Settings().n_train, Settings().methods
(200, ('none', 'augmented'))
"""

import time
from dataclasses import dataclass

from torch.utils.data import DataLoader, TensorDataset

from cvlib import augment as A
from cvlib.data import digits, few_shot
from cvlib.models import CourseCNN
from cvlib.train import evaluate, run_parallel, set_seed, torch_threads

from .common import SIZE, train_and_test
from .result import SeedResults
from .settings import resolve

__all__ = ["METHODS", "Settings", "run"]

METHODS = ("none", "augmented")


@dataclass(frozen=True)
class Settings:
    """``n_train`` digits (``n_train // 10`` per class), ``epochs`` of Adam at ``lr``.

    ``methods`` picks the runs: ``("augmented",)`` skips the baseline without augmentation, for a
    second ``transform`` compared against a baseline already computed with the same ``n_train``,
    ``seeds``, ``epochs`` and ``lr``. Every run is seeded on its own, so the runs it keeps give
    the same accuracies as in the full experiment.
    """

    n_train: int = 200
    seeds: tuple = (0, 1, 2)
    epochs: int = 50
    lr: float = 3e-3
    transform: object = None
    methods: tuple = METHODS


def run(settings=None, **overrides):
    """Train and test every (seed, method) pair, one process per core; a :class:`SeedResults`.

    The accuracies are keyed ``"<method>, clean test"`` and ``"<method>, moved test"``.
    """
    s = resolve(Settings, settings, overrides)
    if (
        isinstance(s.methods, str)
        or not s.methods
        or not set(s.methods) <= set(METHODS)
        or len(set(s.methods)) != len(s.methods)
    ):
        raise ValueError(f"`methods` must be distinct names from {METHODS}, got {s.methods!r}")
    methods = [m for m in METHODS if m in s.methods]  # (keep the table's usual order)
    start = time.perf_counter()
    jobs = [
        dict(
            seed=seed, method=m, n_train=s.n_train, epochs=s.epochs, lr=s.lr, transform=s.transform
        )
        for seed in s.seeds
        for m in methods
    ]
    runs = iter(run_parallel(run_one, jobs))
    acc = {f"{m}, {t} test": [] for t in ("clean", "moved") for m in methods}
    for _ in s.seeds:
        for method in methods:
            clean, moved = next(runs)
            acc[f"{method}, clean test"].append(clean)
            acc[f"{method}, moved test"].append(moved)
    n_test = len(digits(size=SIZE, split="test"))
    setting = (
        f"CourseCNN, {s.n_train // 10 * 10} training digits, {s.epochs} epochs, test on "
        f"{n_test} (clean, and rotated <= 15 deg / shifted <= 3 px)"
    )
    return SeedResults(acc, tuple(s.seeds), setting, time.perf_counter() - start)


def run_one(seed, method, n_train, epochs, lr, transform):
    """One run: ``(clean, moved)`` test accuracy. Seeded on its own: the same in any process."""
    with torch_threads(1):
        full = digits(size=SIZE, split="train")
        test_digits = digits(size=SIZE, split="test")
        test = TensorDataset(test_digits.images, test_digits.labels)
        train = few_shot(TensorDataset(full.images, full.labels), n_train // 10, seed)
        if method == "augmented":
            train = A.Augmented(train, transform or A.default_augmentation(SIZE))
        set_seed(seed)
        model = CourseCNN(10)
        clean = train_and_test(model, train, test, epochs, lr, seed)
        moved = evaluate(model, DataLoader(A.perturbed(test), batch_size=256), device="cpu")
    return clean, moved.accuracy
