"""2-D max, min and average pooling in numpy, forward and backward.

Pooling slides a ``kH x kW`` window over each channel separately and keeps one number per
window: the largest (max pooling), the smallest (min pooling) or the mean (average pooling).
Conventions are PyTorch's (``torch.nn.functional.max_pool2d`` and ``avg_pool2d``):

- ``stride`` defaults to ``kernel_size`` (windows side by side, no overlap);
- ``padding`` adds ``-inf`` (max), ``+inf`` (min) or zeros (average, which still divides by
  ``kH*kW``: PyTorch's default ``count_include_pad=True``), at most half the kernel per side;
- the output size is rounded down: ``H_out = floor((H + 2*pH - kH) / sH) + 1``.

``x`` may be ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)``; the output keeps the leading axes.
The loops run over the ``kH*kW`` offsets inside a window, each a whole-array operation
(:meth:`cvlib._validate.Windows.slices`), so this readable code is also the fast one. Each
forward pass is followed by its backward pass.
"""

import numpy as np

from cvlib._validate import check_array, check_pool, check_shape
from cvlib.conv import pad2d

__all__ = [
    "avg_pool2d",
    "avg_pool2d_backward",
    "binomial_filter",
    "blur_pool2d",
    "max_pool2d",
    "max_pool2d_backward",
    "min_pool2d",
]


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max pooling: ``out[..., i, j] = max_{u, v} x_pad[..., i*sH + u, j*sW + v]``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), (C, H, W) or (H, W)
    kernel_size : int or pair
        Window size ``(kH, kW)``.
    stride : int or pair, optional
        Step ``(sH, sW)`` between windows; defaults to ``kernel_size``.
    padding : int or pair, default 0
        Added on each side (``-inf`` here), at most half the kernel: ``pH <= kH // 2``.

    Returns
    -------
    out : ndarray, shape (..., H_out, W_out)
        ``H_out = floor((H + 2*pH - kH) / sH) + 1``, likewise ``W_out``.

    Raises
    ------
    TypeError, ValueError
        On a non-array ``x``, wrong dimensions, a stride below 1, padding out of range or a
        window larger than the padded input.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2)
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    >>> max_pool2d(np.zeros((8, 3, 7, 7)), 3, stride=2, padding=1).shape
    (8, 3, 4, 4)
    """
    x, win = check_pool(x, kernel_size, stride, padding)
    return _max_with_index(pad2d(x, win.pads, -np.inf), win)[0]


def max_pool2d_backward(dout, x, kernel_size, stride=None, padding=0):
    """Gradient of :func:`max_pool2d` with respect to ``x``.

    Each window's gradient goes to the position of its maximum; on ties, to the first maximum
    in row-major order, as PyTorch does. Overlapping windows add up.

    Parameters
    ----------
    dout : ndarray, shape of ``max_pool2d(x, ...)``
    x, kernel_size, stride, padding
        As given to :func:`max_pool2d`.

    Returns
    -------
    dx : ndarray, shape of ``x``

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [4.0, 3.0]])
    >>> max_pool2d_backward(np.array([[10.0]]), x, 2)
    array([[ 0.,  0.],
           [10.,  0.]])
    """
    x, win = check_pool(x, kernel_size, stride, padding)
    xp = pad2d(x, win.pads, -np.inf)  # (..., H_pad, W_pad)
    out, index = _max_with_index(xp, win)
    dout = _check_dout(dout, out.shape, xp.dtype)
    dxp = np.zeros(xp.shape, dtype=xp.dtype)
    for i, j, rows, cols in win.slices():
        dxp[..., rows, cols] += np.where(index == i * win.kernel[1] + j, dout, 0.0)
    return _crop(dxp, win.pads)


def min_pool2d(x, kernel_size, stride=None, padding=0):
    """Min pooling: ``out[..., i, j] = min_{u, v} x_pad[..., i*sH + u, j*sW + v]``.

    Equal to ``-max_pool2d(-x, ...)``; the padding is ``+inf``. Arguments, shapes and errors
    as in :func:`max_pool2d`; its backward pass is ``-max_pool2d_backward(-dout, -x, ...)``.

    Examples
    --------
    >>> min_pool2d(np.arange(16.0).reshape(4, 4), 2).shape
    (2, 2)
    """
    return -max_pool2d(-check_array(x, "x", ndims=(2, 3, 4)), kernel_size, stride, padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Average pooling: ``out[..., i, j] = mean_{u, v} x_pad[..., i*sH + u, j*sW + v]``.

    Padded zeros count in the mean (the divisor is always ``kH*kW``), as in PyTorch's default.
    Arguments, shapes and errors as in :func:`max_pool2d` (the padding is zeros here).

    Examples
    --------
    >>> avg_pool2d(np.ones((2, 5, 6, 6)), 2).shape
    (2, 5, 3, 3)
    """
    x, win = check_pool(x, kernel_size, stride, padding)
    xp = pad2d(x, win.pads)  # (..., H_pad, W_pad), zeros around
    out = np.zeros((*xp.shape[:-2], *win.out), dtype=xp.dtype)
    for _, _, rows, cols in win.slices():
        out += xp[..., rows, cols]
    return out / (win.kernel[0] * win.kernel[1])


def avg_pool2d_backward(dout, x, kernel_size, stride=None, padding=0):
    """Gradient of :func:`avg_pool2d` with respect to ``x``: each window shares its gradient
    equally, ``dout / (kH*kW)`` per pixel, and overlapping windows add up.

    Parameters
    ----------
    dout : ndarray, shape of ``avg_pool2d(x, ...)``
    x, kernel_size, stride, padding
        As given to :func:`avg_pool2d`.

    Returns
    -------
    dx : ndarray, shape of ``x``

    Examples
    --------
    >>> avg_pool2d_backward(np.ones((1, 2, 2)), np.zeros((1, 4, 4)), 2).shape
    (1, 4, 4)
    """
    x, win = check_pool(x, kernel_size, stride, padding)
    xp = pad2d(x, win.pads)  # (..., H_pad, W_pad), zeros around
    (kh, kw) = win.kernel
    share = _check_dout(dout, (*xp.shape[:-2], *win.out), xp.dtype) / (kh * kw)
    dxp = np.zeros(xp.shape, dtype=xp.dtype)
    for _, _, rows, cols in win.slices():
        dxp[..., rows, cols] += share
    return _crop(dxp, win.pads)


def binomial_filter(size):
    """The ``size x size`` binomial blur: the outer product of a row of Pascal's triangle.

    ``size`` 2 gives ``[1, 1] / 2`` per axis, 3 gives ``[1, 2, 1] / 4``, 4 gives
    ``[1, 3, 3, 1] / 8``; the weights sum to 1, so a constant image stays constant.

    Examples
    --------
    >>> binomial_filter(3) * 16
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    if not isinstance(size, int | np.integer) or isinstance(size, bool) or size < 1:
        raise ValueError(f"`size` must be a positive integer, got {size!r}")
    row = np.ones(1)
    for _ in range(size - 1):
        row = np.convolve(row, [1.0, 1.0])  # the next row of Pascal's triangle
    row /= row.sum()
    return np.outer(row, row)


def blur_pool2d(x, kernel_size=2, stride=2, blur_size=3):
    """Anti-aliased max pooling (Zhang, 2019): max with stride 1, blur, then subsample.

    Max pooling with stride ``s`` takes the maximum and subsamples in one go, and subsampling a
    map with detail finer than ``s`` pixels aliases: a one-pixel move of the input can change
    the output completely. Here the three steps come apart::

        m = max_pool2d(x, kernel_size, stride=1)         # dense maxima, (..., H - k + 1, W - k + 1)
        b = binomial_filter(blur_size) * reflect_pad(m)  # low-pass, the size of m
        out = b[..., ::stride, ::stride]

    The blur pads by reflection, ``(blur_size - 1) // 2`` before and ``blur_size // 2`` after,
    as Zhang's ``BlurPool`` does. ``blur_size=1`` is plain max pooling with stride 1, then
    subsampling: the same as ``max_pool2d(x, kernel_size, stride)``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), (C, H, W) or (H, W)
    kernel_size : int, default 2
        The max-pooling window (square).
    stride : int, default 2
        The subsampling step.
    blur_size : int, default 3
        Side of the binomial blur (:func:`binomial_filter`).

    Returns
    -------
    out : ndarray, shape (..., H_out, W_out)
        ``H_out = ceil((H - kernel_size + 1) / stride)``, likewise ``W_out``.

    Examples
    --------
    >>> blur_pool2d(np.ones((2, 3, 28, 28))).shape
    (2, 3, 14, 14)
    """
    x = check_array(x, "x", ndims=(2, 3, 4))
    for name, value in (("kernel_size", kernel_size), ("stride", stride)):
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
            raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
    dense = max_pool2d(x, kernel_size, stride=1)  # (..., H - k + 1, W - k + 1)
    weights = binomial_filter(blur_size)  # (b, b)
    before, after = (blur_size - 1) // 2, blur_size // 2
    if min(dense.shape[-2:]) <= max(before, after):
        raise ValueError(f"`x` of shape {x.shape} is too small for a blur of size {blur_size}")
    widths = [(0, 0)] * (dense.ndim - 2) + [(before, after)] * 2
    padded = np.pad(dense, widths, mode="reflect")  # (..., H - k + 1 + b - 1, ...)
    h, w = dense.shape[-2:]
    blurred = np.zeros_like(dense)
    for i in range(blur_size):
        for j in range(blur_size):
            blurred += weights[i, j] * padded[..., i : i + h, j : j + w]
    return blurred[..., ::stride, ::stride]


def _max_with_index(xp, win):
    """Window maxima and, per window, the flat offset ``i*kW + j`` of the first maximum."""
    kernel, out_hw = win.kernel, win.out
    best = np.full((*xp.shape[:-2], *out_hw), -np.inf, dtype=xp.dtype)
    index = np.zeros(best.shape, dtype=np.intp)
    for i, j, rows, cols in win.slices():
        candidate = xp[..., rows, cols]
        better = (candidate > best) | (np.isnan(candidate) & ~np.isnan(best))
        np.copyto(best, candidate, where=better)
        np.copyto(index, i * kernel[1] + j, where=better)
    return best, index


def _check_dout(dout, shape, dtype):
    dout = check_array(dout, "dout", ndims=len(shape))
    check_shape(dout, "dout", shape, "the pooling output's")
    return dout.astype(dtype, copy=False)


def _crop(xp, pads):
    """Undo the padding ``(left, right, top, bottom)`` of the last two axes, as a new array."""
    left, right, top, bottom = pads
    h, w = xp.shape[-2:]
    return np.ascontiguousarray(xp[..., top : h - bottom, left : w - right])
