"""Checks for activations and the loss (assignment 2): ReLU, softmax, cross-entropy."""

import numpy as np

from ._compare import as_float, as_float_array, compare_arrays
from ._student import call, fail, new_seed, reference
from .conv import _name


def check_relu(fn, seed=None, hidden=False):
    """Check ``fn(x) -> max(x, 0)`` elementwise, any shape, input left untouched."""
    __tracebackhide__ = True
    check = "check_relu"
    seed = new_seed(seed)
    rng = np.random.default_rng(seed)
    ref = reference("cvlib.layers")
    name = _name(fn, "relu")
    shapes = [(7,), (3, 4), (2, 3, 4, 5)] + ([(1,), (2, 1, 3, 3, 2)] if hidden else [])
    for shape in shapes:
        x = rng.normal(size=shape)
        text = f"{name}(x of shape {shape})"
        got = as_float_array(
            call(fn, name, [("x", x)], None, seed, check), text, seed=seed, check=check
        )
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
        compare_arrays(got, ref.relu(x), text, alternatives=alternatives, seed=seed, check=check)


def _logit_cases(rng, hidden):
    cases = [
        rng.normal(size=(4, 5)),
        rng.normal(size=(3, 10)) * 3,
        rng.normal(size=(2, 4)) + 1000.0,
    ]  # large logits: exp overflows without the max trick
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
    check = "check_softmax"
    seed = new_seed(seed)
    rng = np.random.default_rng(seed)
    ref = reference("cvlib.layers")
    name = _name(fn, "softmax")
    for z in _logit_cases(rng, hidden):
        text = f"{name}(z of shape {z.shape}, values around {np.mean(z):.3g})"
        got = as_float_array(
            call(fn, name, [("z", z)], None, seed, check), text, seed=seed, check=check
        )
        alternatives = [
            (
                "Normalise each ROW (one sample's scores over the classes, "
                "axis=-1), not each column.",
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
        compare_arrays(
            got,
            ref.softmax(z, axis=-1),
            text,
            alternatives=alternatives,
            seed=seed,
            check=check,
            rtol=1e-6,
            atol=1e-9,
        )


def check_cross_entropy(fn, seed=None, hidden=False):
    """Check ``fn(logits, target) -> (loss, dlogits)``: mean cross-entropy and its gradient."""
    __tracebackhide__ = True
    check = "check_cross_entropy"
    seed = new_seed(seed)
    rng = np.random.default_rng(seed)
    ref = reference("cvlib.layers")
    name = _name(fn, "cross_entropy")
    for logits in _logit_cases(rng, hidden):
        n, k = logits.shape
        target = rng.integers(0, k, size=n)
        text = f"{name}(logits of shape {logits.shape}, target of shape {target.shape})"
        result = call(fn, name, [("logits", logits), ("target", target)], None, seed, check)
        if not isinstance(result, tuple) or len(result) != 2:
            fail(
                f"{text} should return a tuple (loss, dlogits), but returned "
                f"{type(result).__name__}"
                + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
                + ". End with `return loss, dlogits`.",
                seed,
                check,
            )
        loss = as_float(result[0], text, what="loss", seed=seed, check=check)
        dlogits = as_float_array(result[1], text, what="dlogits", seed=seed, check=check)
        expected_loss, expected_grad = ref.cross_entropy(logits, target)
        expected_loss = float(expected_loss)
        if not np.isfinite(loss) or abs(loss - expected_loss) > 1e-6 + 1e-6 * abs(expected_loss):
            hint = ""
            if abs(loss - n * expected_loss) <= 1e-6 * max(1.0, abs(n * expected_loss)):
                hint = "\nHint: the loss is the MEAN over the batch, not the sum."
            elif not np.isfinite(loss):
                hint = (
                    "\nHint: compute log-softmax stably: z - max(z) - log(sum(exp(z - "
                    "max(z)))), never log(softmax(z)) on large logits."
                )
            elif loss < 0:
                hint = "\nHint: the loss is MINUS the log-probability of the right class."
            fail(f"{text}: loss is {loss:.6g}, expected {expected_loss:.6g}.{hint}", seed, check)
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
        ]
        compare_arrays(
            dlogits,
            expected_grad,
            text,
            what="dlogits",
            alternatives=alternatives,
            seed=seed,
            check=check,
            rtol=1e-6,
            atol=1e-9,
        )
