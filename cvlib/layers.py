"""The other layers of a small CNN in numpy, each forward next to its backward.

``relu``, ``linear`` (PyTorch's layout: ``weight (out_features, in_features)``), ``flatten``,
``softmax`` / ``log_softmax`` and the ``cross_entropy`` loss with its gradient. Together with
:mod:`cvlib.conv` and :mod:`cvlib.pool` they are enough to train a LeNet-style network by hand.
"""

import numpy as np

from cvlib._validate import as_float_array, check_array, check_labels, check_shape

__all__ = [
    "cross_entropy",
    "flatten",
    "flatten_backward",
    "linear",
    "linear_backward",
    "log_softmax",
    "relu",
    "relu_backward",
    "softmax",
]


def relu(x):
    """Rectified linear unit, ``max(x, 0)`` element by element.

    Examples
    --------
    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    x = as_float_array(x, "x")
    return np.maximum(x, 0)


def relu_backward(dout, x):
    """Gradient of :func:`relu`: ``dout`` where ``x > 0``, else 0 (also at ``x == 0``, as PyTorch).

    Examples
    --------
    >>> relu_backward(np.ones(3), np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 1.])
    """
    x = as_float_array(x, "x")
    dout = as_float_array(dout, "dout")
    check_shape(dout, "dout", x.shape, "the shape of `x`")
    return np.where(x > 0, dout, 0).astype(np.result_type(dout, x))


def softmax(z, axis=-1):
    """``exp(z) / sum(exp(z))`` along ``axis``, computed stably by subtracting the maximum first.

    Examples
    --------
    >>> softmax(np.array([[1.0, 1.0], [0.0, 1000.0]]))
    array([[0.5, 0.5],
           [0. , 1. ]])
    """
    z = as_float_array(z, "z")
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    """``z - log(sum(exp(z)))`` along ``axis`` (log-sum-exp with the maximum subtracted).

    Examples
    --------
    >>> log_softmax(np.zeros((2, 4))).shape
    (2, 4)
    """
    z = as_float_array(z, "z")
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def cross_entropy(logits, target):
    """Mean cross-entropy loss of class scores against integer labels, and its gradient.

    .. math::

        L = -\\frac{1}{N} \\sum_n \\log \\mathrm{softmax}(z_n)_{y_n}, \\qquad
        \\frac{\\partial L}{\\partial z_n}
            = \\frac{\\mathrm{softmax}(z_n) - \\mathrm{onehot}(y_n)}{N}

    Parameters
    ----------
    logits : ndarray, shape (N, K)
        Unnormalised class scores ``z``.
    target : ndarray of int, shape (N,)
        Class indices ``y`` in ``0 .. K-1``.

    Returns
    -------
    loss : float
        Same value as ``torch.nn.functional.cross_entropy(logits, target)``.
    dlogits : ndarray, shape (N, K)

    Examples
    --------
    >>> loss, dlogits = cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    >>> round(loss, 4), dlogits.shape
    (1.3863, (2, 4))
    """
    logits = check_array(logits, "logits", ndims=2)
    n, k = logits.shape
    check_labels(target, n, "one class index per row of `logits`")
    if n and (target.min() < 0 or target.max() >= k):
        raise ValueError(f"`target` must hold class indices in 0..{k - 1}, got {target}")
    log_p = log_softmax(logits)  # (N, K)
    loss = -np.mean(log_p[np.arange(n), target])
    dlogits = np.exp(log_p)
    dlogits[np.arange(n), target] -= 1
    return float(loss), dlogits / n


def linear(x, weight, bias=None):
    """Fully connected layer, ``x @ weight.T + bias``, with PyTorch's weight layout.

    Parameters
    ----------
    x : ndarray, shape (N, in_features)
    weight : ndarray, shape (out_features, in_features)
    bias : ndarray, shape (out_features,), optional

    Returns
    -------
    ndarray, shape (N, out_features)

    Examples
    --------
    >>> linear(np.ones((5, 3)), np.ones((2, 3)), np.zeros(2)).shape
    (5, 2)
    """
    x = check_array(x, "x", ndims=2)
    weight = check_array(weight, "weight", ndims=2)
    if weight.shape[1] != x.shape[1]:
        raise ValueError(f"`weight` has {weight.shape[1]} input features but `x` has {x.shape[1]}")
    out = x @ weight.T  # (N, out_features)
    if bias is not None:
        bias = check_array(bias, "bias", ndims=1)
        check_shape(bias, "bias", (weight.shape[0],), "one value per output feature")
        out = out + bias
    return out


def linear_backward(dout, x, weight):
    """Gradients of :func:`linear`: ``dx = dout @ weight``, ``dweight = dout.T @ x``,
    ``dbias = dout.sum(axis=0)``.

    Parameters
    ----------
    dout : ndarray, shape (N, out_features)
    x : ndarray, shape (N, in_features)
    weight : ndarray, shape (out_features, in_features)

    Returns
    -------
    dx : ndarray, shape (N, in_features)
    dweight : ndarray, shape (out_features, in_features)
    dbias : ndarray, shape (out_features,)

    Examples
    --------
    >>> dx, dw, db = linear_backward(np.ones((5, 2)), np.ones((5, 3)), np.ones((2, 3)))
    >>> dx.shape, dw.shape, db.shape
    ((5, 3), (2, 3), (2,))
    """
    x = check_array(x, "x", ndims=2)
    weight = check_array(weight, "weight", ndims=2)
    dout = check_array(dout, "dout", ndims=2)
    check_shape(dout, "dout", (x.shape[0], weight.shape[0]), "(N, out_features)")
    return dout @ weight, dout.T @ x, dout.sum(axis=0)


def flatten(x):
    """Keep the first (batch) axis and flatten the rest: ``(N, C, H, W) -> (N, C*H*W)``.

    Examples
    --------
    >>> flatten(np.zeros((8, 16, 5, 5))).shape
    (8, 400)
    """
    x = check_array(x, "x", ndims=range(1, 33))
    return x.reshape(x.shape[0], -1)


def flatten_backward(dout, x):
    """Gradient of :func:`flatten`: ``dout`` reshaped to ``x``'s shape (``x`` or its shape).

    Examples
    --------
    >>> flatten_backward(np.zeros((8, 400)), (8, 16, 5, 5)).shape
    (8, 16, 5, 5)
    """
    shape = tuple(x) if isinstance(x, tuple | list) else as_float_array(x, "x").shape
    dout = as_float_array(dout, "dout")
    check_shape(dout, "dout", (shape[0], int(np.prod(shape[1:]))), "the output of flatten")
    return dout.reshape(shape)
