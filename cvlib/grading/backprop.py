"""Checks for backpropagation (assignment 2): convolution backward and a training step."""

import numpy as np

from cvlib import tiny_cnn

from ._compare import as_float, as_float_array, compare_arrays, matches
from ._student import call, fail, new_seed, reference, with_references
from .conv import _name


def _conv_backward_cases(rng, hidden):
    # (N, C_in, H, W, C_out, k, stride, padding)
    shapes = [(2, 3, 5, 5, 2, 3, 1, 0), (1, 2, 6, 7, 3, 3, 2, 1), (2, 1, 7, 6, 2, 2, 1, 1)]
    if hidden:
        shapes += [(1, 2, 8, 5, 1, 3, 3, 2), (3, 1, 4, 4, 2, 4, 1, 0)]
    for n, c, h, w, f, k, s, p in shapes:
        yield (rng.normal(size=(n, c, h, w)), rng.normal(size=(f, c, k, k)), s, p)


def _numerical_grads(conv, numerical, dout, x, weight, bias, s, p):
    """Centred-difference gradients of sum(conv2d(x, weight, bias) * dout) for the 3 inputs."""

    def forward(x, weight, bias):
        return conv.conv2d(x, weight, bias, stride=s, padding=p)

    return (
        numerical(lambda v: forward(v, weight, bias), x, dout),
        numerical(lambda v: forward(x, v, bias), weight, dout),
        numerical(lambda v: forward(x, weight, v), bias, dout),
    )


def check_conv_backward(fn, seed=None, hidden=False):
    """Check ``fn(dout, x, weight, stride=1, padding=0) -> (dx, dweight, dbias)`` on NCHW input.

    The expected gradients are numerical: centred differences of ``sum(conv2d(...) * dout)``
    (:func:`cvlib.gradcheck.numerical_gradient`), independent of any backward formula.
    """
    __tracebackhide__ = True
    check = "check_conv_backward"
    seed = new_seed(seed)
    rng = np.random.default_rng(seed)
    conv = reference("cvlib.conv")
    numerical = reference("cvlib.gradcheck").numerical_gradient
    name = _name(fn, "conv2d_backward")
    for x, weight, s, p in _conv_backward_cases(rng, hidden):
        bias = rng.normal(size=len(weight))
        out = conv.conv2d(x, weight, bias, stride=s, padding=p)  # (N, C_out, H_out, W_out)
        dout = rng.normal(size=out.shape)
        text = (
            f"{name}(dout of shape {dout.shape}, x of shape {x.shape}, weight of shape "
            f"{weight.shape}, stride={s}, padding={p})"
        )
        result = call(
            fn,
            name,
            [("dout", dout), ("x", x), ("weight", weight)],
            {"stride": s, "padding": p},
            seed,
            check,
        )
        if not isinstance(result, tuple) or len(result) != 3:
            fail(
                f"{text} should return a tuple (dx, dweight, dbias), but returned "
                f"{type(result).__name__}. End with `return dx, dweight, dbias`.",
                seed,
                check,
            )
        dx, dweight, dbias = (
            as_float_array(g, text, what=w, seed=seed, check=check)
            for g, w in zip(result, ("dx", "dweight", "dbias"), strict=True)
        )
        expected_dx, expected_dw, expected_db = _numerical_grads(
            conv, numerical, dout, x, weight, bias, s, p
        )
        tol = {"rtol": 1e-4, "atol": 1e-6}
        compare_arrays(
            dx,
            expected_dx,
            text,
            what="dx",
            seed=seed,
            check=check,
            alternatives=[
                (
                    "dx must have the shape of x: if you padded x, crop the "
                    "padding off the gradient "
                    "(dx_padded[..., p:-p, p:-p]).",
                    np.zeros((*x.shape[:2], x.shape[2] + 2 * p, x.shape[3] + 2 * p)),
                ),
            ],
            **tol,
        )
        compare_arrays(
            dweight,
            expected_dw,
            text,
            what="dweight",
            seed=seed,
            check=check,
            alternatives=[
                (
                    "dweight must include every sample of the batch: sum over N.",
                    np.zeros(weight.shape),
                ),
                (
                    "dweight is the cross-correlation of the input with dout, NOT flipped.",
                    expected_dw[..., ::-1, ::-1],
                ),
            ],
            **tol,
        )
        compare_arrays(
            dbias,
            expected_db,
            text,
            what="dbias",
            seed=seed,
            check=check,
            alternatives=[
                (
                    "dbias has one entry per output channel: sum dout over the batch "
                    "AND the spatial positions (axes 0, 2, 3).",
                    dout.sum(axis=(2, 3)),
                ),
                (
                    "dbias sums dout over the batch too, not only over positions.",
                    dout[0].sum(axis=(1, 2)),
                ),
            ],
            **tol,
        )


def _batch(rng, n=12, size=6, classes=3):
    """A small learnable batch: each class lights up its own quadrant pattern, plus noise."""
    target = np.arange(n) % classes
    x = rng.normal(scale=0.3, size=(n, 1, size, size))
    for i, t in enumerate(target):
        x[i, 0, t * size // classes : (t + 1) * size // classes] += 1.0
    return x, target


def check_training_step(fn, seed=None, hidden=False):
    """Check ``fn(params, x, target, lr) -> (loss, new_params)`` for the tiny CNN.

    The loss must equal the reference forward pass, the new parameters one step of gradient
    descent, and repeating the step must make the loss go down.
    """
    __tracebackhide__ = True
    check = "check_training_step"
    seed = new_seed(seed)
    rng = np.random.default_rng(seed)
    core = {m: reference(f"cvlib.{m}") for m in ("conv", "pool", "layers")}
    name = _name(fn, "train_step")
    # Graded on its own: the student's own pooling, ReLU, ... (if it calls them) are swapped for
    # the references, whose signatures the assignment's functions share.
    fn = with_references(
        fn,
        {
            "max_pool2d": core["pool"].max_pool2d,
            "relu": core["layers"].relu,
            "cross_entropy": core["layers"].cross_entropy,
            "max_pool2d_backward": core["pool"].max_pool2d_backward,
            "conv2d_backward": core["conv"].conv2d_backward,
        },
    )
    x, target = _batch(rng)
    params = tiny_cnn.init_params(1, 3, x.shape[-1], filters=4, seed=int(rng.integers(1 << 30)))
    lr = 0.1
    names = ("conv_weight", "conv_bias", "fc_weight", "fc_bias")
    text = (
        f"{name}(params with shapes {[p.shape for p in params]}, x of shape {x.shape}, "
        f"target of shape {target.shape}, lr={lr})"
    )
    losses = []
    for step in range(8 if hidden else 5):
        result = call(
            fn,
            name,
            [("params", params), ("x", x), ("target", target), ("lr", lr)],
            None,
            seed,
            check,
        )
        if not isinstance(result, tuple) or len(result) != 2:
            fail(
                f"{text} should return a tuple (loss, new_params), but returned "
                f"{type(result).__name__}.",
                seed,
                check,
            )
        loss = as_float(result[0], text, what="loss", seed=seed, check=check)
        new = result[1]
        if not isinstance(new, (tuple, list)) or len(new) != 4:
            fail(
                f"{text}: new_params should be a tuple of 4 arrays {names}, but it is "
                f"{type(new).__name__}.",
                seed,
                check,
            )
        new = [
            as_float_array(p, text, what=f"new {n}", seed=seed, check=check)
            for p, n in zip(new, names, strict=True)
        ]
        expected_loss, expected_new = tiny_cnn.sgd_step(x, target, params, lr, **core)
        if abs(loss - expected_loss) > 1e-6 * max(1.0, abs(expected_loss)):
            fail(
                f"{text} at step {step}: loss is {loss:.6g}, expected {expected_loss:.6g} (the "
                "loss BEFORE the update). Check the forward pass: conv (padding 1) -> ReLU -> "
                "max pool 2 -> flatten -> linear -> cross-entropy.",
                seed,
                check,
            )
        for got, expected, old, n in zip(new, expected_new, params, names, strict=True):
            alternatives = [
                (f"{n} did not change: return the UPDATED parameters.", old),
                ("Gradient DEscent subtracts: new = param - lr * grad.", 2 * old - expected),
            ]
            if not matches(got, expected, 1e-5, 1e-7):
                compare_arrays(
                    got,
                    expected,
                    f"{text} at step {step}",
                    what=f"new {n}",
                    alternatives=alternatives,
                    seed=seed,
                    check=check,
                    rtol=1e-5,
                    atol=1e-7,
                )
        losses.append(loss)
        params = tuple(new)
    if not losses[-1] < losses[0]:
        fail(f"The loss did not go down over {len(losses)} steps: {losses}.", seed, check)
    print(f"{name}: loss went from {losses[0]:.4f} to {losses[-1]:.4f} in {len(losses)} steps.")
