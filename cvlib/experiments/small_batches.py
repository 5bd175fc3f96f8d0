"""The deep-training chapter's measurement: batch, group and layer norm when batches are tiny.

The same small CNN (:class:`~cvlib.models.NormCNN`) with each normalisation of ``norms`` at
each batch size of ``batch_sizes``, trained on 100 Fashion-MNIST photographs of each class (or
the 8x8 digits, ``data``) by Adam for the same ``epochs`` (the same images, seen the same number
of times); validation accuracy and final training loss per ``(norm, batch_size)``
(:class:`~cvlib.experiments.norm_runs.NormResult`). The smallest batches, the slowest runs, go
first.

Y. Wu, K. He, "Group normalization", ECCV 2018, Sec. 4.1.

Examples
--------
>>> Settings().batch_sizes, Settings().norms
((1, 2, 32), ('batch', 'group', 'layer'))
"""

from dataclasses import dataclass

from .norm_runs import run_grid, submit_grid

__all__ = ["Settings", "run", "submit"]


@dataclass(frozen=True)
class Settings:
    """Adam at ``lr`` with each of ``batch_sizes``, ``epochs`` each; group norm uses
    ``groups``."""

    norms: tuple = ("batch", "group", "layer")
    batch_sizes: tuple = (1, 2, 32)
    epochs: int = 1
    lr: float = 1e-3
    groups: int = 4
    seed: int = 0
    data: str = "fashion"  # or "digits" (cvlib.experiments.deep_data)


def _grid(s):
    keys = [(norm, b) for b in sorted(s.batch_sizes) for norm in s.norms]
    common = dict(data=s.data, seed=s.seed, epochs=s.epochs, lr=s.lr, groups=s.groups)
    return keys, [dict(norm=n, batch_size=b, **common) for n, b in keys]


def run(settings=None, **overrides):
    """Every ``(norm, batch_size)`` run, one process per core; a ``NormResult``."""
    return run_grid(Settings, _grid, settings, overrides)


def submit(workers, settings=None, **overrides):
    """Start the runs on ``workers`` (a :class:`cvlib.train.Workers`); ``.result()`` is
    :func:`run`'s result."""
    return submit_grid(workers, Settings, _grid, settings, overrides)
