"""Checks of assignment 6, section 7: the whole network, forward, backward and predictions, against
:mod:`cvlib.numpy_cnn` (itself equal to the same network in PyTorch with copied weights, and to
its autograd gradients).

Each check swaps the student's layer functions for the references while the network runs, so
that these tests grade the assembly (which layer feeds which, what is cached, the flattening
before the dense layer and its backward), not the layers again; ``block_forward`` and
``block_backward`` are the student's own and are graded through ``forward`` and
``loss_and_grads``. The random networks
have non-trivial batch-norm weights and running estimates, so that no layer is an identity.
"""

from .._compare import in_call, mismatch, reordered
from ..checks import Run
from .references import (
    OWN,
    answers,
    call_text,
    network,
    network_answers,
    random_network,
)

STATS = ("bn1_mean", "bn1_var", "bn2_mean", "bn2_var")
LOGITS_SHAPE = (
    "Your logits are transposed: they have one row per image and one column per class, shape "
    "(N, num_classes), as linear(features, fc_weight, fc_bias) gives them."
)
# the gradients in the order the backward pass computes them
BACKWARD_ORDER = (7, 6, 5, 4, 3, 2, 1, 0)


def _cases(rng, hidden, training_only=False):
    """``(channels, classes, x, training, momentum)`` of small networks on 8x8, 14x14 (the
    assignment's size, whose 7x7 maps lose their last row and column to pooling) or 4x4 images."""
    cases = [((3, 4), 5, (4, 1, 8, 8), True, 0.1), ((2, 3), 10, (3, 1, 14, 14), False, 0.1)]
    cases.append(((3, 2), 4, (2, 1, 14, 14), True, 0.25))
    if hidden:
        cases += [((4, 3), 3, (5, 1, 4, 4), False, 0.1), ((2, 2), 6, (3, 1, 4, 4), True, 0.1)]
    for channels, classes, shape, training, momentum in cases:
        if training or not training_only:
            yield channels, classes, rng.normal(size=shape), training, momentum


def _compare_stats(run, got, expected, text):
    """The new running estimates: four arrays, compared one by one."""
    __tracebackhide__ = True
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        run.fail(
            f"new_stats should be a Stats of 4 arrays {STATS}, got {type(got).__name__}.\n"
            f"{in_call(text)}"
        )
    for value, want, name in zip(got, expected, STATS, strict=True):
        run.compare(run.array(value, text, f"new_stats.{name}"), want, text, f"new_stats.{name}")


def check_forward(fn, seed=None, hidden=False):
    """Check ``fn(params, stats, x, training, momentum=0.1) -> (logits, new_stats, cache)``
    against :func:`cvlib.numpy_cnn.forward`, in training and evaluation mode (the student's layer
    functions replaced by the references while it runs)."""
    __tracebackhide__ = True
    run = Run("a6_capstone.check_forward", fn, "forward", seed, hidden, isolate=answers(), **OWN)
    cnn, ops = network()
    for channels, classes, x, training, momentum in _cases(run.rng, hidden):
        params, stats = random_network(cnn, run.rng, channels, classes, x.shape[2:])
        args = [("params", params), ("stats", stats), ("x", x), ("training", training)]
        kwargs = {"momentum": momentum} if momentum != 0.1 else {}
        text = call_text(run, args, kwargs)
        got = run.parts(run.call(args, kwargs, text=text), ("logits", "new_stats", "cache"), text)
        logits, new_stats, _ = cnn.forward(params, stats, x, training, ops, momentum)
        other = cnn.forward(params, stats, x, not training, ops, momentum)[0]
        mode = "each batch's own statistics" if training else "the running estimates"
        hints = [(f"These are the other mode's logits: training={training} uses {mode}.", other)]
        hints.append(reordered(LOGITS_SHAPE))
        run.compare(run.array(got[0], text, "logits"), logits, text, "logits", hints)
        _compare_stats(run, got[1], new_stats, text)


def _gradient_hints(names, wrong, scale):
    """Where the first wrong gradient (in backward order) points to."""
    right = [names[k] for k in BACKWARD_ORDER if k not in wrong]
    first = names[next(k for k in BACKWARD_ORDER if k in wrong)]
    said = f"Right: {', '.join(right) or 'none'}; the first wrong one in backward order is {first}"
    where = {
        "fc": "the dense layer's backward (linear_backward on the flattened features).",
        "bn2": "block 2's backward from the flattened features down to its batch norm (the "
        "flattening's backward reshapes dfeatures back to the shape of block 2's output).",
        "conv2": "block 2's backward between its batch norm and its convolution.",
        "bn1": "what block 2's backward hands block 1 (dx of block 2's convolution).",
        "conv1": "block 1's backward between its batch norm and its convolution.",
    }
    return f"{said}: look at {where[first.split('_')[0]]}" + (f" ({scale})" if scale else "")


def check_loss_and_grads(fn, seed=None, hidden=False):
    """Check ``fn(params, stats, x, target) -> (loss, grads, new_stats)`` against
    :func:`cvlib.numpy_cnn.loss_and_grads` (the student's layers replaced by the references)."""
    __tracebackhide__ = True
    run = Run(
        "a6_capstone.check_loss_and_grads",
        fn,
        "loss_and_grads",
        seed,
        hidden,
        isolate=answers(),
        **OWN,
    )
    cnn, ops = network()
    for channels, classes, x, _, _ in _cases(run.rng, hidden, training_only=True):
        params, stats = random_network(cnn, run.rng, channels, classes, x.shape[2:])
        target = run.rng.integers(0, classes, size=len(x))
        args = [("params", params), ("stats", stats), ("x", x), ("target", target)]
        text = call_text(run, args)
        got = run.parts(run.call(args, text=text), ("loss", "grads", "new_stats"), text)
        loss, grads, new_stats = cnn.loss_and_grads(params, stats, x, target, ops)
        got_loss = run.number(got[0], text, "loss")
        if abs(got_loss - loss) > 1e-8 * max(1.0, abs(loss)):
            run.fail(
                f"The loss is {got_loss:.8g}, expected {loss:.8g} (the training-mode loss, "
                f"before any update): check test_forward first.\n{in_call(text)}"
            )
        _compare_grads(run, got[1], grads, x.shape[-2:], text)
        _compare_stats(run, got[2], new_stats, text)


def _compare_grads(run, got, expected, size, text):
    """The 8 gradients; the first wrong one in backward order is reported, with where to look."""
    __tracebackhide__ = True
    names = expected._fields
    if not isinstance(got, (tuple, list)) or len(got) != len(names):
        run.fail(
            f"grads should be a Params of the 8 gradients {names}, got "
            f"{type(got).__name__}.\n{in_call(text)}"
        )
    arrays = [run.array(g, text, f"grads.{n}") for g, n in zip(got, names, strict=True)]
    wrong = {
        k
        for k, (g, e) in enumerate(zip(arrays, expected, strict=True))
        if g.shape != e.shape or mismatch(g, e, 1e-6, 1e-9).any()
    }
    if not wrong:
        return
    k = next(k for k in BACKWARD_ORDER if k in wrong)
    pixels = (size[0] // 4) * (size[1] // 4)  # what block 2's output has per channel
    scaled = arrays[k].shape == expected[k].shape and pixels > 1
    scaled = scaled and not mismatch(arrays[k], expected[k] * pixels, 1e-5, 1e-8).any()
    hint = _gradient_hints(names, wrong, f"yours is {pixels} times too large" * scaled)
    other = [j for j in range(len(names)) if j != k and arrays[k].shape == expected[j].shape]
    other = [j for j in other if not mismatch(arrays[k], expected[j], 1e-6, 1e-9).any()]
    if other:  # a right gradient in the wrong place: the order of the Params, not the backward
        hint = (
            f"grads.{names[k]} holds the gradient of {names[other[0]]}: build grads in the "
            f"order of params' fields, Params({', '.join(names)})."
        )
    # the hint's "alternative" is the result itself: it is said whenever this gradient is wrong
    run.compare(
        arrays[k], expected[k], text, f"grads.{names[k]}", [(hint, arrays[k])], rtol=1e-6, atol=1e-9
    )


def check_predict(fn, seed=None, hidden=False):
    """Check ``fn(params, stats, x) -> logits`` in evaluation mode against
    :func:`cvlib.numpy_cnn.predict` (``forward`` replaced by the reference); one image alone must
    get its row of the whole batch."""
    __tracebackhide__ = True
    cnn, ops = network()
    isolate = {**answers(), "forward": network_answers(cnn, ops)["forward"]}
    run = Run("a6_capstone.check_predict", fn, "predict", seed, hidden, isolate=isolate, **OWN)
    for channels, classes, x, _, _ in _cases(run.rng, hidden):
        params, stats = random_network(cnn, run.rng, channels, classes, x.shape[2:])
        expected = cnn.predict(params, stats, x, ops)
        hints = [
            (
                "predict runs the network in EVALUATION mode: forward(params, stats, x, False).",
                cnn.forward(params, stats, x, True, ops)[0],
            ),
            reordered(LOGITS_SHAPE),
        ]
        for batch in (x, x[1:2]):
            args = [("params", params), ("stats", stats), ("x", batch)]
            want = expected if batch is x else expected[1:2]
            run.expect_array(args, want, alternatives=hints, what="logits")
