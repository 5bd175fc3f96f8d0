"""Comparing a student's result with the reference: type, then dtype, then shape, then values.

Results are never compared through their own ``__eq__``: a returned array is copied into a plain
``np.ndarray`` first and compared elementwise with explicit tolerances. When values differ, known
mistakes (``alternatives``: what a typical wrong answer would return) are recomputed and, if the
student's result matches one of them, its hint is added to the message.
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
            f"{text}: {what} should be a numpy array (np.ndarray), but it is a "
            f"{type(got).__name__}.{hint}",
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
            f"{text}: {what} has dtype {arr.dtype}, expected a floating-point array "
            f"(float64 or float32).{hint}",
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
            f"{text}: {what} should be an int, but it is {type(got).__name__} {got!r}.{hint}",
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
                f"{text}: {what} should be a single number, but it is an array of shape "
                f"{arr.shape} and dtype {arr.dtype}. Reduce it (e.g. with .mean()).",
                recipe,
            )
        return float(arr.reshape(()))
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        fail(f"{text}: {what} should be a number, but it is {type(got).__name__}.", recipe)
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


def _alternative_hints(got, alternatives, compare_values):
    hints = []
    for hint, alternative in alternatives:
        try:
            alt = alternative() if callable(alternative) else alternative
        except Exception:  # a hint that cannot be computed for this case is just not offered
            continue
        alt = np.asarray(alt)
        if alt.shape == got.shape and (not compare_values or matches(got, alt, 1e-4, 1e-6)):
            hints.append(hint)
    return hints


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
    """Fail unless ``got`` (a plain float array) has ``expected``'s shape and close values."""
    __tracebackhide__ = True
    expected = np.asarray(expected, dtype=np.float64)
    if rtol is None or atol is None:
        rtol, atol = tolerances(got)
    if got.shape != expected.shape:
        hints = _alternative_hints(got, alternatives, compare_values=False)
        if not hints and got.ndim == expected.ndim and got.ndim >= 2:
            diff = np.subtract(got.shape, expected.shape)[-2:]
            if set(np.abs(diff).tolist()) <= {0, 1}:
                hints.append(
                    "The spatial size is off by one: check the output-size formula "
                    "floor((n + 2*padding - kernel_size) / stride) + 1, in particular "
                    "the + 1 and the range() limits of your loops."
                )
        message = f"{text}: {what} has the wrong shape: expected {expected.shape}, got {got.shape}."
        fail(_with_hints(message, hints), recipe)
    bad = mismatch(got, expected, rtol, atol)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        where = first if len(first) != 1 else first[0]
        message = (
            f"{text}: {what} has the right shape {got.shape} but wrong values at "
            f"{int(bad.sum())} of {bad.size} positions. First wrong position "
            f"{where}: expected {_fmt(expected[first])}, got {_fmt(got[first])} "
            f"(tolerance: atol={atol:g}, rtol={rtol:g})."
        )
        hints = _alternative_hints(got, alternatives, compare_values=True)
        if not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
            hints.append(
                "Your result contains nan or inf: look for an overflow (e.g. exp of a "
                "large number) or a division by zero."
            )
        fail(_with_hints(message, hints), recipe)


def _with_hints(message, hints):
    for hint in hints:
        message += f"\nHint: {hint}"
    return message
