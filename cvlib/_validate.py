"""Argument checks shared by the numpy core (:mod:`cvlib.conv`, :mod:`cvlib.pool`, ...).

Every public function validates its arguments first, through these helpers, so that a bad input
fails at once with a message naming the argument, what was expected and what came, for example::

    ValueError: `stride` must be >= 1, got (0, 1)

instead of an ``IndexError`` or a broadcasting error from deep inside numpy.
"""

import numbers

import numpy as np

__all__ = ["as_float_array", "check_array", "check_shape", "pair"]


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
    items = (value, value) if _is_int(value) else value
    if not isinstance(items, tuple | list) or not all(_is_int(v) for v in items):
        raise TypeError(f"`{name}` must be an int or a pair of ints, got {value!r}")
    if len(items) != 2:
        raise ValueError(f"`{name}` must be an int or a pair of ints, got {len(items)} values")
    result = (int(items[0]), int(items[1]))
    if min(result) < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value!r}")
    return result


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


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


def check_shape(x, name, shape, what=""):
    """Check that ``x.shape == shape``; ``what`` says where the expected shape comes from.

    Examples
    --------
    >>> check_shape(np.zeros((2, 3)), "dout", (2, 3))
    """
    if tuple(x.shape) != tuple(shape):
        where = f" ({what})" if what else ""
        raise ValueError(f"`{name}` must have shape {tuple(shape)}{where}, got {tuple(x.shape)}")
