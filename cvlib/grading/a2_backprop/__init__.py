"""Checks of assignment 2: pooling, activations and the loss (:mod:`.forward`), the backward
passes and one training step of the tiny CNN (:mod:`.backward`)."""

from .backward import check_conv_backward, check_max_pool_backward, check_training_step
from .forward import check_cross_entropy, check_pool, check_relu, check_softmax

__all__ = [
    "check_conv_backward",
    "check_cross_entropy",
    "check_max_pool_backward",
    "check_pool",
    "check_relu",
    "check_softmax",
    "check_training_step",
]
