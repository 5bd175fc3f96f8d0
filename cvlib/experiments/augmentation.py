"""The augmentation chapter's measurement: the course CNN on a few labelled clothing
photographs, with and without augmentation.

``n_train`` Fashion-MNIST training images (``n_train // 10`` per class, drawn with the seed),
``epochs`` of Adam; the only difference between the methods is that with augmentation every
batch passes through ``transform`` (by default :data:`FASHION_AUGMENTATION`: a left-right
mirror with probability 1/2 and a shift of up to 2 pixels each way, drawn afresh for every image
of every batch by :class:`cvlib.augment.BatchAffine`). Both models
are tested on a fixed part of the test file (``n_test // 10`` images per class) and on a moved
copy of it (every image turned by up to 15 degrees and shifted by up to 3 pixels, one fixed
draw). Each seed draws its own training images, initial weights and augmentations.
``python -m cvlib.bench augment`` prints the table.

Two more methods train on mixed pairs instead (:mod:`cvlib.train.mixed`): ``"mixup"``
and ``"cutmix"`` (:func:`cvlib.augment.mixup`, :func:`cvlib.augment.cutmix`), same images,
seeds and steps. With ``tta=True`` every model is also scored on the clean test images with
test-time augmentation (:func:`cvlib.augment.tta_predict`, six views: the image, its mirror and
one-pixel shifts), kept in the result's ``extra["tta"]``.

Examples
--------
>>> Settings().n_train, Settings().methods
(200, ('none', 'augmented'))
"""

import functools
import time
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader, TensorDataset

from cvlib import augment as A
from cvlib.data import fashion_mnist, few_shot
from cvlib.models import CourseCNN
from cvlib.train import Pending, evaluate, fit, run_parallel, set_seed, torch_threads
from cvlib.train.mixed import MIXES, fit_mixed

from .result import SeedResults
from .settings import resolve

__all__ = [
    "FASHION_AUGMENTATION",
    "METHODS",
    "MOVE",
    "Settings",
    "run",
    "submit",
    "test_sets",
]

METHODS = ("none", "augmented", "mixup", "cutmix")
#: Changes that keep a garment the same garment and occur in the catalogue: a mirror, a shift.
FASHION_AUGMENTATION = A.BatchAffine(hflip=0.5, shift=2)
#: The moved test set: every image turned by up to 15 degrees and shifted by up to 3 pixels.
MOVE = A.BatchAffine(degrees=15, shift=3)
_TEST_SEED = 0  # fixes which test images are used and how each is moved


@dataclass(frozen=True)
class Settings:
    """``n_train`` images (``n_train // 10`` per class), ``epochs`` of Adam at ``lr`` in
    batches of 32; ``n_test`` test images (``n_test // 10`` per class).

    ``methods`` picks the runs: ``("augmented",)`` skips the baseline without augmentation, for a
    second ``transform`` compared against a baseline already computed with the same ``n_train``,
    ``seeds``, ``epochs`` and ``lr``. Every run is seeded on its own, so the runs it keeps give
    the same accuracies as in the full experiment. ``transform`` is a batched transform (called on
    ``(N, C, H, W)`` with ``generator=``): :class:`cvlib.augment.BatchAffine` or any transform of
    :mod:`cvlib.augment`.
    """

    n_train: int = 200
    seeds: tuple = (0, 1, 2)
    epochs: int = 30
    lr: float = 1e-3  # 3e-3 made some seeds' runs without augmentation collapse
    transform: object = None
    methods: tuple = ("none", "augmented")
    n_test: int = 2000
    tta: bool = False


@functools.lru_cache(maxsize=2)
def test_sets(n_test):
    """``(clean, moved)`` TensorDatasets: ``n_test // 10`` test images per class, drawn once
    with a fixed seed, and the same images turned and shifted (:data:`MOVE`, one fixed draw)."""
    test = fashion_mnist("test")
    clean = few_shot(TensorDataset(test.images, test.labels), n_test // 10, _TEST_SEED)
    images, labels = clean.tensors
    moved = MOVE(images, generator=torch.Generator().manual_seed(_TEST_SEED))  # (N, 1, 28, 28)
    return clean, TensorDataset(moved, labels)


def _plan(settings, overrides):
    """The resolved settings, the methods in table order, and one job per (seed, method)."""
    s = resolve(Settings, settings, overrides)
    if (
        isinstance(s.methods, str)
        or not s.methods
        or not set(s.methods) <= set(METHODS)
        or len(set(s.methods)) != len(s.methods)
    ):
        raise ValueError(f"`methods` must be distinct names from {METHODS}, got {s.methods!r}")
    if not isinstance(s.n_train, int) or not 10 <= s.n_train <= 60_000:
        raise ValueError(f"`n_train` must be an int in [10, 60000], got {s.n_train!r}")
    methods = [m for m in METHODS if m in s.methods]  # (keep the table's usual order)
    return s, methods, [dict(seed=seed, method=m, settings=s) for seed in s.seeds for m in methods]


def _result(s, methods, outcomes, start):
    runs = iter(outcomes)
    acc = {f"{m}, {t} test": [] for t in ("clean", "moved") for m in methods}
    tta = {f"{m}, clean test": [] for m in methods} if s.tta else {}
    for _ in s.seeds:
        for method in methods:
            clean, moved, *with_tta = next(runs)
            acc[f"{method}, clean test"].append(clean)
            acc[f"{method}, moved test"].append(moved)
            if s.tta:
                tta[f"{method}, clean test"].append(with_tta[0])
    setting = (
        f"CourseCNN, {s.n_train // 10} Fashion-MNIST images per class, {s.epochs} epochs, "
        f"test on {s.n_test // 10 * 10} (clean, and turned <= 15 deg / shifted <= 3 px)"
    )
    extra = {"tta": tta} if s.tta else {}
    return SeedResults(acc, tuple(s.seeds), setting, time.perf_counter() - start, extra)


def run(settings=None, **overrides):
    """Train and test every (seed, method) pair, one process per core; a :class:`SeedResults`.

    The accuracies are keyed ``"<method>, clean test"`` and ``"<method>, moved test"``.
    """
    start = time.perf_counter()
    s, methods, jobs = _plan(settings, overrides)
    return _result(s, methods, run_parallel(run_one, jobs), start)


def submit(workers, settings=None, **overrides):
    """Start :func:`run`'s runs on ``workers`` (a :class:`cvlib.train.Workers`) and return a
    :class:`Pending` at once, so a notebook can go on while they train."""
    start = time.perf_counter()
    s, methods, jobs = _plan(settings, overrides)
    futures = [workers.submit(run_one, **job) for job in jobs]
    return Pending(futures, lambda outcomes: _result(s, methods, outcomes, start))


def run_one(seed, method, settings):
    """One run: ``(clean, moved)`` test accuracy, and the clean one with test-time augmentation
    when ``settings.tta``. Seeded on its own: the same in any process."""
    s = settings
    with torch_threads(1):
        full = fashion_mnist("train")
        train = few_shot(TensorDataset(full.images, full.labels), s.n_train // 10, seed)
        collate = None
        if method == "augmented":
            transform = s.transform or FASHION_AUGMENTATION
            draws = torch.Generator().manual_seed(1000 + seed)  # the augmentations' own stream
            collate = A.augmenting_collate(transform, generator=draws)
        g = torch.Generator().manual_seed(seed)
        loader = DataLoader(train, batch_size=32, shuffle=True, generator=g, collate_fn=collate)
        set_seed(seed)
        model = CourseCNN(10)
        if method in MIXES:  # the mixing draws: their own stream, as the augmentations'
            fit_mixed(model, loader, s.epochs, s.lr, method, 10, seed=1000 + seed)
        else:
            fit(model, loader, epochs=s.epochs, lr=s.lr, device="cpu", progress=False,
                channels_last=True)  # fmt: skip
        scores = [
            evaluate(model, DataLoader(test, batch_size=500), device="cpu").accuracy
            for test in test_sets(s.n_test)
        ]
        if s.tta:
            images, labels = test_sets(s.n_test)[0].tensors
            scores.append((A.tta_predict(model, images).argmax(1) == labels).float().mean().item())
        return tuple(scores)
