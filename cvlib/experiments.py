"""The measurements behind the augmentation and transfer chapters, small enough for a CPU.

Both use scikit-learn's real handwritten digits at 28x28 and the course's small CNN
(:class:`cvlib.models.CourseCNN`), and repeat each run over several seeds, because with a few
hundred training images one run says little. ``python -m cvlib.bench augment`` and
``python -m cvlib.bench transfer`` print the tables; the book calls the same functions.

The transfer experiment splits the digits by class: the shipped weights were pretrained on digits
0-4 only (``python -m cvlib.pretrain``), and the target task is telling 5, 6, 7, 8 and 9 apart
from at most a few labelled images each.
"""

import contextlib
import math
import statistics
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cvlib import augment as A
from cvlib import transfer
from cvlib.data import digits
from cvlib.models.course_cnn import CourseCNN
from cvlib.train import evaluate, fit, run_parallel, set_seed

__all__ = [
    "SOURCE_CLASSES",
    "TARGET_CLASSES",
    "ExperimentResult",
    "augmentation_experiment",
    "class_subset",
    "default_augmentation",
    "epochs_for",
    "few_shot",
    "perturbed",
    "torch_threads",
    "transfer_experiment",
]

SOURCE_CLASSES = (0, 1, 2, 3, 4)  # what the shipped weights saw
TARGET_CLASSES = (5, 6, 7, 8, 9)  # the transfer task, never seen in pretraining
SIZE = 28


@dataclass
class ExperimentResult:
    """Test accuracies of each method over seeds, with mean and standard deviation."""

    accuracies: dict  # method -> list of accuracies, one per seed
    seeds: tuple
    setting: str
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def mean(self, method):
        return statistics.fmean(self.accuracies[method])

    def std(self, method):
        values = self.accuracies[method]
        return statistics.stdev(values) if len(values) > 1 else 0.0

    def table(self):
        """A plain-text table: one row per method, accuracy as mean +- std and per seed."""
        width = max(len(m) for m in self.accuracies)
        lines = [self.setting, f"{'method':<{width}}  mean +- std      per seed"]
        for m, values in self.accuracies.items():
            runs = " ".join(f"{v:.3f}" for v in values)
            lines.append(f"{m:<{width}}  {self.mean(m):.3f} +- {self.std(m):.3f}  {runs}")
        lines.append(f"({len(self.seeds)} seeds, {self.seconds:.0f} s)")
        return "\n".join(lines)

    def plot(self, ax=None):
        """Bar chart of mean test accuracy with one-std error bars and each seed as a dot."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(5, 3))[1]
        methods = list(self.accuracies)
        ax.bar(
            methods,
            [self.mean(m) for m in methods],
            yerr=[self.std(m) for m in methods],
            capsize=4,
            color="#9ecae1",
        )
        for i, m in enumerate(methods):
            ax.plot([i] * len(self.accuracies[m]), self.accuracies[m], "k.", alpha=0.6)
        ax.set_ylabel("test accuracy")
        ax.set_ylim(0, 1)
        ax.set_title(self.setting, fontsize=9)
        return ax


@contextlib.contextmanager
def torch_threads(n):
    """Run the block with ``n`` torch threads, then restore the previous number.

    The course's models are tiny: one thread is about as fast as two on an idle machine and far
    faster on a busy one, where threads that wait for each other waste most of their time.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def class_subset(dataset, classes):
    """Images of ``classes`` only, relabelled ``0 .. len(classes) - 1`` in the given order."""
    labels = dataset.labels
    keep = torch.isin(labels, torch.tensor(classes))
    remap = torch.full((int(labels.max()) + 1,), -1, dtype=torch.int64)
    remap[torch.tensor(classes)] = torch.arange(len(classes))
    return TensorDataset(dataset.images[keep], remap[labels[keep]])


def few_shot(dataset, per_class, seed):
    """``per_class`` images of every class, drawn at random with ``seed``."""
    images, labels = dataset.tensors
    g = torch.Generator().manual_seed(seed)
    picks = []
    for c in labels.unique():
        index = torch.nonzero(labels == c).flatten()
        if len(index) < per_class:
            raise ValueError(f"`per_class`={per_class} but class {int(c)} has {len(index)} images")
        picks.append(index[torch.randperm(len(index), generator=g)[:per_class]])
    picks = torch.cat(picks)
    return TensorDataset(images[picks], labels[picks])


def default_augmentation():
    """Small shifts, rotations and zooms that keep a digit the same digit (no flips)."""
    return A.Compose(
        [
            A.RandomRotation(12),
            A.RandomResizedCrop(SIZE, scale=(0.8, 1.0), ratio=(0.85, 1.15)),
            A.RandomCrop(SIZE, padding=2),
        ]
    )


def epochs_for(steps, n_train, batch_size=32):
    """Epochs that give at least ``steps`` gradient steps on ``n_train`` images.

    Comparing methods by epochs would be unfair with tiny training sets: 25 images make one
    batch, so 30 epochs are only 30 steps, too few for a network trained from scratch.
    """
    return math.ceil(steps / math.ceil(n_train / batch_size))


def _train(model, train_set, test_set, epochs, lr, seed, batch_size=32, optimizer=None):
    g = torch.Generator().manual_seed(seed)
    loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=g)
    fit(
        model,
        loader,
        epochs=epochs,
        lr=lr,
        optimizer=optimizer,
        device="cpu",
        progress=False,
        channels_last=True,
    )
    return evaluate(model, DataLoader(test_set, batch_size=256), device="cpu").accuracy


def perturbed(dataset, seed=1234):
    """A fixed copy of ``dataset`` with every image rotated up to 15 degrees and shifted up to
    3 pixels: the test set for "does the model cope with digits that are not centred?"."""
    images, labels = dataset.tensors
    move = A.Compose([A.RandomRotation(15), A.RandomCrop(SIZE, padding=3)], seed=seed)
    return TensorDataset(move(images), labels)  # (N, 1, 28, 28): one draw per image


METHODS = ("none", "augmented")


def augmentation_experiment(
    n_train=200, seeds=(0, 1, 2), epochs=50, lr=3e-3, transform=None, methods=METHODS
):
    """Train :class:`CourseCNN` on ``n_train`` digits with and without augmentation.

    Same model, same images, same number of epochs; the only difference is that with
    augmentation each epoch sees randomly changed copies (``transform``, by default
    :func:`default_augmentation`). Both models are tested on the clean test split and on a
    :func:`perturbed` copy of it (rotated and shifted digits).

    ``methods`` picks the runs: ``("augmented",)`` skips the baseline without augmentation, for
    a second transform compared against a baseline already computed with the same ``n_train``,
    ``seeds``, ``epochs`` and ``lr``. Every run is seeded on its own, so the runs it keeps give
    the same accuracies as in the full experiment.
    """
    if (
        isinstance(methods, str)
        or not methods
        or not set(methods) <= set(METHODS)
        or len(set(methods)) != len(methods)
    ):
        raise ValueError(f"`methods` must be distinct names from {METHODS}, got {methods!r}")
    methods = [m for m in METHODS if m in methods]  # (keep the table's usual order)
    start = time.perf_counter()
    jobs = [
        dict(seed=seed, method=m, n_train=n_train, epochs=epochs, lr=lr, transform=transform)
        for seed in seeds
        for m in methods
    ]
    runs = iter(run_parallel(_augmentation_run, jobs))  # one process per core
    acc = {f"{m}, {t} test": [] for t in ("clean", "moved") for m in methods}
    for _ in seeds:
        for method in methods:
            clean, moved = next(runs)
            acc[f"{method}, clean test"].append(clean)
            acc[f"{method}, moved test"].append(moved)
    n_test = len(digits(size=SIZE, split="test"))
    setting = (
        f"CourseCNN, {n_train // 10 * 10} training digits, {epochs} epochs, test on "
        f"{n_test} (clean, and rotated <= 15 deg / shifted <= 3 px)"
    )
    return ExperimentResult(acc, tuple(seeds), setting, time.perf_counter() - start)


def _augmentation_run(seed, method, n_train, epochs, lr, transform):
    """One run of :func:`augmentation_experiment`: (clean, moved) test accuracy.

    Seeded on its own, so it gives the same numbers in any process and in any order.
    """
    with torch_threads(1):
        full = digits(size=SIZE, split="train")
        test = TensorDataset(*_tensors(digits(size=SIZE, split="test")))
        train = few_shot(TensorDataset(full.images, full.labels), n_train // 10, seed)
        if method == "augmented":
            train = A.Augmented(train, transform or default_augmentation())
        set_seed(seed)
        model = CourseCNN(10)
        clean = _train(model, train, test, epochs, lr, seed)
        moved = evaluate(model, DataLoader(perturbed(test), batch_size=256), device="cpu")
    return clean, moved.accuracy


def _tensors(dataset):
    return dataset.images, dataset.labels


def _fit_head_on_features(base, train, test, epochs, lr, seed, num_classes):
    train_f = transfer.extract_features(base, DataLoader(train, batch_size=256))
    test_f = transfer.extract_features(base, DataLoader(test, batch_size=256))
    set_seed(seed)
    head = nn.Linear(train_f.tensors[0].shape[1], num_classes)
    return _train(head, train_f, test_f, epochs, lr, seed, batch_size=16)


def transfer_experiment(per_class=10, seeds=(0, 1, 2), steps=150):
    """Digits 5-9 from ``per_class`` labelled images each: scratch vs the two transfer routes.

    Every method gets the same budget of about ``steps`` gradient steps (batches of 32), enough
    for each to converge on so few images:

    - "scratch": :class:`CourseCNN` from random weights, every layer trained (Adam, lr 3e-3);
    - "feature extraction": the pretrained base frozen, features stored once, a new Linear head
      trained on them (batches of 16, four times the epochs, lr 1e-2; it costs next to nothing);
    - "fine-tuning": ``load_pretrained(num_classes=5)``, every layer trained with a smaller
      learning rate (1e-3) so the pretrained filters move gently.

    Test accuracy is measured on all digits 5-9 of the fixed test split.
    """
    if not isinstance(per_class, int) or not 1 <= per_class <= 100:
        raise ValueError(f"`per_class` must be an int in [1, 100], got {per_class!r}")
    start = time.perf_counter()
    test = class_subset(digits(size=SIZE, split="test"), TARGET_CLASSES)
    epochs = epochs_for(steps, per_class * len(TARGET_CLASSES))
    methods = ("scratch", "feature extraction", "fine-tuning")
    jobs = [
        dict(seed=seed, method=m, per_class=per_class, epochs=epochs)
        for seed in seeds
        for m in methods
    ]
    runs = iter(run_parallel(_transfer_run, jobs))  # one process per core
    acc = {m: [] for m in methods}
    for _ in seeds:
        for method in methods:
            acc[method].append(next(runs))
    setting = (
        f"digits 5-9, {per_class} labelled images per class, {epochs} epochs "
        f"(~{steps} steps), test on {len(test)}; pretrained on digits 0-4"
    )
    return ExperimentResult(acc, tuple(seeds), setting, time.perf_counter() - start)


def _transfer_run(seed, method, per_class, epochs):
    """One run of :func:`transfer_experiment`: the test accuracy of ``method`` with ``seed``."""
    with torch_threads(1):
        pool = class_subset(digits(size=SIZE, split="train"), TARGET_CLASSES)
        test = class_subset(digits(size=SIZE, split="test"), TARGET_CLASSES)
        k = len(TARGET_CLASSES)
        train = few_shot(pool, per_class, seed)
        if method == "scratch":
            set_seed(seed)
            return _train(CourseCNN(k), train, test, epochs, 3e-3, seed)
        if method == "feature extraction":
            base = transfer.load_pretrained().features
            return _fit_head_on_features(base, train, test, 4 * epochs, 1e-2, seed, k)
        set_seed(seed)
        return _train(transfer.load_pretrained(num_classes=k), train, test, epochs, 1e-3, seed)
