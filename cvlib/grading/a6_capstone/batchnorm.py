"""Checks of assignment 6, section 4: spatial batch normalisation, forward and backward, in
training and in evaluation mode, against :mod:`cvlib.batchnorm` (itself equal to
``torch.nn.functional.batch_norm`` and ``nn.BatchNorm2d``'s buffers) and numerical gradients.

The forward check carries the running estimates from step to step, as ``nn.BatchNorm2d`` does,
tests batches with ``M = 2`` values per channel (where a biased running variance is half the
right one), and scores one image evaluated alone against its row in a whole batch.
"""

import numpy as np

from .._student import reference
from ..checks import Run
from .references import OWN

_OUT = ("out", "new_running_mean", "new_running_var")


def _statistics(rng, c):
    """Running estimates (mean, variance), affine weight and bias of ``c`` channels."""
    mean, var = rng.normal(0.0, 0.5, c), rng.uniform(0.5, 2.0, c)
    return mean, var, rng.normal(1.0, 0.3, c), rng.normal(0.0, 0.3, c)


def _forward_hints(bn, x, stats, training, momentum, expected):
    """What typical mistakes return: a biased running variance, the batch's statistics at
    evaluation, the estimates never updated, the momentum the wrong way round, one mean per
    pixel instead of per channel."""
    mean, var, weight, bias = stats
    as_training = bn.batch_norm(x, mean, var, weight, bias, True, momentum)
    m = x.size // x.shape[1]
    hints = {"out": [], "new_running_mean": [], "new_running_var": []}
    if training:
        hints["new_running_var"] += [
            (
                "The running variance takes the UNBIASED variance of the batch: var * M / (M - 1) "
                f"with M = N*H*W = {m} values per channel (the normalisation itself uses var).",
                (1 - momentum) * var + momentum * x.var(axis=(0, 2, 3)),
            ),
            ("Update the running variance: it came back unchanged.", var),
        ]
        hints["new_running_mean"] += [
            ("Update the running mean in training mode: it came back unchanged.", mean),
            (
                "running = (1 - momentum) * running + momentum * batch_mean (momentum weighs the "
                "NEW batch).",
                momentum * mean + (1 - momentum) * x.mean(axis=(0, 2, 3)),
            ),
        ]
        per_pixel = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
        hints["out"].append(
            (
                "One mean and variance per CHANNEL, over the batch and the pixels: axes (0, 2, 3).",
                weight.reshape(1, -1, 1, 1) * per_pixel + bias.reshape(1, -1, 1, 1),
            )
        )
    else:
        hints["out"].append(
            (
                "In evaluation mode normalise with the running estimates, not with the batch's "
                "own mean and variance.",
                as_training[0],
            )
        )
        unchanged = "In evaluation mode the running estimates come back unchanged."
        hints["new_running_mean"].append((unchanged, as_training[1]))
        hints["new_running_var"].append((unchanged, as_training[2]))
    return hints


def _forward_cases(rng, hidden):
    """``(x, training, momentum, steps)``: steps > 1 carry the estimates from call to call."""
    cases = [
        (rng.normal(2.0, 3.0, (4, 3, 5, 5)), True, 0.1, 3),
        (rng.normal(size=(3, 2, 4, 6)), False, 0.1, 1),
        (rng.normal(size=(2, 3, 1, 1)), True, 0.1, 2),  # M = 2 values per channel
        (rng.normal(-1.0, 2.0, (5, 2, 3, 3)), True, 0.3, 2),
    ]
    if hidden:
        cases += [
            (rng.normal(size=(1, 4, 1, 2)), True, 0.5, 3),  # M = 2 again
            (rng.normal(1.0, 0.5, (6, 1, 2, 7)), False, 0.2, 1),
            (rng.normal(size=(3, 5, 2, 2)), True, 0.0, 2),
        ]
    return cases


def check_batch_norm(fn, seed=None, hidden=False):
    """Check ``fn(x, running_mean, running_var, weight, bias, training, momentum=0.1)`` ->
    ``(out, new_running_mean, new_running_var)`` against :func:`cvlib.batchnorm.batch_norm`.

    Training: the batch's statistics, estimates moved towards the batch (the variance
    unbiased); evaluation: the running estimates, returned unchanged. The inputs (the estimates
    included) must stay unchanged: the new estimates are new arrays.
    """
    __tracebackhide__ = True
    run = Run("a6_capstone.check_batch_norm", fn, "batch_norm", seed, hidden, **OWN)
    bn = reference("cvlib.batchnorm")
    for x, training, momentum, steps in _forward_cases(run.rng, hidden):
        mean, var, weight, bias = _statistics(run.rng, x.shape[1])
        for _ in range(steps):
            expected = bn.batch_norm(x, mean, var, weight, bias, training, momentum)
            hints = _forward_hints(bn, x, (mean, var, weight, bias), training, momentum, expected)
            args = [("x", x), ("running_mean", mean), ("running_var", var), ("weight", weight)]
            args += [("bias", bias), ("training", training)]
            want = dict(zip(_OUT, expected, strict=True))
            run.expect_arrays(args, want, {"momentum": momentum}, hints)
            mean, var = expected[1], expected[2]
            x = x + run.rng.normal(0.0, 0.5, x.shape)  # the next batch
        if not training:
            _one_image_alone(run, bn, x, (mean, var, weight, bias))


def _one_image_alone(run, bn, x, stats):
    """In evaluation mode an image alone must get its row of the whole batch."""
    __tracebackhide__ = True
    mean, var, weight, bias = stats
    alone = x[:1]
    args = [("x", alone), ("running_mean", mean), ("running_var", var), ("weight", weight)]
    args += [("bias", bias), ("training", False)]
    expected = bn.batch_norm(alone, mean, var, weight, bias, False)
    text = run.text(args) + " (one image alone, in evaluation mode)"
    got = run.parts(run.call(args, text=text), _OUT, text)[0]
    hints = [
        (
            "Evaluated alone, an image must get the same output as in a batch: normalise with "
            "the running estimates in evaluation mode.",
            bn.batch_norm(alone, mean, var, weight, bias, True)[0],
        )
    ]
    run.compare(run.array(got, text, "out"), expected[0], text, "out", hints)


def _backward_cases(rng, hidden):
    """``(x, training, with running estimates)``; training mode must not need the estimates."""
    cases = [
        (rng.normal(1.0, 2.0, (4, 3, 3, 3)), True, True),
        (rng.normal(size=(3, 2, 4, 2)), False, True),
    ]
    cases.append((rng.normal(size=(2, 2, 3, 2)), True, False))  # as block_backward calls it
    if hidden:
        cases += [
            (rng.normal(size=(2, 3, 1, 1)), True, True),
            (rng.normal(size=(1, 4, 2, 3)), False, True),
        ]
    return cases


def check_batch_norm_backward(fn, seed=None, hidden=False):
    """Check ``fn(dout, x, running_mean, running_var, weight, training)`` ->
    ``(dx, dweight, dbias)`` against numerical gradients of ``sum(batch_norm(...)[0] * dout)``.

    In training mode the batch's mean and variance depend on ``x`` (a backward pass that treats
    them as constants fails), and the running estimates play no part: ``None`` is passed for
    them, as ``block_backward`` does.
    """
    __tracebackhide__ = True
    run = Run(
        "a6_capstone.check_batch_norm_backward", fn, "batch_norm_backward", seed, hidden, **OWN
    )
    bn, gradcheck = reference("cvlib.batchnorm"), reference("cvlib.gradcheck")
    for x, training, with_estimates in _backward_cases(run.rng, hidden):
        mean, var, weight, bias = _statistics(run.rng, x.shape[1])
        dout = run.rng.normal(size=x.shape)

        def out(x=x, weight=weight, bias=bias, training=training, mean=mean, var=var):
            return bn.batch_norm(x, mean, var, weight, bias, training)[0]  # (N, C, H, W)

        expected = {
            "dx": gradcheck.numerical_gradient(lambda v: out(x=v), x, dout),
            "dweight": gradcheck.numerical_gradient(lambda v: out(weight=v), weight, dout),
            "dbias": gradcheck.numerical_gradient(lambda v: out(bias=v), bias, dout),
        }
        batch = (x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3)))
        hints = {
            "dx": [
                (
                    "In training mode the batch's mean and variance depend on x too: "
                    "dx = (M*g - sum(g) - x_hat * sum(g * x_hat)) / (M * sqrt(var + eps)).",
                    bn.batch_norm_backward(dout, x, *batch, weight, False)[0],
                )
            ]
            if training
            else []
        }
        if not with_estimates:
            mean = var = None
        args = [("dout", dout), ("x", x), ("running_mean", mean), ("running_var", var)]
        args += [("weight", weight), ("training", training)]
        run.expect_arrays(args, expected, alternatives=hints, rtol=1e-4, atol=1e-6)
