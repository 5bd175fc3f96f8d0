"""Checks of assignment 2, the backward passes: max pooling, convolution, and one training step
of the tiny CNN.

The convolution's gradients are compared with numerical gradients (independent of any backward
formula), max pooling's with :mod:`cvlib.pool`, the training step with
:func:`cvlib.tiny_cnn.sgd_step` on the fresh reference modules.
"""

import numpy as np

from .._compare import Shape, in_call, matches
from .._student import reference
from ..checks import Run, served
from ..tripwires import CVLIB_GRADIENTS, NUMPY_ANSWER, NUMPY_LIBRARIES
from .forward import pool_cases

OWN_BACKWARD = "this answer asks for your own backward pass (no autograd, no library gradient)"
OWN = {"forbid": NUMPY_ANSWER, "reason": OWN_BACKWARD}


def max_pool_backward_alternatives(dout, x, k, s):
    """What common wrong backward passes return: gradients assigned instead of added, spread over
    the whole window, given to every tied maximum, given to the last maximum of a window."""
    stride = k if s is None else s
    wrong = {kind: np.zeros_like(x) for kind in ("assigned", "spread", "all ties", "last")}
    n, c, h_out, w_out = dout.shape
    for i in range(h_out):
        for j in range(w_out):
            rows, cols = slice(i * stride, i * stride + k), slice(j * stride, j * stride + k)
            window = x[:, :, rows, cols].reshape(n, c, -1)  # (N, C, k*k)
            g = dout[:, :, i : i + 1, j : j + 1]  # (N, C, 1, 1)
            ties = (window == window.max(axis=-1, keepdims=True)).reshape(n, c, k, k)
            view = wrong["assigned"][:, :, rows, cols]
            view[ties] = np.broadcast_to(g, ties.shape)[ties]
            wrong["spread"][:, :, rows, cols] += g
            wrong["all ties"][:, :, rows, cols] += ties * g
            last = k * k - 1 - np.argmax(window[..., ::-1], axis=-1)  # (N, C)
            onehot = np.arange(k * k) == last[..., None]
            wrong["last"][:, :, rows, cols] += onehot.reshape(n, c, k, k) * g
    return wrong


_BACKWARD_HINTS = {
    "assigned": "Windows overlap here: a pixel that is the maximum of several windows receives "
    "the SUM of their gradients. Accumulate with += instead of assigning with =.",
    "spread": "Only the maximum of each window gets the gradient; the other pixels did not "
    "influence the output, so their gradient is 0.",
    "all ties": "This window has several equal maxima: the gradient goes to the FIRST of them in "
    "row-major order (as in PyTorch), not to every one (`np.argmax` of the flattened window "
    "gives that position).",
    "last": "On ties the gradient goes to the FIRST maximum in row-major order, not the last.",
}


def tied(x):
    """``x`` rounded to three levels: many windows then hold several equal maxima."""
    return np.round(x).clip(-1, 1)


def check_max_pool_backward(fn, seed=None, hidden=False):
    """Check ``fn(dout, x, kernel_size, stride=None) -> dx`` against :mod:`cvlib.pool`.

    Ties are tested: on a tie the gradient goes to the window's first maximum in row-major
    order, as in PyTorch.
    """
    __tracebackhide__ = True
    run = Run("check_max_pool_backward", fn, "max_pool2d_backward", seed, hidden, **OWN)
    max_pool_backward_checks(run)


def max_pool_backward_checks(run, extra=()):
    """Run :func:`check_max_pool_backward`'s cases (and ``extra`` ``(x, kernel_size, stride)``
    cases) on the student's function of ``run``."""
    __tracebackhide__ = True
    ref = reference("cvlib.pool")
    cases = [(x, k, s) for x, k, s, _ in pool_cases(run.rng, run.hidden, padding=False)]
    cases += [(tied(x), k, s) for x, k, s in cases[: 4 if run.hidden else 2]]
    for x, k, s in [*cases, *extra]:
        dout = run.rng.normal(size=ref.max_pool2d(x, k, stride=s).shape)
        wrong = max_pool_backward_alternatives(dout, x, k, s)
        overlap = (k if s is None else s) < k
        kinds = [kind for kind in _BACKWARD_HINTS if overlap or kind != "assigned"]
        alternatives = [(_BACKWARD_HINTS[kind], wrong[kind]) for kind in kinds]
        run.expect_array(
            [("dout", dout), ("x", x), ("kernel_size", k)],
            ref.max_pool2d_backward(dout, x, k, stride=s),
            {"stride": s},
            alternatives,
            what="dx",
        )


def conv_backward_cases(rng, hidden, shapes=()):
    """``(x, weight, stride, padding)`` cases of the convolution backward checks; ``shapes`` adds
    ``(N, C_in, H, W, C_out, k, stride, padding)`` to the usual ones."""
    # (N, C_in, H, W, C_out, k, stride, padding)
    usual = [(2, 3, 5, 5, 2, 3, 1, 0), (1, 2, 6, 7, 3, 3, 2, 1), (2, 1, 7, 6, 2, 2, 1, 1)]
    if hidden:
        usual += [(1, 2, 8, 5, 1, 3, 3, 2), (3, 1, 4, 4, 2, 4, 1, 0)]
    for n, c, h, w, f, k, s, p in [*usual, *shapes]:
        yield rng.normal(size=(n, c, h, w)), rng.normal(size=(f, c, k, k)), s, p


def crop_alternatives(x_shape, p, what="dx", padded="dx_padded"):
    """Hints for a result of a padded input's shape that keeps its padding (or crops
    ``[p:-p]``): ``what`` is the result (a gradient, or col2im's image), ``padded`` the array
    before the crop."""
    n, c, h, w = x_shape
    crop = [
        (
            f"{what} must have the shape of x: if you padded x, crop the padding off "
            f"({padded}[..., p:p + H, p:p + W]).",
            Shape.exactly((n, c, h + 2 * p, w + 2 * p)),
        )
    ]
    if p == 0:
        crop.append(
            (
                f"With padding=0, {padded}[..., p:-p, p:-p] is EMPTY ([0:-0] is [0:0]): crop with "
                f"{padded}[..., p:p + H, p:p + W], which works for every padding.",
                Shape.exactly((n, c, 0, 0)),
            )
        )
    return crop


def _backward_alternatives(x, dout, p, expected):
    """Hints for the gradients of a convolution, per result."""
    n = len(x)
    averaged = (
        "Do not divide by the batch size: dout already is the gradient of the loss with respect "
        "to each output, and each gradient is the SUM of the contributions of all samples."
    )
    return {
        "dx": [*crop_alternatives(x.shape, p), (averaged, expected["dx"] / n)],
        "dweight": [
            (
                "dweight is the cross-correlation of the input with dout, NOT flipped.",
                expected["dweight"][..., ::-1, ::-1],
            ),
            (
                "dweight is transposed: its last two axes are the kernel's row u and column v "
                "(weight[f, c, u, v]), in that order.",
                expected["dweight"].swapaxes(-1, -2),
            ),
            (averaged, expected["dweight"] / n),
        ],
        "dbias": [
            (
                "dbias has one entry per output channel: sum dout over the batch AND the spatial "
                "positions (axes 0, 2, 3).",
                dout.sum(axis=(2, 3)),
            ),
            ("dbias sums dout over the batch too, not only over positions.", dout[0].sum((1, 2))),
            (averaged, expected["dbias"] / n),
        ],
    }


def check_conv_backward(fn, seed=None, hidden=False):
    """Check ``fn(dout, x, weight, stride=1, padding=0) -> (dx, dweight, dbias)`` on NCHW input.

    The expected gradients are numerical: centred differences of ``sum(conv2d(...) * dout)``
    (:func:`cvlib.gradcheck.numerical_gradient`), independent of any backward formula.
    """
    __tracebackhide__ = True
    run = Run("check_conv_backward", fn, "conv2d_backward", seed, hidden, **OWN)
    conv_backward_checks(run, conv_backward_cases(run.rng, hidden))


def conv_backward_checks(run, cases):
    """Compare the student's convolution backward pass of ``run`` with numerical gradients on
    ``cases`` (:func:`conv_backward_cases`)."""
    __tracebackhide__ = True
    conv = reference("cvlib.conv")
    numerical = reference("cvlib.gradcheck").numerical_gradient
    for x, weight, s, p in cases:
        bias = run.rng.normal(size=len(weight))

        def forward(x=x, weight=weight, bias=bias, s=s, p=p):
            return conv.conv2d(x, weight, bias, stride=s, padding=p)  # (N, C_out, H_out, W_out)

        dout = run.rng.normal(size=forward().shape)
        args = [("dout", dout), ("x", x), ("weight", weight)]
        expected = {
            "dx": numerical(lambda v: forward(x=v), x, dout),
            "dweight": numerical(lambda v: forward(weight=v), weight, dout),
            "dbias": numerical(lambda v: forward(bias=v), bias, dout),
        }
        hints = _backward_alternatives(x, dout, p, expected)
        run.expect_arrays(args, expected, {"stride": s, "padding": p}, hints, rtol=1e-4, atol=1e-6)


def _batch(rng, n=12, size=6, classes=3):
    """A small learnable batch: each class lights up its own band of rows, plus noise."""
    target = np.arange(n) % classes
    x = rng.normal(scale=0.3, size=(n, 1, size, size))
    for i, t in enumerate(target):
        x[i, 0, t * size // classes : (t + 1) * size // classes] += 1.0
    return x, target


class _ReluBackwardForgotten:
    """ReLU's backward forgotten: the gradient passes unchanged (replaces the reference's)."""

    @staticmethod
    def relu_backward(dout, x):
        return dout


def _step_result(run, result, text):
    """``(loss, [4 arrays])`` from what the training step returned, or fail."""
    __tracebackhide__ = True
    names = ("conv_weight", "conv_bias", "fc_weight", "fc_bias")
    loss, new = run.parts(result, ("loss", "new_params"), text)
    if not isinstance(new, (tuple, list)) or len(new) != 4:
        run.fail(
            f"new_params should be a tuple of 4 arrays {names}, but it is "
            f"{type(new).__name__}.\n{in_call(text)}"
        )
    loss = run.number(loss, text, what="loss")
    return loss, [run.array(p, text, f"new {n}") for p, n in zip(new, names, strict=True)], names


def _step_hints(name, old, expected, no_relu_backward):
    """Hints for a wrong new parameter: not updated, ascent, ReLU's backward forgotten."""
    return [
        (f"{name} did not change: return the UPDATED parameters.", old),
        ("Gradient DEscent subtracts: new = param - lr * grad.", 2 * old - expected),
        (
            "The gradient through ReLU is missing: on the way back, multiply by (a > 0), the "
            "positions where ReLU's input was positive.",
            no_relu_backward,
        ),
    ]


def check_training_step(fn, seed=None, hidden=False):
    """Check ``fn(params, x, target, lr) -> (loss, new_params)`` for the tiny CNN.

    The loss must equal the reference forward pass, the new parameters one step of gradient
    descent, and repeating the step must make the loss go down.
    """
    __tracebackhide__ = True
    core = {m: reference(f"cvlib.{m}") for m in ("conv", "pool", "layers")}
    tiny_cnn = reference("cvlib.tiny_cnn")
    # Graded on its own: the student's own pooling, ReLU, ... (if it calls them) are swapped for
    # the references, whose signatures the assignment's functions share.
    isolate = {
        "max_pool2d": core["pool"].max_pool2d,
        "relu": core["layers"].relu,
        "cross_entropy": core["layers"].cross_entropy,
        "max_pool2d_backward": core["pool"].max_pool2d_backward,
        "conv2d_backward": core["conv"].conv2d_backward,
        **served("cvlib", core),  # cvlib.conv, .pool, .layers: allowed here, served by the grader
    }
    run = Run(
        "check_training_step",
        fn,
        "train_step",
        seed,
        hidden,
        isolate=isolate,
        # cvlib's layer functions are allowed (the assignment says so), the tiny CNN is not
        forbid=(*CVLIB_GRADIENTS, *NUMPY_LIBRARIES),
        reason="this answer asks for your own forward and backward pass of the tiny CNN "
        "(cvlib's layer functions are fine, cvlib.tiny_cnn is not)",
    )
    ops = tiny_cnn.REFERENCE.replaced_from(*core.values())  # the fresh copies of the layers
    forgot = ops.replaced_from(_ReluBackwardForgotten)
    x, target = _batch(run.rng)
    params = tiny_cnn.init_params(1, 3, x.shape[-1], filters=4, seed=int(run.rng.integers(1 << 30)))
    lr = 0.1
    text = (
        f"{run.name}(params with shapes {[p.shape for p in params]}, x of shape {x.shape}, "
        f"target of shape {target.shape}, lr={lr})"
    )
    losses = []
    for step in range(8 if hidden else 5):
        args = [("params", params), ("x", x), ("target", target), ("lr", lr)]
        loss, new, names = _step_result(run, run.call(args, text=text), text)
        expected_loss, expected_new = tiny_cnn.sgd_step(params, x, target, lr, ops)
        _, no_relu_backward = tiny_cnn.sgd_step(params, x, target, lr, forgot)
        if abs(loss - expected_loss) > 1e-6 * max(1.0, abs(expected_loss)):
            run.fail(
                f"At step {step} the loss is {loss:.6g}, expected {expected_loss:.6g} (the "
                "loss BEFORE the update). Check the forward pass: conv (padding 1) -> ReLU -> "
                f"max pool 2 -> flatten -> linear -> cross-entropy.\n{in_call(text)}"
            )
        wrong = zip(new, expected_new, params, no_relu_backward, names, strict=True)
        for got, expected, old, no_relu, n in wrong:
            if not matches(got, expected, 1e-5, 1e-7):
                where, alternatives = (
                    f"{text} at step {step}",
                    _step_hints(n, old, expected, no_relu),
                )
                run.compare(got, expected, where, f"new {n}", alternatives, rtol=1e-5, atol=1e-7)
        losses.append(loss)
        params = tuple(new)
    if not losses[-1] < losses[0]:
        run.fail(f"The loss did not go down over {len(losses)} steps: {losses}.")
    print(f"{run.name}: loss went from {losses[0]:.4f} to {losses[-1]:.4f} in {len(losses)} steps.")
