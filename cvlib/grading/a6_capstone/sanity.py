"""Checks of assignment 6, section 8: the two checks before a long run, a numerical gradient check
of the whole network and overfitting one tiny batch.

Both must not only pass on a correct network but also **catch a bug**: each check runs the
student's function a second time on a network whose ``loss_and_grads`` hides a transposed kernel
gradient in both convolutions (the first knock-out of :mod:`cvlib.experiments.capstone`), and
the student's function must show it.
"""

import numpy as np

from .._student import reference
from ..checks import Run
from .references import (
    OWN,
    answers,
    call_text,
    fashion,
    network,
    network_answers,
    random_network,
    transposed_kernel_gradient,
)


def _function_cases(rng, hidden):
    """``(f, what, x, eps, exact gradient, atol)``: derivatives known in closed form. For
    ``sum(x**3)`` the centred difference is exactly ``3*x**2 + eps**2``, so the step must be the
    given ``eps``, and a one-sided difference (``3*x**2 + 3*x*eps + eps**2``) fails."""
    a = rng.normal(size=(5, 5))
    x3, xs, xq = rng.normal(size=(3, 4)), rng.normal(size=(2, 1, 3, 3)), rng.normal(size=5)
    cases = [
        (lambda v: np.sum(v**3), "sum(x**3)", x3, 1e-2, 3 * x3**2 + 1e-4, 1e-8),
        (lambda v: np.sum(np.sin(v)), "sum(sin(x))", xs, 1e-6, np.cos(xs), 5e-8),
        (lambda v: v @ a @ v, "x @ A @ x", xq, 1e-5, (a + a.T) @ xq, 1e-8),
    ]
    if hidden:
        x4 = rng.normal(size=(1, 2, 2, 2))
        cases.append((lambda v: float(np.sum(v**3)), "sum(x**3)", x4, 3e-2, 3 * x4**2 + 9e-4, 1e-8))
    return cases


def _one_sided(f, x, eps):
    """What a forward difference gives: the hint for a result of order eps off."""
    out = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        nudged = x.copy()
        nudged[index] += eps
        out[index] = (f(nudged) - f(x)) / eps
    return out


def check_numerical_gradient(fn, seed=None, hidden=False):
    """Check ``fn(f, x, eps=1e-6)``: centred differences of a scalar ``f``, an array of ``x``'s
    shape, ``x`` left unchanged, against derivatives known in closed form."""
    __tracebackhide__ = True
    run = Run("a6_capstone.check_numerical_gradient", fn, "numerical_gradient", seed, hidden, **OWN)
    cases = _function_cases(run.rng, hidden)
    run.trusted += [f for f, *_ in cases]  # the check's own functions, which the answer calls
    for f, what, x, eps, exact, atol in cases:
        hints = [
            (
                "Use CENTRED differences, (f(x + eps) - f(x - eps)) / (2 * eps): their error is "
                "of order eps**2, a one-sided difference's of order eps.",
                _one_sided(f, x, eps),
            )
        ]
        if eps != 1e-6:
            hints.append(("Nudge by the `eps` you are given.", exact - eps**2))
        text = f"{run.name}(f=lambda x: {what}, x of shape {x.shape}, eps={eps:g})"
        got = run.array(run.call([("f", f), ("x", x)], {"eps": eps}, text=text), text)
        run.compare(got, exact, text, "the gradient", hints, rtol=0.0, atol=atol)


def _small_problem(rng, cnn, ops):
    """A tiny network, three 4x4 images and their labels, redrawn until no ReLU or max-pool input
    sits within a nudge of a kink or a tie (then the reference check gives errors below 1e-8)."""
    for _ in range(10):
        params, stats = random_network(cnn, rng, (2, 3), 4, size=4)
        x, target = rng.normal(size=(3, 1, 4, 4)), rng.integers(0, 4, size=3)
        if max(cnn.gradient_check(params, stats, x, target, ops)) < 1e-8:
            break
    return params, stats, x, target


def _errors(run, result, text):
    """The 8 relative errors ``gradient_check`` returned, as floats."""
    __tracebackhide__ = True
    if not isinstance(result, (tuple, list)) or len(result) != 8:
        run.fail(
            f"{text} should return a Params of 8 relative errors, one per parameter, got "
            f"{type(result).__name__}."
        )
    return [run.number(e, text, f"the error of parameter {k}") for k, e in enumerate(result)]


def check_gradient_check(fn, seed=None, hidden=False):
    """Check ``fn(params, stats, x, target, eps=1e-6) -> Params of relative errors``: below 1e-5
    for the reference network; with a transposed kernel gradient in ``loss_and_grads``, large
    for both convolutions' weights and still small for the other six parameters.

    ``loss_and_grads``, ``forward``, the layers and ``numerical_gradient`` are the references.
    """
    __tracebackhide__ = True
    cnn, ops = network()
    isolate = {**answers(), **network_answers(cnn, ops)}
    run = Run(
        "a6_capstone.check_gradient_check",
        fn,
        "gradient_check",
        seed,
        hidden,
        isolate=isolate,
        **OWN,
    )
    knocked_network = network(transposed_kernel_gradient)
    knocked = {**isolate, **network_answers(*knocked_network)}
    for _ in range(2 if hidden else 1):
        params, stats, x, target = _small_problem(run.rng, cnn, ops)
        args = [("params", params), ("stats", stats), ("x", x), ("target", target)]
        text = call_text(run, args)
        errors = _errors(run, run.call(args, text=text), text)
        if max(errors) > 1e-5:
            run.fail(
                f"{text} reports relative errors up to {max(errors):.3g} for a correct network "
                "(expected below 1e-5, about 1e-8). Compare loss_and_grads' gradient of each "
                "parameter with numerical_gradient of the training-mode loss, and use "
                "max|a - b| / max(max|a|, max|b|)."
            )
        text += " (with a transposed kernel gradient hidden in loss_and_grads)"
        # a small last layer makes every gradient small: a relative error does not change, an
        # absolute one shrinks a hundredfold
        params = params._replace(fc_weight=params.fc_weight * 0.01)
        args = [("params", params), ("stats", stats), ("x", x), ("target", target)]
        errors = _errors(run, run.call(args, text=text, isolate=knocked), text)
        conv = [errors[k] for k, name in enumerate(params._fields) if name.startswith("conv")]
        rest = [errors[k] for k, name in enumerate(params._fields) if not name.startswith("conv")]
        if min(conv) < 1e-2 or max(rest) > 1e-5:
            run.fail(
                f"{text} should report large errors (> 1e-2) for conv1_weight and conv2_weight "
                f"and small ones for the rest; it reported {[f'{e:.2g}' for e in errors]}."
            )
        # What is reported must be the relative error its docstring defines, not a threshold's
        # worth of anything: the large errors are deterministic, so they must match.
        kcnn, kops = knocked_network
        expected = kcnn.gradient_check(params, stats, x, target, kops)
        for k, name in enumerate(params._fields):
            if name.startswith("conv") and not 0.5 < errors[k] / expected[k] < 2:
                run.fail(
                    f"{text} reported {errors[k]:.3g} for {name}; the relative error "
                    f"max|a - b| / max(max|a|, max|b|) is {expected[k]:.3g}. Divide the largest "
                    "difference by the largest magnitude of the two gradients (an absolute "
                    "error depends on the gradients' scale)."
                )


def _tiny_batch():
    """The notebook's 20 photographs: the first two training images of each class."""
    x, target = fashion("train")
    tiny = np.concatenate([np.flatnonzero(target == label)[:2] for label in range(10)])
    return x[tiny], target[tiny]


def check_overfit_tiny_batch(fn, seed=None, hidden=False):
    """Check ``fn(x, target, steps=60, lr=0.05) -> (losses, accuracy)`` on the notebook's 20
    photographs against :func:`cvlib.numpy_training.overfit_tiny_batch` (the loss before every
    step, to 1e-6; the last below 0.05, every image learnt), then with a transposed kernel
    gradient hidden in ``loss_and_grads``, whose losses the answer must repeat as well
    (``loss_and_grads``, ``sgd`` and ``predict`` are the references). ``hidden=True`` runs 25
    steps of ``lr=0.08`` instead (the notebook's hidden test runs after the visible one)."""
    __tracebackhide__ = True
    cnn, ops = network()
    isolate = {**answers(), **network_answers(cnn, ops)}
    run = Run(
        "a6_capstone.check_overfit_tiny_batch",
        fn,
        "overfit_tiny_batch",
        seed,
        hidden,
        isolate=isolate,
        **OWN,
    )
    knocked_cnn, knocked_ops = network(transposed_kernel_gradient)
    knocked = {**isolate, **network_answers(knocked_cnn, knocked_ops)}
    x, target = _tiny_batch()
    training = reference("cvlib.numpy_training")
    # the hidden test (whose cell runs the visible one first) adds another length and rate
    for steps, lr in [(25, 0.08)] if hidden else [(60, 0.05)]:
        kwargs = {"steps": steps, "lr": lr}
        runs = [(ops, isolate, "")] + ([] if hidden else [(knocked_ops, knocked, KNOCKED)])
        for network_ops, swap, bug in runs:
            losses, accuracy = training.overfit_tiny_batch(x, target, steps, lr, ops=network_ops)
            text = run.text([("x", x), ("target", target)], kwargs) + bug
            got = run.call([("x", x), ("target", target)], kwargs, text=text, isolate=swap)
            got = run.parts(got, ("losses", "accuracy"), text)
            _compare_losses(run, got[0], losses, text)
            if abs(run.number(got[1], text, "accuracy") - accuracy) > 1e-9:
                run.fail(
                    f"{text}: accuracy is {got[1]}, expected {accuracy:.3f}: the share of the "
                    "20 images that predict classifies right after the last step."
                )


KNOCKED = " (with a transposed kernel gradient hidden in loss_and_grads)"


def _compare_losses(run, got, expected, text):
    """The loss before each step, as the reference training gives it."""
    __tracebackhide__ = True
    if not isinstance(got, (list, tuple, np.ndarray)):
        run.fail(f"{text}: losses should be a list of numbers, got {type(got).__name__}.")
    values = [run.number(loss, text, "a loss") for loss in got]
    hints = [
        (
            "The losses do not change: update params with sgd at every step (and keep the "
            "velocities it returns for the next step).",
            np.full(len(expected), expected[0]),
        )
    ]
    run.compare(np.array(values), expected, text, "losses", hints, rtol=1e-6, atol=1e-9)
