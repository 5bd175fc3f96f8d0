"""Checks of assignment 6, sections 2, 3, 5 and 6: max pooling, ReLU, the dense layer, the loss and
SGD with momentum, forward next to backward, against cvlib's references (themselves tested
against PyTorch: ``F.max_pool2d``, ``torch.relu``, ``F.linear``, ``F.cross_entropy``,
``torch.optim.SGD``) and numerical gradients.

Where assignment 2 asked for the same function (max pooling, ReLU, the cross-entropy), its cases
run here too, with assignment 6's stricter rules (:data:`~.references.OWN`) and a few more.
"""

import numpy as np

from .._compare import in_call
from .._student import reference
from ..a2_backprop.backward import max_pool_backward_checks, tied
from ..a2_backprop.forward import cross_entropy_checks, pool_checks, relu_checks
from ..checks import Run
from .references import OWN, call_text


def check_max_pool2d(fn, seed=None, hidden=False):
    """Check ``fn(x, kernel_size, stride=None)``: assignment 2's cases (overlapping windows,
    ``stride=None``, non-square) and inputs that are negative everywhere (a start from 0 fails)."""
    __tracebackhide__ = True
    run = Run("a6_capstone.check_max_pool2d", fn, "max_pool2d", seed, hidden, **OWN)
    negative = [(-np.abs(run.rng.normal(size=(2, 3, 6, 5))) - 0.5, 2, None, 0)]
    if hidden:
        negative.append((-np.abs(run.rng.normal(size=(1, 2, 7, 7))) - 0.1, 3, 2, 0))
    pool_checks(run, "max", extra=negative)


def check_max_pool2d_backward(fn, seed=None, hidden=False):
    """Check ``fn(dout, x, kernel_size, stride=None) -> dx``: assignment 2's cases (ties of small
    integers: the first maximum in row-major order gets the gradient, as in PyTorch; overlapping
    windows add up) and the all-zero windows ReLU leaves behind."""
    __tracebackhide__ = True
    run = Run(
        "a6_capstone.check_max_pool2d_backward", fn, "max_pool2d_backward", seed, hidden, **OWN
    )
    after_relu = [(np.maximum(tied(run.rng.normal(size=(2, 3, 6, 6))), 0.0), 2, None)]
    if hidden:
        after_relu.append((np.maximum(tied(run.rng.normal(size=(1, 2, 7, 8))), 0.0), 3, 2))
    max_pool_backward_checks(run, extra=after_relu)


def check_relu(fn, seed=None, hidden=False):
    """Check ``fn(x) -> max(x, 0)`` elementwise (assignment 2's cases), inputs untouched."""
    __tracebackhide__ = True
    relu_checks(Run("a6_capstone.check_relu", fn, "relu", seed, hidden, **OWN))


def check_relu_backward(fn, seed=None, hidden=False):
    """Check ``fn(dout, x) -> dx``: ``dout`` where ``x > 0``, 0 elsewhere, **0 at x == 0**."""
    __tracebackhide__ = True
    run = Run("a6_capstone.check_relu_backward", fn, "relu_backward", seed, hidden, **OWN)
    layers = reference("cvlib.layers")
    shapes = [(3, 4), (2, 3, 4, 5)] + ([(1,), (4, 2, 3, 3)] if hidden else [])
    for shape in shapes:
        x = np.round(run.rng.normal(size=shape) * 2) / 2  # many exact zeros
        dout = run.rng.normal(size=shape)
        hints = [
            (
                "At x == 0 exactly the gradient is 0 (PyTorch's choice): let it through where "
                "x > 0, not x >= 0.",
                np.where(x >= 0, dout, 0.0),
            ),
            ("Multiply dout by the mask (x > 0): the mask alone is not the gradient.", x > 0),
            ("The gradient of max(x, 0) is 1 or 0, not x: dout * (x > 0).", dout * x),
        ]
        args = [("dout", dout), ("x", x)]
        run.expect_array(args, layers.relu_backward(dout, x), alternatives=hints, what="dx")


def _dense_cases(rng, hidden):
    """``(x, weight, bias)``: a batch of one, and non-square weights (so transposes show)."""
    shapes = [(1, 5, 3), (4, 6, 2)] + ([(7, 1, 4), (3, 10, 10)] if hidden else [])
    for n, i, o in shapes:
        yield rng.normal(size=(n, i)), rng.normal(size=(o, i)), rng.normal(size=o)


def check_linear(fn, seed=None, hidden=False):
    """Check ``fn(x, weight, bias) -> x @ weight.T + bias`` (PyTorch's ``F.linear`` layout)."""
    __tracebackhide__ = True
    run = Run("a6_capstone.check_linear", fn, "linear", seed, hidden, **OWN)
    layers = reference("cvlib.layers")
    for x, weight, bias in _dense_cases(run.rng, hidden):
        hints = [("The bias is missing: + bias.", x @ weight.T)]
        args = [("x", x), ("weight", weight), ("bias", bias)]
        run.expect_array(args, layers.linear(x, weight, bias), alternatives=hints)


def check_linear_backward(fn, seed=None, hidden=False):
    """Check ``fn(dout, x, weight) -> (dx, dweight, dbias)`` against numerical gradients of
    ``sum(linear(x, weight, bias) * dout)``."""
    __tracebackhide__ = True
    run = Run("a6_capstone.check_linear_backward", fn, "linear_backward", seed, hidden, **OWN)
    layers, gradcheck = reference("cvlib.layers"), reference("cvlib.gradcheck")
    for x, weight, bias in _dense_cases(run.rng, hidden):
        dout = run.rng.normal(size=(len(x), len(weight)))

        def forward(x=x, weight=weight, bias=bias):
            return layers.linear(x, weight, bias)  # (N, out)

        expected = {
            "dx": gradcheck.numerical_gradient(lambda v: forward(x=v), x, dout),
            "dweight": gradcheck.numerical_gradient(lambda v: forward(weight=v), weight, dout),
            "dbias": dout.sum(axis=0),  # linear in the bias: exact
        }
        hints = {
            "dweight": [("dweight has the weight's shape (out, in): dout.T @ x.", x.T @ dout)],
            "dbias": [("dbias sums dout over the batch (axis 0).", dout)],
        }
        args = [("dout", dout), ("x", x), ("weight", weight)]
        run.expect_arrays(args, expected, alternatives=hints, rtol=1e-6, atol=1e-8)


def check_cross_entropy(fn, seed=None, hidden=False):
    """Check ``fn(logits, target) -> (loss, dlogits)`` (assignment 2's cases: logits of +-1000
    and a right class whose probability underflows to 0)."""
    __tracebackhide__ = True
    cross_entropy_checks(
        Run("a6_capstone.check_cross_entropy", fn, "cross_entropy", seed, hidden, **OWN)
    )


LR_IN_VELOCITY = (
    "The learning rate goes into the step, not into the velocity: v = momentum * v + g, then "
    "p = p - lr * v (PyTorch's rule), not v = momentum * v + lr * g and p = p - v."
)


def _lr_in_velocity(step):
    """``(new_params, new_velocities)`` of a step that scales the gradient by ``lr`` inside the
    velocity (the other common momentum rule) and then subtracts the velocity itself."""
    params, grads, velocities, lr, momentum, weight_decay = step
    decayed = [g + weight_decay * p for p, g in zip(params, grads, strict=True)]
    if velocities is None:
        new_v = [lr * g for g in decayed]
    else:
        new_v = [momentum * v + lr * g for v, g in zip(velocities, decayed, strict=True)]
    return [p - v for p, v in zip(params, new_v, strict=True)], new_v


def _sgd_hints(sgd, step, expected):
    """What typical wrong steps return (``step`` holds the step's arguments): an ascent, no weight
    decay, no momentum, a weighted average for the velocity, a first velocity of 0."""
    params, grads, velocities, lr, momentum, weight_decay = step

    def other(**changed):
        settings = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay} | changed
        return sgd(params, grads, velocities if settings["momentum"] else None, **settings)[0]

    hints = [
        (
            "Gradient DEscent subtracts: p - lr * v.",
            [2 * p - e for p, e in zip(params, expected, strict=True)],
        ),
        ("Add weight_decay * p to each gradient before the velocity.", other(weight_decay=0.0)),
    ]
    if momentum:
        hints.append(
            ("The step is p - lr * v: use the velocity, not the gradient.", other(momentum=0.0))
        )
    if momentum:
        hints.append((LR_IN_VELOCITY, _lr_in_velocity(step)[0]))
    if momentum and velocities is None:
        hints.append(("On the first step the velocity is the gradient itself, not 0.", params))
    elif momentum:
        hints.append(
            (
                "The velocity is momentum * v + g (PyTorch's rule), not a weighted average.",
                other(dampening=momentum),
            )
        )
    return hints


def _sgd_settings(hidden):
    """``(lr, momentum, weight_decay)``: the capstone's recipe, plain SGD, others."""
    settings = [(0.1, 0.9, 5e-4), (0.05, 0.0, 0.0), (0.2, 0.5, 1e-2)]
    return settings + ([(0.01, 0.99, 0.0), (0.3, 0.0, 0.1)] if hidden else [])


def check_sgd(fn, seed=None, hidden=False):
    """Check ``fn(params, grads, velocities, lr, momentum=0.0, weight_decay=0.0)`` over 5 steps
    against :func:`cvlib.optim.sgd` (the arithmetic of ``torch.optim.SGD``): parameters and
    velocities after each step, the first step's velocity (the gradient itself), momentum 0, and
    ``new_params`` of the type of ``params`` (a ``Params`` stays a ``Params``)."""
    __tracebackhide__ = True
    run = Run("a6_capstone.check_sgd", fn, "sgd", seed, hidden, **OWN)
    optim, cnn = reference("cvlib.optim"), reference("cvlib.numpy_cnn")
    start, _ = cnn.init_params(1, 3, (2, 3), seed=int(run.rng.integers(1 << 30)))
    for lr, momentum, weight_decay in _sgd_settings(hidden):
        params, velocities = start, None
        for _ in range(5):
            grads = start._make(run.rng.normal(size=p.shape) for p in start)
            args = [("params", params), ("grads", grads), ("velocities", velocities), ("lr", lr)]
            kwargs = {"momentum": momentum, "weight_decay": weight_decay}
            text = call_text(run, args, kwargs)
            result = run.parts(
                run.call(args, kwargs, text=text), ("new_params", "velocities"), text
            )
            want, want_v = optim.sgd(
                params, grads, velocities, lr=lr, momentum=momentum, weight_decay=weight_decay
            )
            if type(result[0]) is not type(params):
                run.fail(
                    f"new_params is a {type(result[0]).__name__}, expected a "
                    f"{type(params).__name__} like params: return type(params)(*new_arrays).\n"
                    f"{in_call(text)}"
                )
            step = (params, grads, velocities, lr, momentum, weight_decay)
            hints = _sgd_hints(optim.sgd, step, want)
            _compare_all(run, text, result[0], want, "new_params", params._fields, hints)
            if momentum:
                hints_v = [(LR_IN_VELOCITY, _lr_in_velocity(step)[1])]
                _compare_all(
                    run, text, result[1], want_v, "new_velocities", params._fields, hints_v
                )
            params, velocities = want, want_v


def _compare_all(run, text, got, expected, what, names, hints=()):
    """Compare a sequence of arrays entry by entry (``what[k]`` named ``names[k]``)."""
    __tracebackhide__ = True
    if not isinstance(got, (tuple, list)) or len(got) != len(expected):
        run.fail(
            f"{what} should hold {len(expected)} arrays, one per parameter, got "
            f"{type(got).__name__}.\n{in_call(text)}"
        )
    for k, (g, e, name) in enumerate(zip(got, expected, names, strict=True)):
        label = f"{what}[{k}] ({name})"
        alternatives = [(hint, alt[k]) for hint, alt in hints]
        run.compare(run.array(g, text, label), e, text, label, alternatives, rtol=1e-10, atol=1e-12)
