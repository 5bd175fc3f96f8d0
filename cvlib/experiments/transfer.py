"""The transfer-learning chapter's measurement: five clothing classes from a few labelled
photographs, scratch vs transfer.

The course CNN ``course_cnn(weights="fashion-source")`` was pretrained on five Fashion-MNIST
classes only, :data:`SOURCE_CLASSES` (T-shirt/top, trouser, sandal, sneaker, bag;
:mod:`cvlib.experiments.pretrain_fashion`); the target task is telling apart the other five,
:data:`TARGET_CLASSES` (pullover, dress, coat, shirt, ankle boot), relabelled 0-4 in that order,
from ``per_class`` labelled images each. Every method gets the same budget of about
``steps`` gradient steps (batches of 32), enough for each to converge on so few images:

- "scratch": :class:`~cvlib.models.CourseCNN` from random weights, every layer trained (Adam,
  lr 1e-3; 3e-3 made some seeds' runs collapse);
- "feature extraction": the pretrained base frozen, features stored once, a new Linear head
  trained on them (batches of 16, four times the epochs, lr 1e-2; it costs next to nothing);
- "fine-tuning": the pretrained network with a new 5-class head, every layer trained with a
  smaller learning rate (1e-3) so the pretrained filters move gently.

Test accuracy is measured on ``n_test // 5`` test images of each target class, a fixed draw.
``python -m cvlib.bench transfer`` prints the tables. (The digits 0-4 -> 5-9 version of this
task is :data:`WEIGHTS` ``"digits-0-4"``'s; on the digits training from scratch is already
strong, so the lesson hardly shows there.)
"""

import functools
import math
import time
from dataclasses import dataclass

from torch import nn
from torch.utils.data import DataLoader

from cvlib.data import class_subset, fashion_mnist, few_shot
from cvlib.data.fashion_mnist import CLASSES
from cvlib.models import CourseCNN
from cvlib.train import Pending, run_parallel, set_seed, torch_threads
from cvlib.train import transfer as T

from .common import train_and_test
from .result import SeedResults
from .settings import resolve

__all__ = [
    "METHODS",
    "SOURCE_CLASSES",
    "TARGET_CLASSES",
    "WEIGHTS",
    "Settings",
    "epochs_for",
    "run",
    "submit",
    "target_sets",
]

SOURCE_CLASSES = (0, 1, 5, 7, 8)  # T-shirt/top, trouser, sandal, sneaker, bag: pretraining
TARGET_CLASSES = (2, 3, 4, 6, 9)  # pullover, dress, coat, shirt, ankle boot: never seen there
METHODS = ("scratch", "feature extraction", "fine-tuning")
WEIGHTS = "fashion-source"  # the base of this experiment (cvlib.models.course_cnn)
_TEST_SEED = 0  # fixes which test images are scored


@dataclass(frozen=True)
class Settings:
    per_class: int = 10
    seeds: tuple = (0, 1, 2)
    steps: int = 150
    n_test: int = 1000


@functools.lru_cache(maxsize=2)
def target_sets(n_test=1000):
    """``(pool, test)``: every training image of the target classes (relabelled 0-4), the pool
    the labelled few are drawn from, and ``n_test // 5`` test images of each, a fixed draw."""
    pool = class_subset(fashion_mnist("train"), TARGET_CLASSES)
    test = few_shot(class_subset(fashion_mnist("test"), TARGET_CLASSES), n_test // 5, _TEST_SEED)
    return pool, test


def epochs_for(steps, n_train, batch_size=32):
    """Epochs that give at least ``steps`` gradient steps on ``n_train`` images.

    Comparing methods by epochs would be unfair with tiny training sets: 25 images make one
    batch, so 30 epochs are only 30 steps, too few for a network trained from scratch.

    >>> epochs_for(150, 50)
    75
    """
    return math.ceil(steps / math.ceil(n_train / batch_size))


def _plan(settings, overrides):
    """The resolved settings, the epochs, and one job per (seed, method), in table order."""
    s = resolve(Settings, settings, overrides)
    if not isinstance(s.per_class, int) or not 1 <= s.per_class <= 100:
        raise ValueError(f"`per_class` must be an int in [1, 100], got {s.per_class!r}")
    epochs = epochs_for(s.steps, s.per_class * len(TARGET_CLASSES))
    jobs = [
        dict(seed=seed, method=m, per_class=s.per_class, epochs=epochs, n_test=s.n_test)
        for seed in s.seeds
        for m in METHODS
    ]
    return s, epochs, jobs


def _result(s, epochs, accuracies, start):
    runs = iter(accuracies)
    acc = {m: [] for m in METHODS}
    for _ in s.seeds:
        for method in METHODS:
            acc[method].append(next(runs))
    names = ", ".join(CLASSES[c].lower() for c in TARGET_CLASSES)
    setting = (
        f"{names}: {s.per_class} labelled images per class, {epochs} epochs (~{s.steps} steps), "
        f"test on {s.n_test // 5 * 5}; base pretrained on the other five classes"
    )
    return SeedResults(acc, tuple(s.seeds), setting, time.perf_counter() - start)


def run(settings=None, **overrides):
    """Every (seed, method) run, one process per core; a :class:`SeedResults`."""
    start = time.perf_counter()
    s, epochs, jobs = _plan(settings, overrides)
    return _result(s, epochs, run_parallel(run_one, jobs), start)


def submit(workers, settings=None, **overrides):
    """Start :func:`run`'s runs on ``workers`` (a :class:`cvlib.train.Workers`) and return a
    :class:`Pending` at once, so a notebook can go on while they train."""
    start = time.perf_counter()
    s, epochs, jobs = _plan(settings, overrides)
    futures = [workers.submit(run_one, **job) for job in jobs]
    return Pending(futures, lambda accuracies: _result(s, epochs, accuracies, start))


def run_one(seed, method, per_class, epochs, n_test=1000):
    """The test accuracy of ``method`` with ``seed``; seeded on its own (same in any process)."""
    with torch_threads(1):
        pool, test = target_sets(n_test)
        k = len(TARGET_CLASSES)
        train = few_shot(pool, per_class, seed)
        if method == "scratch":
            set_seed(seed)
            return train_and_test(CourseCNN(k), train, test, epochs, 1e-3, seed)
        if method == "feature extraction":
            base = T.load_pretrained(weights=WEIGHTS).features
            train_f = T.extract_features(base, DataLoader(train, batch_size=256))
            test_f = T.extract_features(base, DataLoader(test, batch_size=256))
            set_seed(seed)
            head = nn.Linear(train_f.tensors[0].shape[1], k)
            return train_and_test(head, train_f, test_f, 4 * epochs, 1e-2, seed, batch_size=16)
        if method == "fine-tuning":
            set_seed(seed)
            model = T.load_pretrained(num_classes=k, weights=WEIGHTS)
            return train_and_test(model, train, test, epochs, 1e-3, seed)
        raise ValueError(f"`method` must be one of {METHODS}, got {method!r}")
