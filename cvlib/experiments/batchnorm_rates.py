"""The deep-training chapter's measurement: does batch norm let a network train at larger
learning rates?

The same small CNN (:class:`~cvlib.models.NormCNN`, the course CNN's layers) with
``norm="none"`` and ``norm="batch"``, trained on 100 Fashion-MNIST photographs of each class (or
the 8x8 digits, ``data``) by SGD with momentum at each learning rate of ``lrs`` for ``epochs``;
validation accuracy and final training loss per ``(norm, lr)``
(:class:`~cvlib.experiments.norm_runs.NormResult`).

S. Ioffe, C. Szegedy, "Batch normalization", ICML 2015, Sec. 3.3.

Examples
--------
>>> Settings().lrs
(0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
"""

from dataclasses import dataclass

from .norm_runs import run_grid, submit_grid

__all__ = ["Settings", "run", "submit"]


@dataclass(frozen=True)
class Settings:
    """SGD (momentum ``momentum``) at each of ``lrs``, batches of ``batch_size``."""

    norms: tuple = ("none", "batch")
    lrs: tuple = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
    epochs: int = 3
    batch_size: int = 32
    momentum: float = 0.9
    seed: int = 0
    data: str = "fashion"  # or "digits" (cvlib.experiments.deep_data)


def _grid(s):
    keys = [(norm, lr) for norm in s.norms for lr in s.lrs]
    common = dict(
        data=s.data, seed=s.seed, epochs=s.epochs, batch_size=s.batch_size, momentum=s.momentum
    )
    return keys, [dict(norm=n, lr=lr, **common) for n, lr in keys]


def run(settings=None, **overrides):
    """Every ``(norm, lr)`` run, one process per core; a ``NormResult``."""
    return run_grid(Settings, _grid, settings, overrides)


def submit(workers, settings=None, **overrides):
    """Start the runs on ``workers`` (a :class:`cvlib.train.Workers`); ``.result()`` is
    :func:`run`'s result."""
    return submit_grid(workers, Settings, _grid, settings, overrides)
