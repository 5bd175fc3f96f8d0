"""Checks for pooling (assignment 2): max, min and average forward, max-pool backward.

Student functions take NCHW arrays: ``fn(x, kernel_size, stride=None)`` (``avg_pool2d`` also
``padding=0``), with ``stride=None`` meaning ``stride = kernel_size`` as in PyTorch.
"""

import numpy as np

from ._compare import as_float_array, compare_arrays
from ._student import call, new_seed, reference
from .conv import _name

_MODES = {"max": "max_pool2d", "min": "min_pool2d", "avg": "avg_pool2d"}


def _windows(x, k, s, p, fill):
    """All pooling windows: (N, C, H_out, W_out, k*k), padded with ``fill``."""
    xp = np.pad(x, [(0, 0), (0, 0), (p, p), (p, p)], constant_values=fill)
    n, c, h, w = xp.shape
    h_out, w_out = (h - k) // s + 1, (w - k) // s + 1
    out = np.empty((n, c, h_out, w_out, k * k))
    for i in range(h_out):
        for j in range(w_out):
            out[:, :, i, j] = xp[:, :, i * s : i * s + k, j * s : j * s + k].reshape(n, c, -1)
    return out


def _pool_cases(rng, hidden, padding):
    # (shape, kernel_size, stride, padding): overlapping windows, odd sizes, stride None.
    cases = [((2, 3, 6, 6), 2, None, 0), ((1, 2, 7, 9), 3, 2, 0), ((2, 1, 5, 8), 2, 1, 0)]
    if padding:
        cases += [((1, 2, 6, 7), 3, 2, 1), ((2, 2, 5, 5), 2, 2, 1)]
    if hidden:
        cases += [((3, 2, 9, 4), 3, 3, 0), ((1, 1, 4, 4), 4, None, 0), ((2, 3, 8, 10), 3, 1, 0)]
        if padding:
            cases.append(((1, 3, 9, 6), 3, 3, 1))
    return [(rng.normal(size=shape), k, s, p) for shape, k, s, p in cases]


def check_pool(fn, mode="max", seed=None, hidden=False, padding=None):
    """Check a pooling forward pass (``mode``: "max", "min" or "avg") against :mod:`cvlib.pool`.

    ``padding`` (default: only for "avg") also tests zero padding, whose border windows are
    averaged over the full window like PyTorch's ``count_include_pad=True``.
    """
    __tracebackhide__ = True
    if mode not in _MODES:
        raise ValueError(f"`mode` must be one of {sorted(_MODES)}, got {mode!r}")
    check = f"check_pool(mode={mode!r})"
    seed = new_seed(seed)
    rng = np.random.default_rng(seed)
    ref = reference("cvlib.pool")
    ref_fn = getattr(ref, _MODES[mode])
    name = _name(fn, _MODES[mode])
    padding = (mode == "avg") if padding is None else padding
    for x, k, s, p in _pool_cases(rng, hidden, padding):
        kwargs = {"stride": s} if not p else {"stride": s, "padding": p}
        text = (
            f"{name}(x of shape {x.shape}, kernel_size={k}, "
            + ", ".join(f"{key}={value}" for key, value in kwargs.items())
            + ")"
        )
        got = call(fn, name, [("x", x), ("kernel_size", k)], kwargs, seed, check)
        got = as_float_array(got, text, seed=seed, check=check)
        expected = ref_fn(x, k, stride=s, padding=p)
        stride = k if s is None else s
        other = {"max": "min", "min": "max"}.get(mode)
        alternatives = [
            (
                "With stride=None the stride equals kernel_size (non-overlapping windows), as in "
                "PyTorch.",
                lambda x=x, k=k, p=p: ref_fn(x, k, stride=1, padding=p),
            ),
            (
                "The windows must move `stride` pixels at a time: window (i, j) starts at row "
                "i*stride, column j*stride.",
                lambda x=x, k=k, p=p, e=expected: ref_fn(x, k, stride=1, padding=p)[
                    ..., : e.shape[-2], : e.shape[-1]
                ],
            ),
        ]
        if other:
            alternatives.append(
                (
                    f"You computed the {other}imum instead of the {mode}imum.",
                    lambda x=x, k=k, s=s, p=p, o=other: getattr(ref, _MODES[o])(
                        x, k, stride=s, padding=p
                    ),
                )
            )
        if p:
            windows = _windows(x, k, stride, p, fill=np.nan)
            counted = np.nansum(windows, axis=-1) / np.sum(~np.isnan(windows), axis=-1)
            included = np.nansum(windows, axis=-1) / (k * k)
            for alt, how in (
                (
                    counted,
                    "divided by the number of REAL pixels in each window (count_include_pad=False)",
                ),
                (
                    included,
                    "divided by kernel_size**2, counting the padded zeros (count_include_pad=True)",
                ),
            ):
                if not np.allclose(alt, expected):
                    alternatives.append(
                        (
                            f"Near the border you {how}; this assignment (like "
                            "the reference) does the other.",
                            alt,
                        )
                    )
        compare_arrays(got, expected, text, alternatives=alternatives, seed=seed, check=check)


def _max_pool_backward_alternatives(dout, x, k, s):
    """What two common wrong backward passes return (assignment, spreading)."""
    stride = k if s is None else s
    assigned = np.zeros_like(x)
    spread = np.zeros_like(x)
    n, c, h_out, w_out = dout.shape
    for i in range(h_out):
        for j in range(w_out):
            rows, cols = slice(i * stride, i * stride + k), slice(j * stride, j * stride + k)
            window = x[:, :, rows, cols].reshape(n, c, -1)
            mask = (window == window.max(axis=-1, keepdims=True)).reshape(n, c, k, k)
            view = assigned[:, :, rows, cols]
            view[mask] = np.broadcast_to(dout[:, :, i : i + 1, j : j + 1], mask.shape)[mask]
            spread[:, :, rows, cols] += dout[:, :, i : i + 1, j : j + 1]
    return assigned, spread


def check_max_pool_backward(fn, seed=None, hidden=False):
    """Check ``fn(dout, x, kernel_size, stride=None) -> dx`` against :mod:`cvlib.pool`."""
    __tracebackhide__ = True
    check = "check_max_pool_backward"
    seed = new_seed(seed)
    rng = np.random.default_rng(seed)
    ref = reference("cvlib.pool")
    name = _name(fn, "max_pool2d_backward")
    for x, k, s, _ in _pool_cases(rng, hidden, padding=False):
        dout = rng.normal(size=ref.max_pool2d(x, k, stride=s).shape)
        text = (
            f"{name}(dout of shape {dout.shape}, x of shape {x.shape}, kernel_size={k}, stride={s})"
        )
        got = call(
            fn, name, [("dout", dout), ("x", x), ("kernel_size", k)], {"stride": s}, seed, check
        )
        got = as_float_array(got, text, what="dx", seed=seed, check=check)
        expected = ref.max_pool2d_backward(dout, x, k, stride=s)
        assigned, spread = _max_pool_backward_alternatives(dout, x, k, s)
        alternatives = [
            (
                "Windows overlap here: a pixel that is the maximum of several windows receives the "
                "SUM of their gradients. Accumulate with += instead of assigning with =.",
                assigned,
            ),
            (
                "Only the maximum of each window gets the gradient; the other pixels did not "
                "influence the output, so their gradient is 0.",
                spread,
            ),
        ]
        compare_arrays(
            got, expected, text, what="dx", alternatives=alternatives, seed=seed, check=check
        )
