"""Window geometry shared by :mod:`cvlib.conv` and :mod:`cvlib.pool`: one type, one size check.

Both convolution and pooling look at windows of ``kH x kW`` pixels. Instead of looping over the
``H_out x W_out`` windows, the fast code loops over the ``kH x kW`` positions *inside* a window:
for the kernel offset ``(i, j)``, the pixels that every window sees at that offset form one
strided slice of the (padded) input,

    rows = i*dilation_h, i*dilation_h + stride_h, ..., i*dilation_h + (H_out - 1)*stride_h

and likewise for the columns. That is ``kH * kW`` numpy operations on whole arrays, however large
the image.
"""

from dataclasses import dataclass

import numpy as np

from cvlib._validate import pair

__all__ = [
    "Geometry",
    "crop_edges",
    "geometry",
    "output_size",
    "pad_edges",
    "resolve_padding",
    "window_slices",
]


@dataclass(frozen=True)
class Geometry:
    """Everything about a layer's windows, as pairs ``(height, width)``.

    ``pads`` is ``(top, bottom, left, right)``; ``out`` is ``(H_out, W_out)``. Pooling has
    ``dilation == (1, 1)``.
    """

    kernel: tuple
    stride: tuple
    dilation: tuple
    pads: tuple
    out: tuple

    def slices(self):
        """:func:`window_slices` of this geometry."""
        return window_slices(self.kernel, self.stride, self.dilation, self.out)


def output_size(n, kernel, stride, dilation, pad_total):
    """``floor((n + pad_total - dilation*(kernel - 1) - 1) / stride) + 1`` for one dimension."""
    return (n + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def geometry(in_hw, kernel, stride, dilation, pads, what="`kernel_size`"):
    """The :class:`Geometry` of windows over an input of size ``in_hw``, or a clear error.

    Every function of the numpy core reports a window that does not fit with this one message.

    Examples
    --------
    >>> geometry((7, 7), (3, 3), (2, 2), (1, 1), (1, 1, 1, 1)).out
    (4, 4)
    >>> geometry((2, 2), (3, 3), (1, 1), (1, 1), (0, 0, 0, 0))
    Traceback (most recent call last):
    ...
    ValueError: `kernel_size` (3, 3) is larger than the padded input (2, 2)
    """
    padded = (in_hw[0] + pads[0] + pads[1], in_hw[1] + pads[2] + pads[3])
    out = tuple(output_size(padded[a], kernel[a], stride[a], dilation[a], 0) for a in range(2))
    if min(out) < 1:
        spread = "" if tuple(dilation) == (1, 1) else f" with dilation {tuple(dilation)}"
        raise ValueError(f"{what} {tuple(kernel)}{spread} is larger than the padded input {padded}")
    return Geometry(tuple(kernel), tuple(stride), tuple(dilation), tuple(pads), out)


def resolve_padding(padding, kernel, stride, dilation):
    """Turn ``padding`` (int, pair, "same", "valid") into ``(top, bottom, left, right)``.

    ``"same"`` pads ``dilation*(k - 1)`` in total per dimension, ``total // 2`` before and the rest
    after, exactly as PyTorch does; it needs stride 1.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(
                f'`padding` must be an int, a pair, "same" or "valid", got {padding!r}'
            )
        if stride != (1, 1):
            raise ValueError(
                f'`padding="same"` needs stride 1 (as in PyTorch), got stride {stride}'
            )
        total_h, total_w = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)
        return (total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2)
    ph, pw = pair(padding, "padding")
    return (ph, ph, pw, pw)


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
