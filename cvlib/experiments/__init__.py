"""The measurements the book and the benchmarks report, one module each.

Every module has a frozen ``Settings`` dataclass (the defaults are what the benchmark reports)
and ``run(settings=None, **overrides)`` returning a result (:mod:`cvlib.experiments.settings`):

- :mod:`~cvlib.experiments.learning_rate`: a learning-rate sweep of SGD and Adam on LeNet-5, and
  :mod:`~cvlib.experiments.overfitting`: an overfitting run and three cures (the training chapter);
- :mod:`~cvlib.experiments.augmentation`: with and without augmentation on 200 digits;
- :mod:`~cvlib.experiments.transfer`: scratch vs feature extraction vs fine-tuning;
- :mod:`~cvlib.experiments.depth`: residual vs plain networks at depth 20 and 56;
- :mod:`~cvlib.experiments.regressor`, :mod:`~cvlib.experiments.rcnn`,
  :mod:`~cvlib.experiments.segmentation`: localisation, detection, segmentation;
- :mod:`~cvlib.experiments.shapes`: the shapes classifier that the last chapter looks inside;
- :mod:`~cvlib.experiments.pretrain`: the recipe of the course CNN's shipped weights.

Repeated runs (seeds, several experiments) go to worker processes, one per core
(:func:`cvlib.train.run_parallel`); every run seeds itself, so the figures do not depend on it.
"""

from . import (
    augmentation,
    depth,
    learning_rate,
    overfitting,
    pretrain,
    rcnn,
    regressor,
    segmentation,
    shapes,
    transfer,
)
from .result import SeedResults

__all__ = [
    "SeedResults",
    "augmentation",
    "depth",
    "learning_rate",
    "overfitting",
    "pretrain",
    "rcnn",
    "regressor",
    "segmentation",
    "shapes",
    "transfer",
]
