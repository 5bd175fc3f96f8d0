"""Checks of assignment 6, the capstone: a CNN trained by the student's own numpy code.

One check per answer, reached through this module (``from cvlib.grading import a6_capstone``,
then ``a6_capstone.check_relu(relu)``), since assignment 2 has checks of the same names with
other rules: here every answer is numpy alone, PyTorch, SciPy and cvlib's reference
implementations are out of reach (:data:`cvlib.grading.tripwires.NUMPY_ONLY`).

- :mod:`.convolution`: ``im2col``, ``col2im``, ``conv2d``, ``conv2d_backward``;
- :mod:`.layers`: max pooling, ReLU, the dense layer, the cross-entropy, SGD with momentum;
- :mod:`.batchnorm`: batch normalisation, forward and backward, training and evaluation;
- :mod:`.network`: the network's ``forward``, ``loss_and_grads`` and ``predict``;
- :mod:`.sanity`: the numerical gradient, the whole-network gradient check, overfitting a
  tiny batch;
- :mod:`.training`: the trained network (the notebook's, then the student's ``train`` again
  with the graders' seed, scored with the student's ``predict``, one test photograph at a time).

Each answer is graded on its own: the earlier answers it calls are swapped for references while
it runs, except in :func:`check_training`, whose network is all the student's. The checks import
no torch until the ones that need the data run (the notebook has loaded it by then).
"""

from .batchnorm import check_batch_norm, check_batch_norm_backward
from .convolution import check_col2im, check_conv2d, check_conv2d_backward, check_im2col
from .layers import (
    check_cross_entropy,
    check_linear,
    check_linear_backward,
    check_max_pool2d,
    check_max_pool2d_backward,
    check_relu,
    check_relu_backward,
    check_sgd,
)
from .network import check_forward, check_loss_and_grads, check_predict
from .sanity import check_gradient_check, check_numerical_gradient, check_overfit_tiny_batch
from .training import check_trained_network, check_training

__all__ = [
    "check_batch_norm",
    "check_batch_norm_backward",
    "check_col2im",
    "check_conv2d",
    "check_conv2d_backward",
    "check_cross_entropy",
    "check_forward",
    "check_gradient_check",
    "check_im2col",
    "check_linear",
    "check_linear_backward",
    "check_loss_and_grads",
    "check_max_pool2d",
    "check_max_pool2d_backward",
    "check_numerical_gradient",
    "check_overfit_tiny_batch",
    "check_predict",
    "check_relu",
    "check_relu_backward",
    "check_sgd",
    "check_trained_network",
    "check_training",
]
