"""The measurements the book and the benchmarks report, one module each.

Every module has a frozen ``Settings`` dataclass (the defaults are what the benchmark reports)
and ``run(settings=None, **overrides)`` returning a result (:mod:`cvlib.experiments.settings`):

- :mod:`~cvlib.experiments.optimizer_rates`: a learning-rate sweep of SGD and Adam on LeNet-5, and
  :mod:`~cvlib.experiments.overfitting`: an overfitting run and three cures (the training chapter);
- :mod:`~cvlib.experiments.augmentation`: with and without augmentation on 200 Fashion-MNIST
  photographs;
- :mod:`~cvlib.experiments.transfer`: scratch vs feature extraction vs fine-tuning on five
  clothing classes, from a base pretrained on the other five
  (:mod:`~cvlib.experiments.pretrain_fashion`);
- :mod:`~cvlib.experiments.depth`: residual vs plain networks at depth 20 and 56 (its recorded
  seeds on Fashion-MNIST at 14x14 come from :mod:`~cvlib.experiments.pretrain_deep`);
- :mod:`~cvlib.experiments.batchnorm_rates`: learning rates with and without batch norm, and
  :mod:`~cvlib.experiments.small_batches`: batch, group and layer norm at tiny batch sizes
  (their shared runs are :mod:`~cvlib.experiments.norm_runs`, on the Fashion-MNIST subset of
  :mod:`~cvlib.experiments.deep_data`; their recorded grids come from
  :mod:`~cvlib.experiments.pretrain_deep`);
- :mod:`~cvlib.experiments.regressor`, :mod:`~cvlib.experiments.rcnn`,
  :mod:`~cvlib.experiments.segmentation`: localisation, detection, segmentation, and
  :mod:`~cvlib.experiments.ssd`: the one-stage detector against the R-CNN-style pipeline (its
  recipe :mod:`~cvlib.experiments.pretrain_ssd`);
- :mod:`~cvlib.experiments.shapes`: the shapes classifier that the last chapter looks inside;
- :mod:`~cvlib.experiments.pretrain`: the recipes of the shipped weights: the course CNN's, and
  the classic families' trained on Fashion-MNIST under :mod:`~cvlib.experiments.families`;
- :mod:`~cvlib.experiments.capstone`: assignment 6's numpy CNN, its training time and the
  knock-outs its trained-network test relies on.

Repeated runs (seeds, several experiments) go to worker processes, one per core
(:func:`cvlib.train.run_parallel`); every run seeds itself, so the figures do not depend on it.
"""

from . import (
    augmentation,
    batchnorm_rates,
    capstone,
    depth,
    families,
    norm_runs,
    optimizer_rates,
    overfitting,
    pretrain,
    pretrain_fashion,
    rcnn,
    regressor,
    segmentation,
    shapes,
    small_batches,
    transfer,
)
from .result import SeedResults

__all__ = [
    "SeedResults",
    "augmentation",
    "batchnorm_rates",
    "capstone",
    "depth",
    "families",
    "norm_runs",
    "optimizer_rates",
    "overfitting",
    "pretrain",
    "pretrain_fashion",
    "rcnn",
    "regressor",
    "segmentation",
    "shapes",
    "small_batches",
    "transfer",
]
