"""Checks of assignment 3: LeNet-5 by what it computes (:mod:`.network`), one training epoch, the
accuracy, and a whole training run scored on held-out digits (:mod:`.training`)."""

from .network import check_lenet, lenet_params
from .training import (
    check_evaluate,
    check_lenet_training,
    check_train_one_epoch,
    check_trained_classifier,
    heldout_accuracy,
)

__all__ = [
    "check_evaluate",
    "check_lenet",
    "check_lenet_training",
    "check_train_one_epoch",
    "check_trained_classifier",
    "heldout_accuracy",
    "lenet_params",
]
