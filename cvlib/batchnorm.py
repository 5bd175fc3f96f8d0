"""Batch normalisation in numpy, forward next to backward, in training and evaluation mode.

Conventions are PyTorch's (``torch.nn.functional.batch_norm``, ``nn.BatchNorm2d``). Each channel
``c`` is normalised over every other axis, the batch and (for images) the pixels: for
``x (N, C, H, W)`` the ``M = N*H*W`` values of channel ``c`` share one mean and one variance.

- **training**: the statistics are those of the batch, ``mean_c`` and the *biased* variance
  ``var_c = sum (x - mean_c)**2 / M``; the running estimates move towards them,
  ``running_mean <- (1 - momentum) * running_mean + momentum * mean_c`` and likewise
  ``running_var`` with the *unbiased* variance ``var_c * M / (M - 1)``;
- **evaluation**: the running estimates take the place of the batch's statistics, so every image
  gets the same answer whatever else is in its batch.

Then ``out = weight * (x - mean) / sqrt(var + eps) + bias`` with one ``weight`` (gamma) and one
``bias`` (beta) per channel. The functions return new running estimates rather than changing the
arrays they were given (PyTorch updates its buffers in place).
"""

import numpy as np

from cvlib._validate import check_array, check_batch_norm, check_shape

__all__ = ["batch_norm", "batch_norm_backward"]


def batch_norm(
    x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
):
    """Batch normalisation: ``out = weight * (x - mean) / sqrt(var + eps) + bias`` per channel.

    .. math::

        \\mu_c = \\frac{1}{M} \\sum_{n,h,w} x_{nchw}, \\quad
        \\sigma_c^2 = \\frac{1}{M} \\sum_{n,h,w} (x_{nchw} - \\mu_c)^2, \\quad
        y_{nchw} = \\gamma_c \\frac{x_{nchw} - \\mu_c}{\\sqrt{\\sigma_c^2 + \\epsilon}} + \\beta_c

    In training mode ``mean, var`` are the batch's ``mu_c, sigma_c**2`` and the running estimates
    are updated (the variance unbiased: ``sigma_c**2 * M / (M - 1)``); in evaluation mode
    ``mean, var`` are ``running_mean, running_var``, which come back unchanged.

    Shape
    -----
    x : (N, C, H, W), or (N, C) after a dense layer, or (N, C, L)
    running_mean, running_var, weight, bias : (C,)
    out : shape of ``x``
    Parameters
    ----------
    x : ndarray
        Input with channels on axis 1.
    running_mean, running_var : ndarray or None
        Running estimates of each channel's mean and variance (PyTorch starts them at 0 and 1).
        ``None`` in training mode tracks nothing (then ``None`` comes back).
    weight, bias : ndarray, optional
        ``gamma`` and ``beta``; 1 and 0 when omitted.
    training : bool, default False
        Use (and learn from) the batch's statistics; PyTorch's default is False too.
    momentum : float in [0, 1], default 0.1
        Weight of the new batch in the running estimates.
    eps : float >= 0, default 1e-5
        Added to the variance before the square root.

    Returns
    -------
    out : ndarray, shape of ``x``
    running_mean, running_var : ndarray, shape (C,), or None
        The updated estimates (training) or the given ones (evaluation).

    Raises
    ------
    TypeError, ValueError
        On a non-array, a wrong number of dimensions, a per-channel array of the wrong length,
        missing running estimates in evaluation mode, a momentum outside [0, 1], a negative
        eps, or a training batch with a single value per channel.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(3.0, 2.0, size=(8, 4, 5, 5))
    >>> out, mean, var = batch_norm(x, np.zeros(4), np.ones(4), training=True)
    >>> out.shape, bool(np.allclose(out.mean(axis=(0, 2, 3)), 0)), mean.shape
    ((8, 4, 5, 5), True, (4,))
    >>> bool(np.allclose(mean, 0.1 * x.mean(axis=(0, 2, 3))))
    True
    """
    x, running_mean, running_var = check_batch_norm(
        x, running_mean, running_var, weight, training, momentum, eps
    )
    axes, channel = _per_channel(x)
    gamma, beta = _affine(weight, bias, channel, x.dtype)
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)  # (C,), the biased variance
        count = x.size // x.shape[1]  # M = N*H*W values per channel
        if running_mean is not None:
            unbiased = var * count / (count - 1)
            running_mean = (1 - momentum) * running_mean + momentum * mean
            running_var = (1 - momentum) * running_var + momentum * unbiased
    else:
        mean, var = running_mean.astype(x.dtype), running_var.astype(x.dtype)
    x_hat = (x - mean.reshape(channel)) / np.sqrt(var.reshape(channel) + eps)  # shape of x
    return gamma * x_hat + beta, running_mean, running_var


def batch_norm_backward(dout, x, running_mean, running_var, weight=None, training=False, eps=1e-5):
    """Gradients of :func:`batch_norm` with respect to ``x``, ``weight`` and ``bias``.

    With ``x_hat = (x - mean) / sqrt(var + eps)`` and ``g = dout * weight``, summing over the
    ``M`` values of each channel:

    - ``dbias = sum dout`` and ``dweight = sum dout * x_hat`` in both modes;
    - training: the batch's mean and variance depend on ``x`` too, which gives
      ``dx = (M*g - sum g - x_hat * sum(g * x_hat)) / (M * sqrt(var + eps))``;
    - evaluation: the running estimates are constants, so ``dx = g / sqrt(running_var + eps)``.

    ``momentum`` plays no part: the running estimates do not feed back into this batch's loss.

    Shape
    -----
    x : (N, C, H, W), or (N, C) after a dense layer, or (N, C, L)
    running_mean, running_var, weight, bias : (C,)
    dout, dx : shape of ``x``
    Parameters
    ----------
    dout : ndarray, shape of ``x``
        Upstream gradient.
    x, running_mean, running_var, weight, training, eps
        As given to :func:`batch_norm` (in training mode the running estimates are not used and
        may be ``None``).

    Returns
    -------
    dx : ndarray, shape of ``x``
    dweight, dbias : ndarray, shape (C,)
        (Computed also when ``weight`` was omitted, as the gradients of its implicit ones.)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, dout = rng.normal(size=(4, 3, 2, 2)), rng.normal(size=(4, 3, 2, 2))
    >>> dx, dweight, dbias = batch_norm_backward(dout, x, None, None, np.ones(3), training=True)
    >>> dx.shape, dweight.shape, bool(np.allclose(dx.sum(axis=(0, 2, 3)), 0))
    ((4, 3, 2, 2), (3,), True)
    """
    x, running_mean, running_var = check_batch_norm(
        x, running_mean, running_var, weight, training, 0.0, eps
    )
    axes, channel = _per_channel(x)
    dout = check_array(dout, "dout", ndims=x.ndim)
    check_shape(dout, "dout", x.shape, "the shape of `x`")
    dout = dout.astype(x.dtype, copy=False)
    gamma, _ = _affine(weight, None, channel, x.dtype)
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)  # (C,)
    else:
        mean, var = running_mean.astype(x.dtype), running_var.astype(x.dtype)
    inv_std = 1.0 / np.sqrt(var.reshape(channel) + eps)  # (1, C, 1, 1)
    x_hat = (x - mean.reshape(channel)) * inv_std  # shape of x
    dbias = dout.sum(axis=axes)  # (C,)
    dweight = (dout * x_hat).sum(axis=axes)  # (C,)
    g = dout * gamma  # dL/dx_hat, shape of x
    if not training:
        return g * inv_std, dweight, dbias
    count = x.size // x.shape[1]  # M
    g_sum = g.sum(axis=axes, keepdims=True)  # (1, C, 1, 1)
    g_dot = (g * x_hat).sum(axis=axes, keepdims=True)  # (1, C, 1, 1)
    dx = (count * g - g_sum - x_hat * g_dot) * (inv_std / count)  # shape of x
    return dx, dweight, dbias


def _per_channel(x):
    """The axes a channel's statistics sum over, ``(0, 2, 3)``, and the shape ``(1, C, 1, 1)``
    that broadcasts a ``(C,)`` array over ``x``."""
    return (0, *range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _affine(weight, bias, channel, dtype):
    """``gamma`` and ``beta`` shaped to broadcast over ``x`` (ones and zeros when omitted)."""
    gamma = np.ones(channel, dtype) if weight is None else weight.reshape(channel).astype(dtype)
    if bias is None:
        return gamma, np.zeros(channel, dtype)
    bias = check_array(bias, "bias", ndims=1)
    check_shape(bias, "bias", (channel[1],), "one per channel")
    return gamma, bias.reshape(channel).astype(dtype)
