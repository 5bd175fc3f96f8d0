"""Checks of assignment 2, the forward passes: max, min and average pooling, ReLU, softmax and
the cross-entropy loss with its gradient.

Pooling functions take NCHW arrays: ``fn(x, kernel_size, stride=None)`` (``avg_pool2d`` also
``padding=0``), with ``stride=None`` meaning ``stride = kernel_size`` as in PyTorch.
"""

import numpy as np

from .._compare import in_call, off_by_one
from .._student import reference
from ..checks import Run
from ..tripwires import NUMPY_ANSWER

OWN_CODE = "this answer asks for your own numpy code, not a library's implementation"
OWN = {"forbid": NUMPY_ANSWER, "reason": OWN_CODE}

_MODES = {"max": "max_pool2d", "min": "min_pool2d", "avg": "avg_pool2d"}


def pool_cases(rng, hidden, padding):
    """(x, kernel_size, stride, padding): overlapping windows, odd sizes, stride None."""
    cases = [((2, 3, 6, 6), 2, None, 0), ((1, 2, 7, 9), 3, 2, 0), ((2, 1, 5, 8), 2, 1, 0)]
    if padding:
        cases += [((1, 2, 6, 7), 3, 2, 1), ((2, 2, 5, 5), 2, 2, 1)]
    if hidden:
        cases += [((3, 2, 9, 4), 3, 3, 0), ((1, 1, 4, 4), 4, None, 0), ((2, 3, 8, 10), 3, 1, 0)]
        if padding:
            cases.append(((1, 3, 9, 6), 3, 3, 1))
    return [(rng.normal(size=shape), k, s, p) for shape, k, s, p in cases]


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


def _padding_alternatives(x, k, s, p):
    """The hint for average pooling that leaves the padded zeros out of each border window's
    count (the reference, like PyTorch's default, counts them)."""
    windows = _windows(x, k, s, p, fill=np.nan)
    counted = np.nansum(windows, axis=-1) / np.sum(~np.isnan(windows), axis=-1)
    return [
        (
            "Near the border you divided by the number of REAL pixels in each window "
            "(count_include_pad=False); this assignment, like PyTorch's default, divides by "
            "kernel_size**2, counting the padded zeros (count_include_pad=True).",
            counted,
        )
    ]


def check_pool(fn, mode="max", seed=None, hidden=False, padding=None):
    """Check a pooling forward pass (``mode``: "max", "min" or "avg") against :mod:`cvlib.pool`.

    ``padding`` (default: only for "avg") also tests zero padding, whose border windows are
    averaged over the full window like PyTorch's ``count_include_pad=True``.
    """
    __tracebackhide__ = True
    if mode not in _MODES:
        raise ValueError(f"`mode` must be one of {sorted(_MODES)}, got {mode!r}")
    run = Run(
        "check_pool",
        fn,
        _MODES[mode],
        seed,
        hidden,
        options={"mode": mode} if padding is None else {"mode": mode, "padding": padding},
        forbid=NUMPY_ANSWER,
        reason=OWN_CODE,
    )
    pool_checks(run, mode, padding)


def pool_checks(run, mode, padding=None, extra=()):
    """Run :func:`check_pool`'s cases (and ``extra`` ``(x, kernel_size, stride, padding)``
    cases) on the student's function of ``run``."""
    __tracebackhide__ = True
    ref = reference("cvlib.pool")
    ref_fn = getattr(ref, _MODES[mode])
    with_padding = (mode == "avg") if padding is None else padding
    for x, k, s, p in [*pool_cases(run.rng, run.hidden, with_padding), *extra]:
        kwargs = {"stride": s} if not p else {"stride": s, "padding": p}
        expected = ref_fn(x, k, stride=s, padding=p)
        alternatives = _pool_alternatives(ref, mode, x, k, s, p, expected)
        run.expect_array([("x", x), ("kernel_size", k)], expected, kwargs, alternatives)


def _pool_alternatives(ref, mode, x, k, s, p, expected):
    """Hints for a pooling result: stride None or ignored, windows not moved, min for max."""
    ref_fn = getattr(ref, _MODES[mode])
    alternatives = [
        (
            "With stride=None the stride equals kernel_size (non-overlapping windows), as in "
            "PyTorch.",
            lambda: ref_fn(x, k, stride=1, padding=p),
        ),
        (
            "The windows must move `stride` pixels at a time: window (i, j) starts at row "
            "i*stride, column j*stride.",
            lambda: ref_fn(x, k, stride=1, padding=p)[
                ..., : expected.shape[-2], : expected.shape[-1]
            ],
        ),
    ]
    if s is not None and s != k:
        alternatives.append(
            (
                f"You ignored the `stride` argument: here stride={s}, so the windows move "
                f"{s} pixels at a time, not kernel_size={k}.",
                lambda: ref_fn(x, k, stride=k, padding=p),
            )
        )
    other = {"max": "min", "min": "max"}.get(mode)
    if other:
        alternatives.append(
            (
                f"You computed the {other}imum instead of the {mode}imum.",
                lambda: getattr(ref, _MODES[other])(x, k, stride=s, padding=p),
            )
        )
    if p:
        alternatives += _padding_alternatives(x, k, k if s is None else s, p)
    return [*alternatives, off_by_one()]


def check_relu(fn, seed=None, hidden=False):
    """Check ``fn(x) -> max(x, 0)`` elementwise, any shape, input left untouched."""
    __tracebackhide__ = True
    relu_checks(Run("check_relu", fn, "relu", seed, hidden, **OWN))


def relu_checks(run):
    """Run :func:`check_relu`'s cases on the student's function of ``run``."""
    __tracebackhide__ = True
    ref = reference("cvlib.layers")
    shapes = [(7,), (3, 4), (2, 3, 4, 5)] + ([(1,), (2, 1, 3, 3, 2)] if run.hidden else [])
    for shape in shapes:
        x = run.rng.normal(size=shape)
        alternatives = [
            (
                "ReLU keeps the positive values themselves, not 1: relu(x) = max(x, 0).",
                (x > 0).astype(float),
            ),
            (
                "ReLU sets the NEGATIVE values to zero and keeps the positive ones.",
                np.minimum(x, 0),
            ),
        ]
        run.expect_array([("x", x)], ref.relu(x), alternatives=alternatives)


def logit_cases(rng, hidden):
    """(N, K) logits, large ones included: exp overflows without the max trick."""
    cases = [rng.normal(size=(4, 5)), rng.normal(size=(3, 10)) * 3, rng.normal(size=(2, 4)) + 1000]
    if hidden:
        cases += [
            rng.normal(size=(1, 2)),
            rng.normal(size=(6, 3)) * 50 - 800.0,
            rng.normal(size=(5, 7)) * 1e-3,
        ]
    return cases


def check_softmax(fn, seed=None, hidden=False):
    """Check ``fn(z) -> softmax over the last axis`` of (N, K) logits, including huge logits."""
    __tracebackhide__ = True
    run = Run("check_softmax", fn, "softmax", seed, hidden, **OWN)
    ref = reference("cvlib.layers")
    for z in logit_cases(run.rng, hidden):
        alternatives = [
            (
                "Normalise each ROW (one sample's scores over the classes, axis=-1), not each "
                "column.",
                lambda z=z: ref.softmax(z, axis=0),
            ),
            (
                "Softmax exponentiates before normalising: exp(z) / sum(exp(z)).",
                lambda z=z: z / z.sum(axis=-1, keepdims=True),
            ),
        ]
        if np.abs(z).max() > 100:
            alternatives.append(
                (
                    "exp() overflows for large logits: subtract each row's maximum "
                    "before exponentiating (the result does not change).",
                    np.full(z.shape, np.nan),
                )
            )
        text = f"{run.name}(z of shape {z.shape}, values around {np.mean(z):.3g})"
        got = run.array(run.call([("z", z)], text=text), text)
        run.compare(
            got, ref.softmax(z, axis=-1), text, "the result", alternatives, rtol=1e-6, atol=1e-9
        )


def _close(a, b):
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def _column_softmax_loss(logits, target):
    """The mean cross-entropy of a softmax taken over the batch (axis 0) instead of the classes."""
    shifted = logits - logits.max(axis=0, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))  # (N, K), columns sum to 1
    return float(-log_p[np.arange(len(logits)), target].mean())


_COLUMN_SOFTMAX = (
    "Your softmax normalises each COLUMN (over the batch, axis=0): normalise each ROW, one "
    "sample's scores over the classes (axis=1, keepdims=True for the max and the sum)."
)


def _loss_hint(loss, expected, logits, target):
    n = len(logits)
    if len(logits) > 1 and _close(loss, _column_softmax_loss(logits, target)):
        return f"\nHint: {_COLUMN_SOFTMAX}"
    if _close(loss, n * expected):
        return "\nHint: the loss is the MEAN over the batch, not the sum."
    if not np.isfinite(loss):
        return (
            "\nHint: compute log-softmax stably: z - max(z) - log(sum(exp(z - max(z)))), never "
            "log(softmax(z)) on large logits."
        )
    if loss < 0:
        return "\nHint: the loss is MINUS the log-probability of the right class."
    return ""


def check_cross_entropy(fn, seed=None, hidden=False):
    """Check ``fn(logits, target) -> (loss, dlogits)``: mean cross-entropy and its gradient."""
    __tracebackhide__ = True
    cross_entropy_checks(Run("check_cross_entropy", fn, "cross_entropy", seed, hidden, **OWN))


def cross_entropy_checks(run):
    """Run :func:`check_cross_entropy`'s cases on the student's function of ``run``."""
    __tracebackhide__ = True
    ref = reference("cvlib.layers")
    underflow = run.rng.normal(size=(3, 4))
    for logits in [*logit_cases(run.rng, run.hidden), underflow]:
        n, k = logits.shape
        target = run.rng.integers(0, k, size=n)
        if logits is underflow:  # the right class 800 below the others: its probability
            logits[np.arange(n), target] -= 800.0  # underflows to 0, log(0) = -inf
        args = [("logits", logits), ("target", target)]
        text = run.text(args)
        result = run.parts(run.call(args, text=text), ("loss", "dlogits"), text)
        loss = run.number(result[0], text, what="loss")
        dlogits = run.array(result[1], text, what="dlogits")
        expected_loss, expected_grad = ref.cross_entropy(logits, target)
        expected_loss = float(expected_loss)
        if not np.isfinite(loss) or abs(loss - expected_loss) > 1e-6 + 1e-6 * abs(expected_loss):
            hint = _loss_hint(loss, expected_loss, logits, target)
            run.fail(
                f"The loss is {loss:.6g}, expected {expected_loss:.6g}.\n{in_call(text)}" + hint
            )
        alternatives = [
            (
                "dlogits of the MEAN loss is (softmax - one_hot) / N: divide by the batch size.",
                expected_grad * n,
            ),
            (
                "The gradient is softmax(z) - one_hot(target): subtract 1 at each sample's true "
                "class.",
                lambda z=logits, n=n: ref.softmax(z, axis=-1) / n,
            ),
            (
                _COLUMN_SOFTMAX,
                lambda z=logits, n=n, t=target: (
                    (ref.softmax(z, axis=0) - np.eye(z.shape[1])[t]) / n
                ),
            ),
        ]
        run.compare(dlogits, expected_grad, text, "dlogits", alternatives, rtol=1e-6, atol=1e-9)
