"""Argument checks shared by the numpy core (:mod:`cvlib.conv`, :mod:`cvlib.pool`, ...).

Every public function validates its arguments first, through these helpers, so that a bad input
fails at once with a message naming the argument, what was expected and what came, for example::

    ValueError: `stride` must be >= 1, got (0, 1)

instead of an ``IndexError`` or a broadcasting error from deep inside numpy.

Convolution and pooling both slide ``kH x kW`` windows over an image; :func:`windows` checks
that they fit and returns their :class:`Windows`, the one description of them both use.
Padding is always ``(left, right, top, bottom)``, the order of ``torch.nn.functional.pad``.
"""

import numbers
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Windows",
    "as_float_array",
    "check_array",
    "check_batch_norm",
    "check_conv",
    "check_labels",
    "check_pool",
    "check_shape",
    "is_int",
    "is_real",
    "padding_sides",
    "pair",
    "windows",
]


def pair(value, name, *, minimum=0):
    """Normalise an int-or-pair argument (``kernel_size``, ``stride``, ...) to a tuple of two ints.

    Parameters
    ----------
    value : int or tuple of two ints
        ``3`` means ``(3, 3)``; a pair is ``(height, width)``.
    name : str
        The argument's name, used in error messages.
    minimum : int, default 0
        Smallest allowed value of each entry.

    Returns
    -------
    tuple of two ints

    Raises
    ------
    TypeError
        If ``value`` is neither an int nor a sequence of two ints (bools are refused).
    ValueError
        If the sequence does not have two entries or an entry is below ``minimum``.

    Examples
    --------
    >>> pair(3, "kernel_size")
    (3, 3)
    >>> pair((1, 2), "stride", minimum=1)
    (1, 2)
    """
    items = (value, value) if is_int(value) else value
    if not isinstance(items, tuple | list) or not all(is_int(v) for v in items):
        raise TypeError(f"`{name}` must be an int or a pair of ints, got {value!r}")
    if len(items) != 2:
        raise ValueError(f"`{name}` must be an int or a pair of ints, got {len(items)} values")
    result = (int(items[0]), int(items[1]))
    if min(result) < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value!r}")
    return result


def is_int(value):
    """True for an int (Python's or numpy's), False for a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def is_real(value):
    """True for a real number (int or float, Python's or numpy's), False for a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def as_float_array(x, name):
    """Return ``x`` as a float array: float32 and float64 are kept, anything else becomes float64.

    Raises
    ------
    TypeError
        If ``x`` is not a numpy array or holds non-numeric (complex, object, string) data.

    Examples
    --------
    >>> as_float_array(np.arange(3), "x").dtype
    dtype('float64')
    >>> as_float_array(np.zeros(2, np.float32), "x").dtype
    dtype('float32')
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"`{name}` must be a numpy array, got {type(x).__name__}")
    if x.dtype in (np.float32, np.float64):
        return x
    if x.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must hold real numbers, got dtype {x.dtype}")
    return x.astype(np.float64)


def check_array(x, name, ndims):
    """Check that ``x`` is a numpy array with one of the allowed numbers of dimensions.

    Parameters
    ----------
    x : ndarray
    name : str
        The argument's name, used in error messages.
    ndims : int or tuple of int
        Allowed values of ``x.ndim``.

    Returns
    -------
    ndarray
        ``x`` as a float array (see :func:`as_float_array`).

    Examples
    --------
    >>> check_array(np.zeros((2, 3)), "x", ndims=(2, 3, 4)).shape
    (2, 3)
    """
    x = as_float_array(x, name)
    ndims = (ndims,) if isinstance(ndims, int) else tuple(ndims)
    if x.ndim not in ndims:
        allowed = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"`{name}` must be {allowed}, got {x.ndim}-D with shape {x.shape}")
    return x


def check_labels(target, n, what):
    """Check that ``target`` is an integer array of ``n`` class indices; ``what`` says why ``n``.

    Examples
    --------
    >>> check_labels(np.array([0, 2]), 2, "one per row of `logits`")
    array([0, 2])
    """
    if not isinstance(target, np.ndarray) or target.dtype.kind not in "iu":
        raise TypeError(f"`target` must be an integer numpy array of class indices, got {target!r}")
    check_shape(target, "target", (n,), what)
    return target


def check_shape(x, name, shape, what=""):
    """Check that ``x.shape == shape``; ``what`` says where the expected shape comes from.

    Examples
    --------
    >>> check_shape(np.zeros((2, 3)), "dout", (2, 3))
    """
    if tuple(x.shape) != tuple(shape):
        where = f" ({what})" if what else ""
        raise ValueError(f"`{name}` must have shape {tuple(shape)}{where}, got {tuple(x.shape)}")


@dataclass(frozen=True)
class Windows:
    """The ``kH x kW`` windows of a convolution or a pooling, as pairs ``(height, width)``.

    ``pads`` is ``(left, right, top, bottom)``; ``out`` is ``(H_out, W_out)``. Pooling has
    ``dilation == (1, 1)``.
    """

    kernel: tuple
    stride: tuple
    dilation: tuple
    pads: tuple
    out: tuple

    def slices(self):
        """Yield ``(i, j, rows, cols)``: per kernel offset, the pixels it reads in the padded input.

        For the offset ``(i, j)`` every window's pixel is one strided slice of the padded input,
        ``rows = i*dH, i*dH + sH, ..., i*dH + (H_out - 1)*sH``, likewise the columns: ``kH*kW``
        whole-array operations replace ``H_out*W_out`` small ones.

        Examples
        --------
        >>> next(windows((7, 7), (3, 3), stride=2, padding=1).slices())
        (0, 0, slice(0, 7, 2), slice(0, 7, 2))
        """
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        h_out, w_out = self.out
        for i in range(kh):
            rows = slice(i * dh, i * dh + (h_out - 1) * sh + 1, sh)
            for j in range(kw):
                cols = slice(j * dw, j * dw + (w_out - 1) * sw + 1, sw)
                yield i, j, rows, cols


def windows(in_hw, kernel, stride=1, padding=0, dilation=1, what="`kernel_size`"):
    """Check a layer's window arguments; its :class:`Windows`, or a clear error if none fits.

    ``H_out = floor((H + top + bottom - dH*(kH - 1) - 1) / sH) + 1``, likewise ``W_out``. Every
    function of the numpy core reports a window that does not fit with this one message.

    Parameters
    ----------
    in_hw : pair of int
        ``(H, W)`` of the input.
    kernel : pair of int
        ``(kH, kW)``, already checked by the caller (``what`` names it in the message).
    stride, dilation : int or pair
    padding : int, pair, "same" or "valid"
        See :func:`padding_sides`.

    Examples
    --------
    >>> windows((7, 7), (3, 3), stride=2, padding=1).out
    (4, 4)
    >>> windows((2, 2), (3, 3))
    Traceback (most recent call last):
    ...
    ValueError: `kernel_size` (3, 3) is larger than the padded input (2, 2)
    """
    stride = pair(stride, "stride", minimum=1)
    dilation = pair(dilation, "dilation", minimum=1)
    pads = padding_sides(padding, kernel, stride, dilation)
    left, right, top, bottom = pads
    padded = (in_hw[0] + top + bottom, in_hw[1] + left + right)
    out = tuple((padded[a] - dilation[a] * (kernel[a] - 1) - 1) // stride[a] + 1 for a in range(2))
    if min(out) < 1:
        spread = "" if dilation == (1, 1) else f" with dilation {dilation}"
        raise ValueError(f"{what} {tuple(kernel)}{spread} is larger than the padded input {padded}")
    return Windows(tuple(kernel), stride, dilation, pads, out)


def padding_sides(padding, kernel, stride, dilation):
    """Turn ``padding`` (int, pair, "same", "valid") into ``(left, right, top, bottom)``.

    ``"same"`` pads ``dilation*(k - 1)`` in total per dimension, ``total // 2`` before and the rest
    after, exactly as PyTorch does; it needs stride 1.

    Examples
    --------
    >>> padding_sides((1, 2), (3, 3), (1, 1), (1, 1))
    (2, 2, 1, 1)
    >>> padding_sides("same", (2, 2), (1, 1), (1, 1))
    (0, 1, 0, 1)
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
        return (total_w // 2, total_w - total_w // 2, total_h // 2, total_h - total_h // 2)
    ph, pw = pair(padding, "padding")
    return (pw, pw, ph, ph)


# --- the checks of each op, which its module calls first ------------------------------------


def check_conv(x, weight, bias, stride, padding, dilation):
    """Check the arguments of :func:`cvlib.conv.conv2d`; return them in the batched form.

    Returns ``(x4, w4, bias, windows)``: ``x4 (N, C, H, W)`` and ``w4 (C_out, C, kH, kW)`` in one
    float dtype, ``bias (C_out,)`` or None, and the layer's :class:`Windows`.

    Examples
    --------
    >>> x4, w4, bias, win = check_conv(np.ones((3, 8, 8)), np.ones((4, 3, 3, 3)), None, 1, 1, 1)
    >>> x4.shape, w4.shape, bias, win.out
    ((1, 3, 8, 8), (4, 3, 3, 3), None, (8, 8))
    """
    x = check_array(x, "x", ndims=(2, 3, 4))
    weight = check_array(weight, "weight", ndims=2 if x.ndim == 2 else 4)
    if bias is not None:
        bias = check_array(np.asarray(bias) if np.isscalar(bias) else bias, "bias", ndims=(0, 1))
    dtype = np.result_type(x, weight, *([] if bias is None else [bias]))
    x4 = x.reshape((1,) * (4 - x.ndim) + x.shape).astype(dtype, copy=False)
    w4 = weight.reshape((1,) * (4 - weight.ndim) + weight.shape).astype(dtype, copy=False)
    if w4.shape[1] != x4.shape[1]:
        raise ValueError(f"`weight` has {w4.shape[1]} input channels but `x` has {x4.shape[1]}")
    if bias is not None:
        if bias.size != w4.shape[0] or (bias.ndim == 0 and x.ndim != 2):
            raise ValueError(
                f"`bias` must have shape ({w4.shape[0]},), one value per output channel, "
                f"got {bias.shape}"
            )
        bias = bias.reshape(-1).astype(dtype, copy=False)
    win = windows(x4.shape[2:], w4.shape[2:], stride, padding, dilation, "the `weight` kernel")
    return x4, w4, bias, win


def check_pool(x, kernel_size, stride, padding):
    """Check the arguments of :func:`cvlib.pool.max_pool2d` and its kin: ``(x, windows)``.

    ``stride`` None means ``kernel_size``; ``padding`` is at most half the kernel, as in PyTorch.

    Examples
    --------
    >>> check_pool(np.ones((2, 6, 6)), 2, None, 0)[1].out
    (3, 3)
    """
    x = check_array(x, "x", ndims=(2, 3, 4))
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    ph, pw = pair(padding, "padding")
    if ph > kernel[0] // 2 or pw > kernel[1] // 2:
        raise ValueError(
            f"`padding` must be at most half of `kernel_size` {kernel}, got {(ph, pw)}"
        )
    return x, windows(x.shape[-2:], kernel, kernel if stride is None else stride, (ph, pw))


def check_batch_norm(x, running_mean, running_var, weight, training, momentum, eps):
    """Check the arguments of :func:`cvlib.batchnorm.batch_norm` (and of its backward, with
    ``momentum`` 0); return ``x`` and the running estimates (or None) as float arrays.

    Examples
    --------
    >>> x, mean, var = check_batch_norm(np.ones((4, 3)), None, None, None, True, 0.1, 1e-5)
    >>> x.shape, mean, var
    ((4, 3), None, None)
    """
    x = check_array(x, "x", ndims=(2, 3, 4))
    c = x.shape[1]
    if not isinstance(training, bool | np.bool_):
        raise TypeError(f"`training` must be True or False, got {training!r}")
    if not is_real(momentum) or not 0 <= momentum <= 1:
        raise ValueError(f"`momentum` must be a number in [0, 1], got {momentum!r}")
    if not is_real(eps) or not eps >= 0:
        raise ValueError(f"`eps` must be a number >= 0, got {eps!r}")
    stats = []
    for name, value in (("running_mean", running_mean), ("running_var", running_var)):
        if value is None and not training:
            raise ValueError(f"`{name}` is needed in evaluation mode (training=False)")
        if value is not None:
            value = check_array(value, name, ndims=1)
            check_shape(value, name, (c,), "one value per channel of `x`")
        stats.append(value)
    if (running_mean is None) != (running_var is None):
        raise ValueError("`running_mean` and `running_var` must be given together or both None")
    if weight is not None:
        check_shape(check_array(weight, "weight", ndims=1), "weight", (c,), "one per channel")
    if training and x.size // max(c, 1) < 2:
        raise ValueError(
            f"training needs more than one value per channel to compute a variance; "
            f"`x` has shape {x.shape}"
        )
    return x, stats[0], stats[1]
