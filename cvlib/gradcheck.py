"""Numerical gradients by centred differences, to check hand-written backward passes.

For a function ``f`` and an upstream gradient ``dout`` (same shape as ``f(x)``), the gradient of
the scalar ``L(x) = sum(f(x) * dout)`` is, entry by entry,

    dL/dx[k] ~ (L(x + eps*e_k) - L(x - eps*e_k)) / (2*eps)

with an error of order ``eps**2``. Compare it with a backward pass through :func:`rel_error`.
"""

import numpy as np

from cvlib._validate import as_float_array

__all__ = ["numerical_gradient", "rel_error"]


def numerical_gradient(f, x, dout=None, eps=1e-6):
    """Centred-difference gradient of ``sum(f(x) * dout)`` with respect to ``x``.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to an array (or a scalar).
    x : ndarray
        The point; computed in float64 on a copy, ``x`` itself is not changed.
    dout : ndarray, optional
        Upstream gradient, shaped like ``f(x)``; all ones by default.
    eps : float, default 1e-6
        Step of the differences.

    Returns
    -------
    grad : ndarray, float64, shape of ``x``

    Examples
    --------
    >>> g = numerical_gradient(lambda v: v**2, np.array([1.0, -2.0, 3.0]))
    >>> g.shape, np.allclose(g, [2.0, -4.0, 6.0])
    ((3,), True)
    """
    x = as_float_array(x, "x").astype(np.float64)  # a copy we may perturb
    if dout is None:
        dout = np.ones_like(np.asarray(f(x), dtype=np.float64))
    dout = np.asarray(dout, dtype=np.float64)
    grad = np.zeros_like(x)
    flat, grad_flat = x.reshape(-1), grad.reshape(-1)
    for k in range(flat.size):
        original = flat[k]
        flat[k] = original + eps
        plus = np.sum(f(x) * dout)
        flat[k] = original - eps
        minus = np.sum(f(x) * dout)
        flat[k] = original
        grad_flat[k] = (plus - minus) / (2 * eps)
    return grad


def rel_error(a, b):
    """Relative error ``max|a - b| / max(max|a|, max|b|)``; 0 when both are all zeros.

    Scaled by the largest magnitude rather than entry by entry, so that entries that cancel to
    almost zero do not blow the figure up. Around ``1e-7`` or below for a correct backward pass
    checked with :func:`numerical_gradient` in float64; around ``1e-15`` between two exact
    float64 computations.

    Examples
    --------
    >>> rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9])) < 1e-9
    True
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"`a` and `b` must have the same shape, got {a.shape} and {b.shape}")
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    return 0.0 if scale == 0 else float(np.max(np.abs(a - b)) / scale)
