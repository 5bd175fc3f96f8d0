"""2-D convolution in numpy, read top to bottom: the loops, im2col, col2im and the backward pass.

Conventions are PyTorch's (``torch.nn.functional.conv2d``): arrays are NCHW, the operation is a
cross-correlation (the kernel is not flipped), and the arguments are called ``stride``,
``padding`` and ``dilation``. For an input ``x`` and filters ``weight``,

    out[n, f, i, j] = bias[f] + sum_{c, u, v} weight[f, c, u, v]
                                 * x_pad[n, c, i*sH + u*dH, j*sW + v*dW]

Three input forms are accepted everywhere: ``x (H, W)`` with ``weight (kH, kW)`` (one image,
one filter: the lectures), ``x (C, H, W)`` and ``x (N, C, H, W)`` with ``weight (C_out, C, kH,
kW)``. float32 stays float32 and float64 stays float64 (a mix of the two gives float64); integer
and boolean arrays are computed in float64.

The page reads as the lecture does: the naive loops (:func:`conv2d_naive`), the windows as
the columns of a matrix (:func:`im2col`) and the forward pass as one product (:func:`conv2d`),
then the way back (:func:`col2im`, :func:`conv2d_backward`). With stride 1 the same products
run faster in ``cvlib/_fast_conv.py``, the fast path, tested equal to the code here.
"""

import numpy as np

from cvlib import _fast_conv
from cvlib._validate import check_array, check_conv, check_shape, pair, windows

__all__ = [
    "col2im",
    "conv2d",
    "conv2d_backward",
    "conv2d_naive",
    "conv_output_size",
    "im2col",
    "pad2d",
]


def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    """Size of a convolution's (or pooling's) output along one dimension.

    .. math:: n_{out} = \\left\\lfloor \\frac{n + 2p - d(k - 1) - 1}{s} \\right\\rfloor + 1

    With ``dilation = 1`` this is the lectures' ``floor((n + 2p - f) / s) + 1``.

    Parameters
    ----------
    n : int or pair
        Input size ``n`` (height, width or both).
    kernel_size : int or pair
        Kernel size ``k`` (the lectures' ``f``).
    stride, padding, dilation
        ``s``, ``p`` and ``d``, as in :func:`conv2d`.

    Returns
    -------
    int, or a tuple of two ints if any argument was a pair.

    Raises
    ------
    ValueError
        If the (dilated) kernel is larger than the padded input.

    Examples
    --------
    >>> conv_output_size(6, 3)
    4
    >>> conv_output_size(7, 3, stride=2, padding=1)
    4
    >>> conv_output_size((32, 30), 3, padding="same")
    (32, 30)
    """
    is_pair = any(isinstance(a, tuple | list) for a in (n, kernel_size, stride, padding, dilation))
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    out = windows(pair(n, "n", minimum=1), kernel, stride, padding, dilation).out
    return out if is_pair else out[0]


def pad2d(x, padding, value=0):
    """Pad the last two axes (height, width) of ``x`` with a constant.

    Parameters
    ----------
    x : ndarray, shape (..., H, W)
    padding : int, pair or 4-tuple
        ``p`` pads every side; ``(pH, pW)`` pads top and bottom by ``pH``, left and right by
        ``pW``; ``(left, right, top, bottom)`` follows ``torch.nn.functional.pad``, and is the
        one order of padding sides in the whole numpy core.
    value : float, default 0
        The fill value.

    Returns
    -------
    ndarray, shape (..., H + top + bottom, W + left + right)
        ``x`` itself when every side is 0.

    Examples
    --------
    >>> pad2d(np.ones((3, 2, 5, 5)), 1).shape
    (3, 2, 7, 7)
    >>> pad2d(np.ones((4, 4)), (0, 1, 2, 0)).shape
    (6, 5)
    """
    x = check_array(x, "x", ndims=range(2, 33))
    if isinstance(padding, tuple | list) and len(padding) == 4:
        left, right = pair(tuple(padding[:2]), "padding")
        top, bottom = pair(tuple(padding[2:]), "padding")
    else:
        (top, left) = (bottom, right) = pair(padding, "padding")
    if not any((left, right, top, bottom)):
        return x
    h, w = x.shape[-2:]
    padded = np.full((*x.shape[:-2], top + h + bottom, left + w + right), value, dtype=x.dtype)
    padded[..., top : top + h, left : left + w] = x
    return padded


# --- 1. the naive loops: one dot product per output pixel -----------------------------------


def conv2d_naive(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2-D convolution with plain loops: one dot product per output pixel.

    Same arguments, result and errors as :func:`conv2d`; this is the version to read first,
    and it is several hundred times slower.

    Examples
    --------
    >>> image = np.array([[10, 10, 10, 0, 0, 0]] * 6)
    >>> edge = np.array([[1, 0, -1]] * 3)
    >>> conv2d_naive(image, edge)[0]
    array([ 0., 30., 30.,  0.])
    """
    x4, w4, b, win = check_conv(x, weight, bias, stride, padding, dilation)
    xp = pad2d(x4, win.pads)  # (N, C, H_pad, W_pad)
    (kh, kw), (sh, sw), (dh, dw) = win.kernel, win.stride, win.dilation
    h_out, w_out = win.out
    out = np.zeros((x4.shape[0], w4.shape[0], h_out, w_out), dtype=x4.dtype)
    for n in range(x4.shape[0]):
        for f in range(w4.shape[0]):
            for i in range(h_out):
                for j in range(w_out):
                    rows = slice(i * sh, i * sh + dh * (kh - 1) + 1, dh)
                    cols = slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)
                    patch = xp[n, :, rows, cols]  # (C, kH, kW)
                    out[n, f, i, j] = np.sum(patch * w4[f])
            if b is not None:
                out[n, f] += b[f]
    return _unbatch(out, np.ndim(x))


# --- 2. im2col: the windows as columns, the convolution as one matrix product ---------------


def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """The windows of ``x`` as the columns of a matrix: convolution becomes one matrix product.

    Column ``p`` holds the ``C*kH*kW`` input values that output pixel ``p`` (row-major) sees,
    ordered channel, kernel row, kernel column, the order of ``weight.reshape(C_out, -1)``. So
    ``weight.reshape(C_out, -1) @ im2col(x, ...)`` is :func:`conv2d` with the output pixels
    laid out in one row per filter. (``torch.nn.functional.unfold`` computes the same matrix.)

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), (C, H, W) or (H, W)
    kernel_size : int or pair
    stride, padding, dilation
        As in :func:`conv2d`.

    Returns
    -------
    cols : ndarray
        ``(N, C*kH*kW, H_out*W_out)`` for a batch, ``(C*kH*kW, H_out*W_out)`` for ``(C, H, W)``
        and ``(kH*kW, H_out*W_out)`` for ``(H, W)``; float dtype as in :func:`conv2d`.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(4, 4)
    >>> im2col(x, 3)  # 4 windows of 3 x 3, one per column
    array([[ 0.,  1.,  4.,  5.],
           [ 1.,  2.,  5.,  6.],
           [ 2.,  3.,  6.,  7.],
           [ 4.,  5.,  8.,  9.],
           [ 5.,  6.,  9., 10.],
           [ 6.,  7., 10., 11.],
           [ 8.,  9., 12., 13.],
           [ 9., 10., 13., 14.],
           [10., 11., 14., 15.]])
    >>> rng = np.random.default_rng(0)
    >>> x, w = rng.standard_normal((3, 8, 8)), rng.standard_normal((4, 3, 3, 3))
    >>> out = w.reshape(4, -1) @ im2col(x, 3, padding=1)  # (C_out, H_out*W_out)
    >>> np.allclose(out.reshape(4, 8, 8), conv2d(x, w, padding=1))
    True
    """
    x = check_array(x, "x", ndims=(2, 3, 4))
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    win = windows(x.shape[-2:], kernel, stride, padding, dilation)
    cols = _im2col(x.reshape((1,) * (4 - x.ndim) + x.shape), win)  # (N, C*kH*kW, L)
    return cols if x.ndim == 4 else cols[0]


def _im2col(x4, win):
    """``(N, C*kH*kW, H_out*W_out)`` windows of ``x4 (N, C, H, W)``: one strided copy per tap."""
    n, c = x4.shape[:2]
    xp = pad2d(x4, win.pads)  # (N, C, H_pad, W_pad)
    cols = np.empty((n, c, *win.kernel, *win.out), dtype=x4.dtype)
    for i, j, rows, columns in win.slices():
        cols[:, :, i, j] = xp[:, :, rows, columns]  # (N, C, H_out, W_out)
    return cols.reshape(n, c * win.kernel[0] * win.kernel[1], -1)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, *, fast=True):
    """2-D convolution (cross-correlation), vectorised with im2col and one matrix product.

    The windows of the padded input are copied into the columns of a matrix ``cols`` of shape
    ``(N, C*kH*kW, H_out*W_out)`` (:func:`im2col`), so the whole convolution becomes the product
    ``weight.reshape(C_out, C*kH*kW) @ cols``, which BLAS computes fast.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), (C, H, W) or (H, W)
        Input images.
    weight : ndarray, shape (C_out, C, kH, kW), or (kH, kW) when ``x`` is 2-D
        Filters.
    bias : ndarray, shape (C_out,), optional
        One value added per output channel (a scalar for 2-D ``x``).
    stride : int or pair, default 1
        Step ``(sH, sW)`` between windows.
    padding : int, pair, "same" or "valid", default 0
        Zeros added on each side. ``"same"`` (stride 1 only) pads so that the output has the input's
        size, putting the odd pixel at the bottom/right as PyTorch does; ``"valid"`` is 0.
    dilation : int or pair, default 1
        Spacing ``(dH, dW)`` between kernel taps.
    fast : bool, default True
        With stride 1, run the same products on the fast path (``cvlib/_fast_conv.py``: a
        flattened padded grid, a few images at a time, on threads); False runs the code of this
        page whatever the stride. Both give the same result up to rounding.

    Returns
    -------
    out : ndarray, shape (N, C_out, H_out, W_out), (C_out, H_out, W_out) or (H_out, W_out)
        ``H_out = floor((H + 2*pH - dH*(kH - 1) - 1) / sH) + 1``, likewise ``W_out``.

    Raises
    ------
    TypeError
        If an array argument is not a numpy array, or an int argument is not an int.
    ValueError
        On wrong dimensions or channels, a kernel larger than the padded input, a stride or
        dilation below 1, bad padding (``"same"`` needs stride 1) or a bias of the wrong length.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((2, 3, 8, 8), dtype=np.float32)
    >>> w = np.ones((4, 3, 3, 3), dtype=np.float32)
    >>> out = conv2d(x, w, padding=1, stride=2)
    >>> out.shape, out.dtype
    ((2, 4, 4, 4), dtype('float32'))
    """
    x4, w4, b, win = check_conv(x, weight, bias, stride, padding, dilation)
    if fast and _fast_conv.pays(win):
        return _unbatch(_fast_conv.conv2d(x4, w4, b, win), np.ndim(x))
    n, c_out = x4.shape[0], w4.shape[0]
    cols = _im2col(x4, win)  # (N, C*kH*kW, H_out*W_out)
    out = w4.reshape(c_out, -1) @ cols  # (N, C_out, H_out*W_out)
    if b is not None:
        out += b[:, None]
    return _unbatch(out.reshape(n, c_out, *win.out), np.ndim(x))


# --- 3. the way back: col2im and the gradients --------------------------------------------


def col2im(cols, x_shape, kernel_size, stride=1, padding=0, dilation=1):
    """The transpose of :func:`im2col`: add every column entry back onto the pixel it came from.

    A pixel that several windows share receives the sum of their entries, so
    ``sum(im2col(x) * cols) == sum(x * col2im(cols))`` for every ``x``. The backward pass of
    :func:`conv2d` is ``dx = col2im(weight_mat.T @ dout_mat)``.

    Parameters
    ----------
    cols : ndarray, shape of ``im2col(x, kernel_size, ...)``
    x_shape : tuple
        The shape of ``x``: ``(N, C, H, W)``, ``(C, H, W)`` or ``(H, W)``.
    kernel_size, stride, padding, dilation
        As given to :func:`im2col`.

    Returns
    -------
    ndarray, shape ``x_shape``

    Examples
    --------
    >>> col2im(np.ones((9, 4)), (4, 4), 3)  # how many windows see each pixel
    array([[1., 2., 2., 1.],
           [2., 4., 4., 2.],
           [2., 4., 4., 2.],
           [1., 2., 2., 1.]])
    """
    if len(x_shape) not in (2, 3, 4):
        raise ValueError(f"`x_shape` must have 2, 3 or 4 entries, got {tuple(x_shape)}")
    shape4 = (1,) * (4 - len(x_shape)) + tuple(x_shape)  # (N, C, H, W)
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    win = windows(shape4[2:], kernel, stride, padding, dilation)
    expected = (shape4[0], shape4[1] * kernel[0] * kernel[1], win.out[0] * win.out[1])
    cols = check_array(cols, "cols", ndims=3 if len(x_shape) == 4 else 2)
    check_shape(cols, "cols", expected[3 - cols.ndim :], "the shape of `im2col(x, ...)`")
    return _col2im(cols.reshape(expected), shape4, win).reshape(x_shape)


def _col2im(cols, x_shape, win):
    """``(N, C, H, W)`` sum of ``cols (N, C*kH*kW, H_out*W_out)`` onto the windows' pixels."""
    n, c, h, w = x_shape
    left, right, top, bottom = win.pads
    dxp = np.zeros((n, c, top + h + bottom, left + w + right), dtype=cols.dtype)
    cols = cols.reshape(n, c, *win.kernel, *win.out)  # (N, C, kH, kW, H_out, W_out)
    for i, j, rows, columns in win.slices():
        dxp[:, :, rows, columns] += cols[:, :, i, j]  # overlapping windows add up
    return np.ascontiguousarray(dxp[:, :, top : top + h, left : left + w])


def conv2d_backward(dout, x, weight, stride=1, padding=0, dilation=1, *, fast=True):
    """Gradients of :func:`conv2d` with respect to its input, weight and bias.

    With ``cols = im2col(x)`` ``(N, C*kH*kW, L)`` and ``dout_mat = dout`` as ``(N, C_out, L)``
    (``L = H_out*W_out``), summing over the images ``n``:

    - ``dweight = sum_n dout_mat[n] @ cols[n].T``, the forward product turned around;
    - ``dx = col2im(weight_mat.T @ dout_mat)``: each window's gradient goes back onto the
      pixels it was copied from, and overlapping windows add up;
    - ``dbias = dout.sum(over N, H_out, W_out)``.

    Parameters
    ----------
    dout : ndarray, shape of ``conv2d(x, weight, ...)``
        Upstream gradient.
    x, weight, stride, padding, dilation, fast
        As given to :func:`conv2d`.

    Returns
    -------
    dx : ndarray, shape of ``x``
    dweight : ndarray, shape of ``weight``
    dbias : ndarray, shape (C_out,) (``(1,)`` for 2-D ``x``)

    Examples
    --------
    >>> x = np.ones((2, 3, 5, 5)); w = np.ones((4, 3, 3, 3))
    >>> dx, dw, db = conv2d_backward(np.ones((2, 4, 5, 5)), x, w, padding="same")
    >>> dx.shape, dw.shape, db.shape
    ((2, 3, 5, 5), (4, 3, 3, 3), (4,))
    """
    x4, w4, _, win = check_conv(x, weight, None, stride, padding, dilation)
    n, c_out = x4.shape[0], w4.shape[0]
    dout = check_array(dout, "dout", ndims=np.ndim(x))
    check_shape(dout, "dout", (n, c_out, *win.out)[4 - np.ndim(x) :], "the output's")
    dout4 = dout.astype(x4.dtype, copy=False).reshape(n, c_out, *win.out)
    if fast and _fast_conv.pays(win):
        dx4, dweight, dbias = _fast_conv.conv2d_backward(dout4, x4, w4, win)
    else:
        dbias = dout4.sum(axis=(0, 2, 3))  # (C_out,)
        dout_mat = dout4.reshape(n, c_out, -1)  # (N, C_out, L)
        cols = _im2col(x4, win)  # (N, C*kH*kW, L)
        dweight = (dout_mat @ cols.transpose(0, 2, 1)).sum(axis=0)  # (C_out, C*kH*kW)
        dcols = w4.reshape(c_out, -1).T @ dout_mat  # (N, C*kH*kW, L)
        dx4 = _col2im(dcols, x4.shape, win)  # (N, C, H, W)
    return _unbatch(dx4, np.ndim(x)), dweight.reshape(np.shape(weight)), dbias


def _unbatch(y, ndim):
    """``y (N, C, H, W)`` back in the caller's form: ``ndim`` 4, 3 (``N = 1``) or 2 (``C = 1``)."""
    return y.reshape(y.shape[4 - ndim :])
