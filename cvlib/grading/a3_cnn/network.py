"""The LeNet check of assignment 3, by behaviour: what the network computes, not how it is written.

:func:`check_lenet` builds the student's network and looks at

1. the output: one row of ``num_classes`` values per image, depending on the image;
2. the stages: the shapes of the intermediate results of one forward pass, traced through every
   torch operation (:class:`torch.overrides.TorchFunctionMode`), so ``nn.MaxPool2d`` and
   ``F.max_pool2d`` in ``forward`` count alike: (6, 28, 28), (6, 14, 14), (16, 10, 10),
   (16, 5, 5), (120,), (84,), (num_classes,);
3. the parameter count (61,706 for 10 classes);
4. the computation itself: LeNet-5 recomputed from the student's own weights (found by their
   shapes) with ReLU and 2x2 pooling must give the student's output: the specified activations,
   and logits rather than probabilities.
"""

import torch
import torch.nn.functional as F

from .._torch import build, forward, parameters_of
from ..box_helpers import tools
from ..box_torch import ShapeTrace
from ..checks import Run
from ..remote import is_remote
from ..tripwires import NETWORKS

OWN_NETWORK = "this answer asks for your own network (torch.nn's layers and functions are fine)"

# (what, kind of operation, per-image output shape) of LeNet-5's stages on a (1, 32, 32) image
STAGES = [
    ("the first convolution", "conv", (6, 28, 28)),
    ("the first pooling", "pool", (6, 14, 14)),
    ("the second convolution", "conv", (16, 10, 10)),
    ("the second pooling", "pool", (16, 5, 5)),
    ("the first dense layer", "linear", (120,)),
    ("the second dense layer", "linear", (84,)),
]


def lenet_params(num_classes):
    """Parameters of LeNet-5 with ``num_classes`` outputs (61,706 for 10).

    Examples
    --------
    >>> lenet_params(10)
    61706
    """
    return 156 + 2416 + 48120 + 10164 + 85 * num_classes


def _kind(operation):
    for kind in ("conv", "pool", "linear"):
        if kind in operation:
            return kind
    return None


def _stage_hint(what, shape, got):
    if "convolution" in what and got[0] == shape[0]:
        return (
            " The channels are right but the size is not: LeNet's convolutions use 5x5 kernels, "
            "stride 1 and no padding (32 -> 28, 14 -> 10)."
        )
    if "pooling" in what:
        return " Each convolution (and its ReLU) is followed by a 2x2 pooling with stride 2."
    return ""


def _check_stages(run, steps, text, k):
    """Each stage's shape must appear, in order, among the traced intermediate results."""
    __tracebackhide__ = True
    shapes = [shape for _, shape in steps]
    position = 0
    for what, kind, shape in [*STAGES, ("the output layer", "linear", (k,))]:
        if shape in shapes[position:]:
            position = shapes.index(shape, position) + 1
            continue
        same_kind = [s for op, s in steps[position:] if _kind(op) == kind]
        if same_kind:
            run.fail(
                f"{text}: {what} should give an output of shape {shape} per image, but your "
                f"network's next {kind} operation gives output shape {same_kind[0]}."
                + _stage_hint(what, shape, same_kind[0])
            )
        run.fail(
            f"{text}: no intermediate result of shape {shape} ({what}). The stages of LeNet-5 "
            "are conv 6@5x5, pool 2x2, conv 16@5x5, pool 2x2, dense 120, dense 84, dense "
            f"{k}; your forward pass produced these per-image shapes: "
            f"{list(dict.fromkeys(shapes))}."
        )


def _weights(params, k):
    """LeNet's ten weight tensors taken from the student's parameters (tensors, in order) by
    their shapes, or None."""
    shapes = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120), (84,)]
    shapes += [(k, 84), (k,)]
    found = []
    for shape in shapes:
        same = [p for p in params if tuple(p.shape) == shape]
        flipped = [p.T for p in params if p.ndim == 2 and tuple(p.shape) == shape[::-1]]
        if len(same) + len(flipped) != 1:
            return None
        found.append((same or flipped)[0])
    return found


def lenet_forward(x, w, act=F.relu, pool=F.max_pool2d, skip=None, final=None):
    """LeNet-5 computed from the weights ``w`` (see :func:`_weights`); ``skip`` leaves out the
    activation of stage 0 to 3, ``final`` is applied to the logits."""

    def a(i, t):
        return t if i == skip else act(t)

    x = pool(a(0, F.conv2d(x, w[0], w[1])), 2)  # (N, 6, 14, 14)
    x = pool(a(1, F.conv2d(x, w[2], w[3])), 2)  # (N, 16, 5, 5)
    x = a(2, F.linear(x.flatten(1), w[4], w[5]))  # (N, 120)
    x = a(3, F.linear(x, w[6], w[7]))  # (N, 84)
    x = F.linear(x, w[8], w[9])  # (N, num_classes)
    return x if final is None else final(x)


_PLACES = ("the first convolution", "the second convolution", "the first dense layer")
_PLACES += ("the second dense layer",)
_WRONG = [
    (
        {"final": lambda z: z.softmax(1)},
        "Return the logits, not probabilities: no softmax at the "
        "end (nn.CrossEntropyLoss applies it itself).",
    ),
    (
        {"final": lambda z: z.log_softmax(1)},
        "Return the logits: no log-softmax at the end (nn.CrossEntropyLoss applies it itself).",
    ),
    (
        {"act": torch.tanh},
        "LeNet here uses ReLU, not tanh, after each convolution and dense layer.",
    ),
    ({"act": torch.sigmoid}, "LeNet here uses ReLU, not the sigmoid."),
    (
        {"act": lambda t: t},
        "Put a ReLU after each convolution and after the first two dense layers; "
        "without activations the whole network is one linear function.",
    ),
] + [({"skip": i}, f"The ReLU after {place} is missing.") for i, place in enumerate(_PLACES)]


def _check_computation(run, model, text, k):
    """The student's output must be LeNet-5's, recomputed from the student's own weights."""
    __tracebackhide__ = True
    x = torch.rand(4, 1, 32, 32)
    got = forward(model, x, text, run.recipe).detach()
    w = _weights([p for _, p, _ in parameters_of(run, model, text)], k)
    if w is None:  # weights laid out in some other way: check the activations only
        zero = forward(model, torch.zeros_like(x), text, run.recipe)
        doubled = forward(model, 2 * x, text, run.recipe).detach()
        if torch.allclose(doubled, 2 * got - zero.detach(), 1e-3, 1e-4):
            run.fail(
                f"{text} computes a linear function of the image: out(2 * x) equals "
                f"2 * out(x) - out(black image) for every x.\nHint: {_WRONG[4][1]}"
            )
        return
    with torch.no_grad():
        if any(
            torch.allclose(got, lenet_forward(x, w, pool=p), 1e-4, 1e-5)
            for p in (F.max_pool2d, F.avg_pool2d)
        ):
            return
        hints = [
            hint
            for change, hint in _WRONG
            if torch.allclose(got, lenet_forward(x, w, **change), 1e-4, 1e-5)
        ]
    run.fail(
        f"{text} does not compute LeNet-5: recomputed from your network's own weights (conv, "
        "ReLU, 2x2 max pooling, twice; dense 120 and 84 with ReLU; dense output), the output "
        "differs from your forward pass." + "".join(f"\nHint: {h}" for h in hints[:1])
    )


def _traced(run, model, x, text):
    """``(model(x), steps)``: the output without gradients and the traced stages, computed
    where the network is (here, or in its box, where the trace runs too)."""
    __tracebackhide__ = True
    if is_remote(model):
        result = run.call([("model", model), ("x", x)], fn=tools(model.box).trace, text=text)
        ok = isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], list)
        steps = result[1] if ok else []
        if not all(isinstance(s, tuple) and len(s) == 2 and isinstance(s[1], tuple) for s in steps):
            steps = []
        return (result[0] if ok else result), steps
    trace = ShapeTrace(len(x))

    def traced(x):
        with torch.no_grad(), trace:
            return model(x)

    return run.call([("x", x)], fn=traced, text=text), trace.steps


def check_lenet(model_fn, hidden=False):
    """Check ``model_fn(num_classes=...)`` builds LeNet-5, by what the network computes."""
    __tracebackhide__ = True
    run = Run(
        "check_lenet",
        model_fn,
        "LeNet",
        hidden=hidden,
        seeded=False,
        forbid=NETWORKS,
        reason=OWN_NETWORK,
    )
    for k in (10, 3, 7) if hidden else (10,):
        text = run.text([], {"num_classes": k})
        model = build(run, model_fn, {"num_classes": k})
        with run.student_code(f"{text}.eval()"):
            model.eval()
        x = torch.rand(2, 1, 32, 32)
        out, steps = _traced(run, model, x, f"{text} on a (2, 1, 32, 32) batch")
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, k):
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            run.fail(
                f"{text} maps a (2, 1, 32, 32) batch to {shape}, expected (2, {k}): one row of "
                f"{k} logits per image."
            )
        _check_stages(run, steps, text, k)
        params = sum(p.numel() for _, p, _ in parameters_of(run, model, text))
        if params != lenet_params(k):
            run.fail(
                f"{text} has {params:,} parameters, expected {lenet_params(k):,}. Every layer "
                "has a bias, and the first dense layer takes the 16 * 5 * 5 = 400 values of "
                "the flattened feature map."
            )
        other = _traced(run, model, x, text)[0]
        if torch.allclose(other, _traced(run, model, torch.rand_like(x), text)[0]):
            run.fail(
                f"{text} gives the same output whatever the image: the network ignores its input."
            )
        _check_computation(run, model, text, k)
