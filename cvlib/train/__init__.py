"""Training: the loops, evaluation, seeds, devices, thread counts and parallel runs.

One home for everything that trains a network, so the chapters, the experiments and the graders
share one loop: :func:`fit` (epochs of :func:`train_one_epoch` with evaluation and a
:class:`History`), :func:`fit_one_cycle` (Adam under a one-cycle schedule, any batch loss),
:func:`evaluate` and :func:`predict`. :func:`run_parallel` and :class:`Workers` spread independent
runs (seeds, experiments) over the machine's cores, one torch thread each.
"""

from .loop import (
    Evaluation,
    History,
    evaluate,
    fit,
    fit_one_cycle,
    predict,
    resolve_device,
    set_seed,
    train_one_epoch,
)
from .parallel import Workers, run_parallel

__all__ = [
    "Evaluation",
    "History",
    "Workers",
    "evaluate",
    "fit",
    "fit_one_cycle",
    "predict",
    "resolve_device",
    "run_parallel",
    "set_seed",
    "train_one_epoch",
]
