"""2-D convolution in numpy: output size, padding, forward (fast and naive) and backward.

Conventions are PyTorch's (``torch.nn.functional.conv2d``): arrays are NCHW, the operation is a
cross-correlation (the kernel is not flipped), and the arguments are called ``stride``,
``padding`` and ``dilation``. For an input ``x`` and filters ``weight``,

    out[n, f, i, j] = bias[f] + sum_{c, u, v} weight[f, c, u, v]
                                 * x_pad[n, c, i*sH + u*dH, j*sW + v*dW]

Three input forms are accepted everywhere:

- ``x (H, W)`` with ``weight (kH, kW)`` -> ``(H_out, W_out)``: one image, one filter (the lectures);
- ``x (C, H, W)`` with ``weight (C_out, C, kH, kW)`` -> ``(C_out, H_out, W_out)``;
- ``x (N, C, H, W)`` with ``weight (C_out, C, kH, kW)`` -> ``(N, C_out, H_out, W_out)``.

float32 stays float32 and float64 stays float64 (a mix of the two gives float64); integer and
boolean arrays are computed in float64.
"""

import numpy as np

from cvlib import _conv_flat
from cvlib._conv_setup import prepare
from cvlib._geometry import crop_edges, geometry, pad_edges, resolve_padding
from cvlib._validate import check_array, check_shape, pair

__all__ = ["conv2d", "conv2d_backward", "conv2d_naive", "conv_output_size", "im2col", "pad2d"]

_CHUNK_ELEMENTS = 2**21  # im2col buffer: 8 MB in float32, few BLAS calls yet cache-sized


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
    stride : int or pair, default 1
        Step ``s`` between windows.
    padding : int, pair, "same" or "valid", default 0
        Zeros ``p`` added on each side; ``"same"`` keeps ``n`` (stride 1), ``"valid"`` is 0.
    dilation : int or pair, default 1
        Spacing ``d`` between kernel taps.

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
    n = pair(n, "n", minimum=1)
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    stride = pair(stride, "stride", minimum=1)
    dilation = pair(dilation, "dilation", minimum=1)
    pads = resolve_padding(padding, kernel, stride, dilation)
    out = geometry(n, kernel, stride, dilation, pads).out
    return out if is_pair else out[0]


def pad2d(x, padding, value=0):
    """Pad the last two axes (height, width) of ``x`` with a constant.

    Parameters
    ----------
    x : ndarray, shape (..., H, W)
    padding : int, pair or 4-tuple
        ``p`` pads every side; ``(pH, pW)`` pads top and bottom by ``pH``, left and right by
        ``pW``; ``(left, right, top, bottom)`` follows ``torch.nn.functional.pad``.
    value : float, default 0
        The fill value.

    Returns
    -------
    ndarray, shape (..., H + top + bottom, W + left + right)

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
    return pad_edges(x, (top, bottom, left, right), value)


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
    conv_output_size(x.shape[-2:], kernel, stride, padding, dilation)  # validates the rest
    shape = kernel if x.ndim == 2 else (1, x.shape[-3], *kernel)  # a stand-in weight
    x4, _, _, geom, _ = prepare(x, np.zeros(shape, x.dtype), None, stride, padding, dilation)
    xp = pad_edges(x4, geom.pads)  # (N, C, H_pad, W_pad)
    n, c = x4.shape[:2]
    cols = np.empty((n, c, *geom.kernel, *geom.out), dtype=x4.dtype)
    for i, j, rows, columns in geom.slices():
        cols[:, :, i, j] = xp[:, :, rows, columns]  # (N, C, H_out, W_out)
    cols = cols.reshape(n, c * kernel[0] * kernel[1], -1)  # (N, C*kH*kW, H_out*W_out)
    return cols if x.ndim == 4 else cols[0]


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2-D convolution (cross-correlation), vectorised with im2col and one matrix product.

    The windows of the padded input are copied into the columns of a matrix ``cols`` of shape
    ``(C*kH*kW, N*H_out*W_out)`` (*im2col*), so the whole convolution becomes the product
    ``weight.reshape(C_out, C*kH*kW) @ cols``, which BLAS computes fast (see :func:`im2col`). The
    batch is processed a few images at a time so that ``cols`` stays small enough for the CPU
    cache; with stride 1 the windows are taken from a flattened padded grid, which makes every
    copy contiguous (``cvlib/_conv_flat.py``).

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

    Returns
    -------
    out : ndarray, shape (N, C_out, H_out, W_out), (C_out, H_out, W_out) or (H_out, W_out)
        ``H_out = floor((H + 2*pH - dH*(kH - 1) - 1) / sH) + 1``, likewise ``W_out``.

    Raises
    ------
    TypeError
        If an array argument is not a numpy array, or an int argument is not an int.
    ValueError
        On wrong dimensions, a channel mismatch, a kernel larger than the padded input, a stride
        or dilation below 1, negative padding, an unknown padding word, ``"same"`` with stride
        above 1, or a bias of the wrong length.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((2, 3, 8, 8), dtype=np.float32)
    >>> w = np.ones((4, 3, 3, 3), dtype=np.float32)
    >>> out = conv2d(x, w, padding=1, stride=2)
    >>> out.shape, out.dtype
    ((2, 4, 4, 4), dtype('float32'))
    """
    x4, w4, b, geom, unbatch = prepare(x, weight, bias, stride, padding, dilation)
    if geom.stride == (1, 1):
        return unbatch(_conv_flat.correlate(x4, w4, geom, b))  # (N, C_out, H_out, W_out)
    out = _correlate(pad_edges(x4, geom.pads), w4, geom)
    if b is not None:
        out += b[:, None, None]
    return unbatch(out)


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
    x4, w4, b, geom, unbatch = prepare(x, weight, bias, stride, padding, dilation)
    xp = pad_edges(x4, geom.pads)  # (N, C, H_pad, W_pad)
    (kh, kw), (sh, sw), (dh, dw) = geom.kernel, geom.stride, geom.dilation
    h_out, w_out = geom.out
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
    return unbatch(out)


def conv2d_backward(dout, x, weight, stride=1, padding=0, dilation=1):
    """Gradients of :func:`conv2d` with respect to its input, weight and bias.

    Given ``dout = dL/dout``:

    - ``dweight = dout_mat @ cols.T``: one matrix product with the forward's im2col matrix
      (computed as its transpose ``cols @ dout_mat.T``, which BLAS does faster);
    - ``dx``: ``dcols = weight_mat.T @ dout_mat``, then *col2im* adds each column back onto the
      pixels it was copied from (one strided add per kernel offset, so overlapping windows
      accumulate);
    - ``dbias = dout.sum(over N, H_out, W_out)``.

    With stride 1 both products run on the flattened padded grid of ``cvlib/_conv_flat.py``, a
    few images at a time, so that col2im becomes ``kH*kW`` contiguous adds.

    Parameters
    ----------
    dout : ndarray, shape of ``conv2d(x, weight, ...)``
        Upstream gradient.
    x, weight, stride, padding, dilation
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
    x4, w4, _, geom, unbatch = prepare(x, weight, None, stride, padding, dilation)
    n, c_out = x4.shape[0], w4.shape[0]
    dout = check_array(dout, "dout", ndims=np.ndim(x))
    check_shape(dout, "dout", (n, c_out, *geom.out)[4 - np.ndim(x) :], "the output's")
    dout4 = dout.astype(x4.dtype, copy=False).reshape(n, c_out, -1)  # (N, C_out, H_out*W_out)

    if geom.stride == (1, 1):
        dx4, dweight = _conv_flat.backward(dout4.reshape(n, c_out, *geom.out), x4, w4, geom)
        return unbatch(dx4), dweight.reshape(np.shape(weight)), dout4.sum(axis=(0, 2))

    xp = pad_edges(x4, geom.pads)  # (N, C, H_pad, W_pad)
    dxp = np.zeros(xp.shape, dtype=x4.dtype)
    dweight_t = np.zeros((w4[0].size, c_out), dtype=x4.dtype)  # (C*kH*kW, C_out)
    w_mat_t = w4.reshape(c_out, -1).T  # (C*kH*kW, C_out)
    for n0, n1, cols in _im2col_chunks(xp, geom):
        d = dout4[n0:n1].transpose(1, 0, 2).reshape(c_out, -1)  # (C_out, (n1-n0)*H_out*W_out)
        dweight_t += cols @ d.T  # the transposed product: the faster orientation for BLAS
        _col2im_add(dxp[n0:n1], w_mat_t @ d, geom)  # dcols (C*kH*kW, (n1-n0)*H_out*W_out)
    dx4 = np.ascontiguousarray(crop_edges(dxp, geom.pads))  # (N, C, H, W)
    return unbatch(dx4), dweight_t.T.reshape(np.shape(weight)), dout4.sum(axis=(0, 2))


def _correlate(xp, w4, geom):
    """``(N, C_out, H_out, W_out)`` correlation of an already padded ``xp`` with ``w4``."""
    n, c_out = xp.shape[0], w4.shape[0]
    w_mat = w4.reshape(c_out, -1)  # (C_out, C*kH*kW)
    out = np.empty((n, c_out, geom.out[0] * geom.out[1]), dtype=xp.dtype)
    for n0, n1, cols in _im2col_chunks(xp, geom):
        y = w_mat @ cols  # (C_out, (n1-n0)*H_out*W_out)
        out[n0:n1] = y.reshape(c_out, n1 - n0, -1).transpose(1, 0, 2)
    return out.reshape(n, c_out, *geom.out)


def _col2im_add(dxp, dcols, geom):
    """Inverse of im2col: add every column entry back onto the padded-input pixel it came from.

    ``dxp (n, C, H_pad, W_pad)`` is updated in place from ``dcols (C*kH*kW, n*H_out*W_out)``;
    one strided add per kernel offset, so pixels shared by overlapping windows accumulate.
    """
    n, c = dxp.shape[:2]
    dcols = dcols.reshape(c, *geom.kernel, n, *geom.out)  # (C, kH, kW, n, H_out, W_out)
    for i, j, rows, cols in geom.slices():
        dxp[:, :, rows, cols] += dcols[:, i, j].transpose(1, 0, 2, 3)


def _im2col_chunks(xp, geom):
    """Yield ``(n0, n1, cols)``, the im2col matrix of images ``n0:n1`` of the padded input.

    ``cols`` has shape ``(C*kH*kW, (n1-n0)*H_out*W_out)``; row ``(c, i, j)`` holds pixel
    ``(i, j)`` of every window of channel ``c``. The buffer is reused: use ``cols`` before asking
    for the next chunk.
    """
    n, c = xp.shape[:2]
    (kh, kw), (h_out, w_out) = geom.kernel, geom.out
    step = max(1, _CHUNK_ELEMENTS // (c * kh * kw * h_out * w_out))
    buffer = np.empty(c * kh * kw * min(step, n) * h_out * w_out, dtype=xp.dtype)
    for n0 in range(0, n, step):
        n1 = min(n0 + step, n)
        cols = buffer[: c * kh * kw * (n1 - n0) * h_out * w_out]
        cols = cols.reshape(c, kh, kw, n1 - n0, h_out, w_out)
        for i, j, rows, cols_ in geom.slices():
            cols[:, i, j] = xp[n0:n1, :, rows, cols_].transpose(1, 0, 2, 3)  # (C, n, H_out, W_out)
        yield n0, n1, cols.reshape(c * kh * kw, -1)
