"""Training: the loops, evaluation, seeds, devices, thread counts, parallel runs, transfer.

One home for everything that trains a network, so the chapters, the experiments and the graders
share one loop:

- :mod:`~cvlib.train.loop`: :func:`fit` (epochs of :func:`train_one_epoch` with evaluation and a
  :class:`History`) and :func:`fit_one_cycle` (Adam under a one-cycle schedule, any batch loss);
- :mod:`~cvlib.train.evaluation`: :func:`evaluate`, :func:`predict`, :func:`confusion_matrix`;
- :mod:`~cvlib.train.calibration`: :func:`reliability` bins, the expected calibration error and
  :func:`fit_temperature` (temperature scaling);
- :mod:`~cvlib.train.ascent`: :func:`ascend`, gradient ascent on an input (not the weights);
- :mod:`~cvlib.train.lr_finder`: :func:`lr_find`, the learning-rate range test;
- :mod:`~cvlib.train.runtime`: :func:`set_seed`, :func:`resolve_device`, :func:`torch_threads`,
  :func:`eval_mode`, :func:`deterministic`;
- :mod:`~cvlib.train.parallel`: :func:`run_parallel` and :class:`Workers` spread independent runs
  (seeds, experiments) over the machine's cores, one torch thread each;
- :mod:`~cvlib.train.transfer`: freeze a pretrained base, swap its head, fine-tune.
"""

from . import transfer
from .ascent import ascend
from .calibration import Reliability, expected_calibration_error, fit_temperature, reliability
from .evaluation import Evaluation, confusion_matrix, evaluate, predict
from .loop import History, fit, fit_one_cycle, train_one_epoch
from .lr_finder import LRFinder, lr_find
from .parallel import Pending, Workers, run_parallel
from .runtime import deterministic, eval_mode, resolve_device, set_seed, torch_threads

__all__ = [
    "Evaluation",
    "History",
    "LRFinder",
    "Pending",
    "Reliability",
    "Workers",
    "ascend",
    "confusion_matrix",
    "deterministic",
    "eval_mode",
    "evaluate",
    "expected_calibration_error",
    "fit",
    "fit_one_cycle",
    "fit_temperature",
    "lr_find",
    "predict",
    "reliability",
    "resolve_device",
    "run_parallel",
    "set_seed",
    "torch_threads",
    "train_one_epoch",
    "transfer",
]
