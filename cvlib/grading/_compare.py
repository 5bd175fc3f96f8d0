"""Comparing a student's result with the reference: type, then dtype, then shape, then values.

Results are never compared through their own ``__eq__``: a returned array is copied into a plain
``np.ndarray`` first and compared elementwise with explicit tolerances. When values differ, known
mistakes (``alternatives``: what a typical wrong answer would return) are recomputed and, if the
student's result matches one of them, its hint is added to the message. A mistake whose values
cannot be guessed is recognised by its shape alone (:class:`Shape`, e.g. :func:`off_by_one`).

Every message leads with what differs (``The result has the wrong shape: expected (4, 5), got
(5, 4).``), then names the call it came from, then the hints; the recipe that repeats the test
comes last.
"""

import numbers

import numpy as np

from ._student import fail

RTOL = 1e-5
ATOL = 1e-7
# float32 results are accepted with float32-sized tolerances.
RTOL32 = 1e-4
ATOL32 = 1e-5


def as_float_array(got, text, what="the result", recipe=None):
    """Return a plain float ndarray copy of ``got`` or fail explaining what came back."""
    __tracebackhide__ = True
    if got is None:
        fail(f"{text} returned None: did you forget the `return` statement?", recipe)
    if not isinstance(got, np.ndarray):
        hint = ""
        if isinstance(got, (list, tuple)):
            hint = " Convert it with np.array(...) or build the result in an array from the start."
        fail(
            f"{_cap(what)} should be a numpy array (np.ndarray), but it is a "
            f"{type(got).__name__}.{hint}\n{in_call(text)}",
            recipe,
        )
    arr = np.array(got, copy=True, subok=False)  # plain ndarray: its own methods, not the object's
    if arr.dtype.kind != "f":
        hint = ""
        if arr.dtype.kind in "iub":
            hint = (
                " An integer array silently truncates every value written into it: create the"
                " output with a float dtype, e.g. np.zeros(shape, dtype=float)."
            )
        fail(
            f"{_cap(what)} has dtype {arr.dtype}, expected a floating-point array "
            f"(float64 or float32).{hint}\n{in_call(text)}",
            recipe,
        )
    return arr


def as_int(got, text, what="the result", recipe=None):
    """Return ``got`` as a Python int, accepting ints and numpy integers only."""
    __tracebackhide__ = True
    if got is None:
        fail(f"{text} returned None: did you forget the `return` statement?", recipe)
    if isinstance(got, bool) or not isinstance(got, numbers.Integral):
        hint = ""
        if isinstance(got, numbers.Real):
            hint = " Use integer division `//` (floor) instead of `/`, which always gives a float."
        fail(
            f"{_cap(what)} should be an int, but it is {type(got).__name__} {got!r}.{hint}"
            f"\n{in_call(text)}",
            recipe,
        )
    return int(got)


def as_float(got, text, what="the result", recipe=None):
    """Return ``got`` as a Python float, accepting real numbers and 0-d / size-1 float arrays."""
    __tracebackhide__ = True
    if got is None:
        fail(f"{text} returned None: did you forget the `return` statement?", recipe)
    if isinstance(got, np.ndarray):
        arr = np.array(got, copy=True, subok=False)
        if arr.size != 1 or arr.dtype.kind not in "fiu":
            fail(
                f"{_cap(what)} should be a single number, but it is an array of shape "
                f"{arr.shape} and dtype {arr.dtype}. Reduce it (e.g. with .mean()).\n"
                f"{in_call(text)}",
                recipe,
            )
        return float(arr.reshape(()))
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        fail(
            f"{_cap(what)} should be a number, but it is {type(got).__name__}.\n{in_call(text)}",
            recipe,
        )
    return float(got)


def tolerances(arr):
    """(rtol, atol) for an array: tighter for float64 than for float32."""
    if arr.dtype == np.float64:
        return RTOL, ATOL
    return RTOL32, ATOL32


def mismatch(got, expected, rtol, atol):
    """Boolean mask of positions where ``got`` and ``expected`` differ beyond the tolerances."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(got - expected) <= atol + rtol * np.abs(expected)
    close |= np.isnan(got) & np.isnan(expected)
    close |= np.isinf(got) & (got == expected)
    return ~close


def matches(got, expected, rtol=1e-5, atol=1e-7):
    """True if two arrays have the same shape and close values."""
    got, expected = np.asarray(got), np.asarray(expected)
    return got.shape == expected.shape and not mismatch(got, expected, rtol, atol).any()


def _fmt(value):
    return f"{value:.6g}"


def _cap(what):
    """``the result`` -> ``The result``; names (``dlogits``, ``new_params[0]``) stay as they are."""
    return what[:1].upper() + what[1:] if what.startswith("the ") else what


def in_call(text):
    """The line of a message that says which call it is about."""
    return f"In: {text}"


class Shape:
    """A known mistake recognised by the shape of its result alone.

    ``fits(got_shape, expected_shape) -> bool``; used as the alternative of a hint, it is tried
    only when the result has the wrong shape (its values say nothing). A ``general`` one (the
    output-size formula) is said only when no particular mistake explains the shape.
    """

    def __init__(self, fits, general=False):
        self.fits = fits
        self.general = general

    @classmethod
    def exactly(cls, shape):
        """The mistake whose result has ``shape`` (when the right result has another one)."""
        return cls(lambda got, expected: got == tuple(shape) != expected)


def _reordered(got, expected):
    """``got`` holds the axes of ``expected`` in another order (a transpose, a moved axis)."""
    return len(got) == len(expected) and sorted(got) == sorted(expected) and got != expected


def _off_by_one(got, expected):
    """Height and width (the last two axes) each off by at most one, nothing else different."""
    if len(got) != len(expected) or len(got) < 2 or got[:-2] != expected[:-2]:
        return False
    diff = [abs(g - e) for g, e in zip(got[-2:], expected[-2:], strict=True)]
    return max(diff) == 1 and not _reordered(got, expected)


OFF_BY_ONE = (
    "The spatial size is off by one: check the output-size formula "
    "floor((n + 2*padding - kernel_size) / stride) + 1, in particular the + 1 and the range() "
    "limits of your loops."
)
REORDERED = (
    "Your result has the right axes in another order (a transpose too many, an axis moved, or "
    "the loops' indices written the wrong way round): build it in the order of the expected "
    "shape."
)


def off_by_one():
    """The hint for a spatial output (height and width last) whose size is off by one: the
    output-size formula. Offered by the checks of convolutions and pooling only."""
    return (OFF_BY_ONE, Shape(_off_by_one, general=True))


def reordered(hint):
    """A hint for a result whose axes are the expected ones in another order (more particular
    than the general one every check gives)."""
    return (hint, Shape(_reordered))


def _alternative_hints(got, expected, alternatives, compare_values):
    hints, general = [], []
    for hint, alternative in alternatives:
        if isinstance(alternative, Shape):
            if not compare_values and alternative.fits(got.shape, expected.shape):
                (general if alternative.general else hints).append(hint)
            continue
        try:
            alt = alternative() if callable(alternative) else alternative
        except Exception:  # a hint that cannot be computed for this case is just not offered
            continue
        alt = np.asarray(alt)
        if alt.shape == got.shape and (not compare_values or matches(got, alt, 1e-4, 1e-6)):
            hints.append(hint)
    return hints or general


def compare_arrays(
    got,
    expected,
    text,
    what="the result",
    alternatives=(),
    recipe=None,
    rtol=None,
    atol=None,
):
    """Fail unless ``got`` (a plain float array) has ``expected``'s shape and close values.

    The message says what differs first, then the call (``text``), then the hints of the
    ``alternatives`` (``(hint, wrong result)`` pairs; a wrong result may be a callable, or a
    :class:`Shape`) that ``got`` matches.
    """
    __tracebackhide__ = True
    expected = np.asarray(expected, dtype=np.float64)
    if rtol is None or atol is None:
        rtol, atol = tolerances(got)
    if got.shape != expected.shape:
        hints = _alternative_hints(got, expected, alternatives, compare_values=False)
        if not hints and _reordered(got.shape, expected.shape):
            hints.append(REORDERED)
        message = (
            f"{_cap(what)} has the wrong shape: expected {expected.shape}, got {got.shape}."
            f"\n{in_call(text)}"
        )
        fail(_with_hints(message, hints), recipe)
    bad = mismatch(got, expected, rtol, atol)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        where = first if len(first) != 1 else first[0]
        message = (
            f"{_cap(what)} has the right shape {got.shape} but wrong values at "
            f"{int(bad.sum())} of {bad.size} positions. First wrong position "
            f"{where}: expected {_fmt(expected[first])}, got {_fmt(got[first])} "
            f"(tolerance: atol={atol:g}, rtol={rtol:g}).\n{in_call(text)}"
        )
        hints = _alternative_hints(got, expected, alternatives, compare_values=True)
        if not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
            hints.append(
                "Your result contains nan or inf: look for an overflow (e.g. exp of a "
                "large number) or a division by zero."
            )
        fail(_with_hints(message, hints), recipe)


def _with_hints(message, hints):
    for hint in dict.fromkeys(hints):  # each hint once, in order
        message += f"\nHint: {hint}"
    return message
