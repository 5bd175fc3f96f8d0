"""Sliding-window bookkeeping shared by :mod:`cvlib.conv` and :mod:`cvlib.pool`.

Both convolution and pooling look at windows of ``kH x kW`` pixels. Instead of looping over the
``H_out x W_out`` windows, the fast code loops over the ``kH x kW`` positions *inside* a window:
for the kernel offset ``(i, j)``, the pixels that every window sees at that offset form one
strided slice of the (padded) input,

    rows = i*dilation_h, i*dilation_h + stride_h, ..., i*dilation_h + (H_out - 1)*stride_h

and likewise for the columns. That is ``kH * kW`` numpy operations on whole arrays, however large
the image.
"""

import numpy as np


def output_size(n, kernel, stride, dilation, pad_total):
    """``floor((n + pad_total - dilation*(kernel - 1) - 1) / stride) + 1`` for one dimension."""
    return (n + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def window_slices(kernel, stride, dilation, out):
    """Yield ``(i, j, rows, cols)``: per kernel offset, the slices it reads in the padded input.

    Parameters
    ----------
    kernel, stride, dilation, out : tuple of two ints
        ``(kH, kW)``, ``(sH, sW)``, ``(dH, dW)`` and ``(H_out, W_out)``.

    Examples
    --------
    >>> next(window_slices((3, 3), (2, 2), (1, 1), (4, 4)))
    (0, 0, slice(0, 7, 2), slice(0, 7, 2))
    """
    (kh, kw), (sh, sw), (dh, dw), (h_out, w_out) = kernel, stride, dilation, out
    for i in range(kh):
        rows = slice(i * dh, i * dh + (h_out - 1) * sh + 1, sh)
        for j in range(kw):
            cols = slice(j * dw, j * dw + (w_out - 1) * sw + 1, sw)
            yield i, j, rows, cols


def pad_edges(x, pads, value=0.0):
    """Pad the last two axes of ``x`` by ``pads = (top, bottom, left, right)`` with ``value``.

    Returns ``x`` itself (no copy) when every pad is zero.
    """
    top, bottom, left, right = pads
    if not any(pads):
        return x
    h, w = x.shape[-2:]
    padded = np.full((*x.shape[:-2], h + top + bottom, w + left + right), value, dtype=x.dtype)
    padded[..., top : top + h, left : left + w] = x
    return padded


def crop_edges(x, pads):
    """Undo :func:`pad_edges`: drop ``pads = (top, bottom, left, right)`` from the last two axes."""
    top, bottom, left, right = pads
    h, w = x.shape[-2:]
    return x[..., top : h - bottom, left : w - right]
