"""The capstone CNN of assignment 6, built from the numpy core alone: forward, backward, predict.

Architecture (``x`` of shape (N, C, H, W) with H and W at least 4; ``C1, C2`` filters;
``K`` classes); each block is a 3x3 convolution without bias (batch norm's ``bias`` takes its
place), batch normalisation, ReLU and 2x2 max pooling, as ``cvlib.nn.conv_bn_relu`` + pooling::

    conv1 -> bn1 -> ReLU -> pool   (N, C1, H/2, W/2)
    conv2 -> bn2 -> ReLU -> pool   (N, C2, H/4, W/4)     (sizes rounded down)
    flatten                        (N, C2 * H/4 * W/4)
    linear                         (N, K)          -> cross-entropy

The dense layer reads the last feature map flattened channel by channel, so it knows where in
the image each detector fired. Assignment 6 trains it on 14x14 Fashion-MNIST
(:func:`cvlib.data.capstone_data`), where the last map is 3x3; :mod:`cvlib.experiments.capstone`
measures it against a logistic regression on the same pixels and with deliberate bugs.

The parameters are a :class:`Params` named tuple (PyTorch's layouts), batch norm's running
estimates a :class:`Stats` named tuple. The layer functions come from an :class:`Ops` (by default
cvlib's references: :mod:`cvlib.conv`, :mod:`cvlib.pool`, :mod:`cvlib.layers`,
:mod:`cvlib.batchnorm`, :mod:`cvlib.optim`); the graders pass a student's functions instead, so
that the trained network shows whether they work. :mod:`cvlib.numpy_training` trains it.

Examples
--------
>>> params, stats = init_params(channels=(4, 8), seed=0, size=8)
>>> x, target = np.random.default_rng(0).random((6, 1, 8, 8)), np.arange(6) % 3
>>> loss, grads, new_stats = loss_and_grads(params, stats, x, target)
>>> [g.shape for g in grads][:3], predict(params, new_stats, x).shape
([(4, 1, 3, 3), (4,), (4,)], (6, 10))
"""

from dataclasses import dataclass, fields, replace

import numpy as np

from cvlib import batchnorm, conv, gradcheck, layers, optim, pool
from cvlib.numpy_cnn_params import Params, Stats, init_params

__all__ = [
    "REFERENCE",
    "Ops",
    "Params",
    "Stats",
    "forward",
    "gradient_check",
    "init_params",
    "loss_and_grads",
    "predict",
]


@dataclass(frozen=True)
class Ops:
    """The numpy functions a network is built from, with cvlib's signatures.

    Both numpy networks take their layers this way, as their last argument ``ops`` (this one and
    assignment 2's :mod:`cvlib.tiny_cnn`). Replace any of them to build the network from other
    code, e.g. a student's ``Ops(conv2d_backward=conv2d_backward)`` or all of them,
    ``Ops(**functions)``.
    """

    conv2d: object = conv.conv2d  # (x, weight, bias, padding=1) -> out
    conv2d_backward: object = conv.conv2d_backward  # (dout, x, weight, padding=1) -> dx, dw, db
    max_pool2d: object = pool.max_pool2d  # (x, 2) -> out
    max_pool2d_backward: object = pool.max_pool2d_backward  # (dout, x, 2) -> dx
    relu: object = layers.relu  # (x) -> out
    relu_backward: object = layers.relu_backward  # (dout, x) -> dx
    # (x, running_mean, running_var, w, b, training, momentum) -> out, running_mean, running_var
    batch_norm: object = batchnorm.batch_norm
    # (dout, x, running_mean, running_var, w, training) -> dx, dw, db
    batch_norm_backward: object = batchnorm.batch_norm_backward
    linear: object = layers.linear  # (x, weight, bias) -> out
    linear_backward: object = layers.linear_backward  # (dout, x, weight) -> dx, dw, db
    cross_entropy: object = layers.cross_entropy  # (logits, target) -> loss, dlogits
    sgd: object = optim.sgd  # (params, grads, velocities, lr=, momentum=, weight_decay=)

    def replaced_from(self, *modules):
        """A copy whose functions are taken from ``modules`` (objects or modules, ``None``
        skipped) wherever one of them has a function of that name; later ones win.

        Examples
        --------
        >>> REFERENCE.replaced_from(pool).max_pool2d is pool.max_pool2d
        True
        """
        found = {
            field.name: getattr(module, field.name)
            for module in modules
            if module is not None
            for field in fields(self)
            if hasattr(module, field.name)
        }
        return replace(self, **found)


REFERENCE = Ops()


def forward(params, stats, x, training, ops=REFERENCE, momentum=0.1):
    """Logits of the network; with ``training`` the batch's statistics normalise the batch.

    Shape
    -----
    x : (N, C, H, W) -> logits (N, K)

    Returns
    -------
    logits : ndarray, shape (N, K)
    stats : Stats
        Updated running estimates when training, the given ones otherwise.
    cache : tuple
        What :func:`loss_and_grads` needs for the backward pass.
    """
    if not isinstance(params, Params) or not isinstance(stats, Stats):
        raise TypeError(
            "`params` and `stats` must be a Params and a Stats (see init_params), got "
            f"{type(params).__name__} and {type(stats).__name__}"
        )
    h1, cache1, running1 = _block_forward(x, params[0:3], stats[0:2], training, momentum, ops)
    h2, cache2, running2 = _block_forward(h1, params[3:6], stats[2:4], training, momentum, ops)
    features = h2.reshape(len(h2), -1)  # (N, C2 * H/4 * W/4), flattened channel by channel
    logits = ops.linear(features, params.fc_weight, params.fc_bias)  # (N, K)
    return logits, Stats(*running1, *running2), (cache1, cache2, features)


def loss_and_grads(params, stats, x, target, ops=REFERENCE, momentum=0.1):
    """Mean cross-entropy on one training batch, the gradients, and the updated running stats.

    Batch norm runs in training mode (the batch's statistics), as in one training step.

    Shape
    -----
    x : (N, C, H, W), target : (N,); each gradient has its parameter's shape

    Parameters
    ----------
    params : Params
    stats : Stats
    x : ndarray, shape (N, C, H, W)
    target : ndarray of int, shape (N,)
    ops : Ops, default cvlib's references
    momentum : float, default 0.1
        Batch norm's momentum for the running estimates.

    Returns
    -------
    loss : float
    grads : Params
        ``dL/dparam`` for each parameter, same shapes.
    stats : Stats
    """
    logits, new_stats, (cache1, cache2, features) = forward(params, stats, x, True, ops, momentum)
    loss, dlogits = ops.cross_entropy(logits, target)  # dlogits (N, K)
    dfeatures, dfc_weight, dfc_bias = ops.linear_backward(dlogits, features, params.fc_weight)
    dh2 = dfeatures.reshape(cache2[-1].shape)  # (N, C2, H/4, W/4), undoing the flattening
    dh1, block2 = _block_backward(dh2, cache2, ops)  # dh1 (N, C1, H/2, W/2)
    _, block1 = _block_backward(dh1, cache1, ops)
    return float(loss), Params(*block1, *block2, dfc_weight, dfc_bias), new_stats


def predict(params, stats, x, ops=REFERENCE, batch_size=None):
    """Logits in evaluation mode (the running estimates normalise), ``batch_size`` images at a
    time (all at once by default; in evaluation mode the answer must not depend on it).

    Shape
    -----
    x : (N, C, H, W) -> logits (N, K)
    """
    if batch_size is None:
        batch_size = max(len(x), 1)
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int or None, got {batch_size!r}")
    chunks = [
        forward(params, stats, x[i : i + batch_size], False, ops)[0]
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(chunks)  # (N, K)


def gradient_check(params, stats, x, target, ops=REFERENCE, eps=1e-6):
    """Relative error of every gradient of :func:`loss_and_grads` against a numerical one.

    The whole network at once: each entry of each parameter is nudged by ``+-eps`` and the
    training-mode loss recomputed (:func:`cvlib.gradcheck.numerical_gradient`), so an error
    anywhere in the chain of backward passes shows up in the parameters before it. Use a small
    network, a few images and float64: the cost is two forward passes per parameter entry.
    In float64 a correct backward pass gives errors around ``1e-7`` or below; a ReLU or max-pool
    input that the nudge moves across a kink or a tie can spoil one entry (rare with random
    inputs).

    Returns
    -------
    Params of float
        ``rel_error(analytic, numerical)`` per parameter (:func:`cvlib.gradcheck.rel_error`).

    Examples
    --------
    >>> params, stats = init_params(channels=(2, 3), num_classes=3, seed=0, size=4)
    >>> x = np.random.default_rng(0).normal(size=(4, 1, 4, 4))
    >>> errors = gradient_check(params, stats, x, np.array([0, 1, 2, 0]))
    >>> max(errors) < 1e-6
    True
    """
    _, grads, _ = loss_and_grads(params, stats, x, target, ops)

    def loss(k, value):
        trial = params._replace(**{params._fields[k]: value})
        return ops.cross_entropy(forward(trial, stats, x, True, ops)[0], target)[0]

    errors = []
    for k, (p, g) in enumerate(zip(params, grads, strict=True)):
        numerical = gradcheck.numerical_gradient(lambda v, k=k: loss(k, v), p, eps=eps)
        errors.append(gradcheck.rel_error(g, numerical))
    return Params(*errors)


def _block_forward(x, weights, stats, training, momentum, ops):
    """conv 3x3 -> batch norm -> ReLU -> max pool 2x2;
    ``(out, cache, (running_mean, running_var))``, the running estimates updated if training."""
    conv_weight, bn_weight, bn_bias = weights
    z = ops.conv2d(x, conv_weight, None, padding=1)  # (N, C_out, H, W)
    y, running_mean, running_var = ops.batch_norm(
        z, *stats, bn_weight, bn_bias, training, momentum
    )  # y (N, C_out, H, W); running estimates (C_out,)
    a = ops.relu(y)  # (N, C_out, H, W)
    out = ops.max_pool2d(a, 2)  # (N, C_out, H/2, W/2)
    return out, (x, conv_weight, z, stats, bn_weight, y, a, out), (running_mean, running_var)


def _block_backward(dout, cache, ops):
    """Backward of :func:`_block_forward` in training mode: ``(dx, (dconv, dbn_w, dbn_b))``."""
    x, conv_weight, z, stats, bn_weight, y, a, _ = cache
    da = ops.max_pool2d_backward(dout, a, 2)  # (N, C_out, H, W)
    dy = ops.relu_backward(da, y)  # (N, C_out, H, W)
    dz, dbn_weight, dbn_bias = ops.batch_norm_backward(dy, z, *stats, bn_weight, True)
    dx, dconv_weight, _ = ops.conv2d_backward(dz, x, conv_weight, padding=1)
    return dx, (dconv_weight, dbn_weight, dbn_bias)
