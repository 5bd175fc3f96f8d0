"""The tiny CNN of assignment 2, written with the numpy core: one training step, by hand.

Architecture (input ``x`` of shape (N, C, H, W) with even H and W, ``F`` filters, ``K`` classes)::

    conv 3x3, padding 1  ->  ReLU  ->  max pool 2x2  ->  flatten  ->  linear  ->  cross-entropy
    (N, F, H, W)            (N, F, H, W) (N, F, H/2, W/2) (N, F*H*W/4) (N, K)

``params`` is the tuple ``(conv_weight, conv_bias, fc_weight, fc_bias)`` with shapes
``(F, C, 3, 3)``, ``(F,)``, ``(K, F*H*W/4)``, ``(K,)`` (PyTorch's layouts).

The arguments come in the order of the capstone network (:mod:`cvlib.numpy_cnn`) and of the
student's ``train_step(params, x, target, lr)``: parameters first, the layer functions last, as
an :class:`~cvlib.numpy_cnn.Ops` (by default cvlib's references; the graders pass fresh copies,
or ones with a function replaced: ``REFERENCE.replaced_from(module)``).

Examples
--------
>>> x, target = np.random.default_rng(0).random((2, 1, 4, 4)), np.array([0, 2])
>>> params = init_params(1, 3, 4)
>>> loss, new = sgd_step(params, x, target, lr=0.1)
>>> round(loss, 3) == round(loss_and_grads(params, x, target)[0], 3), len(new)
(True, 4)
"""

import numpy as np

from cvlib.numpy_cnn import REFERENCE

__all__ = ["init_params", "loss_and_grads", "sgd_step"]


def init_params(in_channels, num_classes, size, filters=4, seed=0):
    """Small random parameters for the tiny CNN (He-style scaling), as a tuple of 4 arrays.

    Examples
    --------
    >>> [p.shape for p in init_params(1, 3, 8)]
    [(4, 1, 3, 3), (4,), (3, 64), (3,)]
    """
    rng = np.random.default_rng(seed)
    features = filters * (size // 2) ** 2
    conv_weight = rng.normal(size=(filters, in_channels, 3, 3)) * np.sqrt(2 / (9 * in_channels))
    fc_weight = rng.normal(size=(num_classes, features)) * np.sqrt(1 / features)
    return conv_weight, np.zeros(filters), fc_weight, np.zeros(num_classes)


def loss_and_grads(params, x, target, ops=REFERENCE):
    """Loss of the tiny CNN and the gradients of the 4 parameters.

    Parameters
    ----------
    params : tuple of 4 ndarrays
        ``(conv_weight, conv_bias, fc_weight, fc_bias)``.
    x : ndarray, shape (N, C, H, W)
    target : ndarray of int, shape (N,)
    ops : cvlib.numpy_cnn.Ops, default cvlib's references
        The layer functions (this network uses the convolution, pooling, ReLU and cross-entropy).
    """
    conv_weight, conv_bias, fc_weight, fc_bias = params
    a = ops.conv2d(x, conv_weight, conv_bias, padding=1)  # (N, F, H, W)
    r = ops.relu(a)  # (N, F, H, W)
    p = ops.max_pool2d(r, 2)  # (N, F, H/2, W/2)
    f = p.reshape(len(x), -1)  # (N, F*H*W/4)
    logits = f @ fc_weight.T + fc_bias  # (N, K)
    loss, dlogits = ops.cross_entropy(logits, target)
    dfc_weight = dlogits.T @ f  # (K, F*H*W/4)
    dfc_bias = dlogits.sum(axis=0)  # (K,)
    dp = (dlogits @ fc_weight).reshape(p.shape)  # (N, F, H/2, W/2)
    dr = ops.max_pool2d_backward(dp, r, 2)  # (N, F, H, W)
    da = ops.relu_backward(dr, a)  # (N, F, H, W)
    _, dconv_weight, dconv_bias = ops.conv2d_backward(da, x, conv_weight, padding=1)
    return float(loss), (dconv_weight, dconv_bias, dfc_weight, dfc_bias)


def sgd_step(params, x, target, lr, ops=REFERENCE):
    """One step of plain gradient descent: ``(loss before the step, new params)``; the layers
    as in :func:`loss_and_grads`."""
    loss, grads = loss_and_grads(params, x, target, ops)
    return loss, tuple(p - lr * g for p, g in zip(params, grads, strict=True))
