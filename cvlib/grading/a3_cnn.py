"""Checks of assignment 3: a LeNet-style network, its training loop, and the trained model.

- :func:`check_lenet` builds the student's network and compares it, layer by layer, with
  LeNet-5 as :func:`cvlib.summary` reports it (output shape of every convolution, pooling and
  dense layer, and the parameter count, 61,706 for 10 classes).
- :func:`check_train_one_epoch` and :func:`check_evaluate` run the student's loop on a tiny model
  and compare with :func:`cvlib.train.train_one_epoch` on an identical copy (same data, same
  optimizer settings).
- :func:`check_trained_classifier` scores a trained model on held-out digits
  (:func:`cvlib.grading.heldout.heldout_digits`) against a threshold.
"""

import copy

import torch
from torch import nn

from ._student import fail, reference
from ._torch import accuracy, build, forward, real_number
from .checks import Run
from .heldout import heldout_digits

# (layer type, output shape) of LeNet-5 on a (1, 32, 32) input, activations left out.
LENET_SHAPES = [
    ("Conv2d", (6, 28, 28)),
    ("MaxPool2d", (6, 14, 14)),
    ("Conv2d", (16, 10, 10)),
    ("MaxPool2d", (16, 5, 5)),
    ("Linear", (120,)),
    ("Linear", (84,)),
]
_POOLS = ("MaxPool2d", "AvgPool2d")


def lenet_params(num_classes):
    """Parameters of LeNet-5 with ``num_classes`` outputs (61,706 for 10).

    Examples
    --------
    >>> lenet_params(10)
    61706
    """
    return 156 + 2416 + 48120 + 10164 + 85 * num_classes


def _layer_hint(want, have):
    if want[0] == "Conv2d" and have[0] == "Conv2d" and have[1][0] == want[1][0]:
        return (
            " The channels are right but the size is not: LeNet's convolutions use 5x5 kernels, "
            "stride 1 and no padding (32 -> 28, 14 -> 10)."
        )
    if want[0] == "MaxPool2d" and have[0] != want[0]:
        return " Each convolution (and its ReLU) is followed by a 2x2 pooling layer."
    return ""


def _check_layers(run, model, text, k):
    __tracebackhide__ = True
    summary = reference("cvlib.probes.summary").summary
    rows = [r for r in summary(model, (1, 32, 32)).rows if r.type in ("Conv2d", "Linear", *_POOLS)]
    got = [("MaxPool2d" if r.type in _POOLS else r.type, r.output_shape) for r in rows]
    expected = [*LENET_SHAPES, ("Linear", (k,))]
    for i, (want, have) in enumerate(zip(expected, got, strict=False)):
        if want != have:
            run.fail(
                f"{text}: layer {i + 1} of the layers with a shape to check (convolutions, "
                f"poolings, dense layers, activations left out) should be a {want[0]} with "
                f"output shape {want[1]}, but it is a {have[0]} with output shape "
                f"{have[1]}.{_layer_hint(want, have)}"
            )
    if len(got) != len(expected):
        run.fail(
            f"{text} has {len(got)} convolution, pooling and dense layers, expected "
            f"{len(expected)}: conv, pool, conv, pool, dense 120, dense 84, dense {k}."
        )


def check_lenet(model_fn, hidden=False):
    """Check ``model_fn(num_classes=...)`` builds LeNet-5: layer output shapes and parameters."""
    __tracebackhide__ = True
    run = Run("check_lenet", model_fn, "LeNet", hidden=hidden, seeded=False)
    for k in (10, 3, 7) if hidden else (10,):
        model = build(run, model_fn, {"num_classes": k})
        text = run.text([], {"num_classes": k})
        out = forward(model.eval(), torch.rand(2, 1, 32, 32), f"{text} on a (2, 1, 32, 32) batch")
        if tuple(out.shape) != (2, k):
            run.fail(
                f"{text} maps a (2, 1, 32, 32) batch to shape {tuple(out.shape)}, expected "
                f"(2, {k}): one row of {k} logits per image."
            )
        _check_layers(run, model, text, k)
        params = sum(p.numel() for p in model.parameters())
        if params != lenet_params(k):
            run.fail(
                f"{text} has {params:,} parameters, expected {lenet_params(k):,}. Every layer "
                "has a bias, and the first dense layer takes the 16 * 5 * 5 = 400 values of "
                "the flattened feature map."
            )
        if _is_affine(model):
            run.fail(
                f"{text}: put an activation (ReLU) after each convolution and after the first "
                "two dense layers; without them the whole network is one linear function."
            )


def _is_affine(model):
    """True if ``f(2x) == 2 f(x) - f(0)``: stacked layers without activations (pooling aside)."""
    x = torch.rand(4, 1, 32, 32) - 0.5
    with torch.no_grad():
        f0, f1, f2 = model.eval()(torch.zeros_like(x)), model(x), model(2 * x)
    return torch.allclose(f2, 2 * f1 - f0, atol=1e-4, rtol=1e-3)


def _tiny_problem(seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(50, 1, 4, 4, generator=g)
    y = torch.randint(0, 3, (50,), generator=g)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16)
    return model, loader  # 4 batches of 16, 16, 16 and 2: a mean of batch means is wrong


class _Replay:
    """An optimizer that may forget ``zero_grad`` or ``step``, to replay a typical mistake."""

    def __init__(self, optimizer, zero_grad=True, step=True):
        self.optimizer, self.zero, self.take_step = optimizer, zero_grad, step

    def zero_grad(self):
        if self.zero:
            self.optimizer.zero_grad()

    def step(self):
        if self.take_step:
            self.optimizer.step()


class _RecordedLoss(nn.CrossEntropyLoss):
    """Cross-entropy that remembers each batch's mean loss."""

    def __init__(self):
        super().__init__()
        self.batch_losses = []

    def forward(self, logits, labels):
        loss = super().forward(logits, labels)
        self.batch_losses.append(loss.item())
        return loss


def _reference_epoch(model, loader, lr, zero_grad=True, step=True):
    """:func:`cvlib.train.train_one_epoch` (fresh copy) with SGD and momentum 0.9.

    Returns (mean loss over examples, last batch's loss, mean of the batch means).
    """
    train_one_epoch = reference("cvlib.train.loop").train_one_epoch
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = _RecordedLoss()
    mean, _ = train_one_epoch(
        model, loader, _Replay(optimizer, zero_grad, step), loss_fn, "cpu", progress=False
    )
    batches = loss_fn.batch_losses
    return mean, batches[-1], sum(batches) / len(batches)


def _max_difference(a, b):
    return max(
        (p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters(), strict=True)
    )


def _weights_hint(model, seed, loader, lr):
    if _max_difference(model, _tiny_problem(seed)[0]) == 0:
        return (
            "The weights did not change at all: call loss.backward() and then optimizer.step() "
            "for every batch."
        )
    other = _tiny_problem(seed)[0]
    _reference_epoch(other, loader, lr, zero_grad=False)
    if _max_difference(model, other) < 1e-5:
        return (
            "Call optimizer.zero_grad() before loss.backward(): otherwise the gradients of all "
            "earlier batches add up."
        )
    return ""


def check_train_one_epoch(fn, seed=None):
    """Check ``fn(model, loader, optimizer, loss_fn) -> mean loss`` against a reference epoch."""
    __tracebackhide__ = True
    run = Run("check_train_one_epoch", fn, "train_one_epoch", seed)
    model, loader = _tiny_problem(run.seed)
    ref_model = copy.deepcopy(model)
    lr = 0.1
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    text = f"{run.name}(model, loader, optimizer, loss_fn)"
    model.eval()  # the function must switch it to training mode itself
    args = [("model", model), ("loader", loader), ("optimizer", optimizer)]
    got = run.call([*args, ("loss_fn", nn.CrossEntropyLoss())], text=text)
    expected, last, batch_mean = _reference_epoch(ref_model, loader, lr)
    diff = _max_difference(model, ref_model)
    if diff > 1e-5:
        hint = _weights_hint(model, run.seed, loader, lr)
        run.fail(
            f"After {text} the weights differ from those of a reference epoch (same data, same "
            f"optimizer) by up to {diff:.3g}. One epoch is: for each batch, forward, loss, "
            f"zero_grad, backward, step.\n" + (f"Hint: {hint}" if hint else "")
        )
    if isinstance(got, torch.Tensor):
        run.fail(
            f"{text} returned a tensor; return a Python float: use loss.item() when you add up "
            "the losses (that also keeps the autograd graph from growing)."
        )
    got = real_number(run, got, text, "the mean loss of the epoch")
    if abs(got - expected) > 1e-5 * max(1.0, abs(expected)):
        hint = ""
        if abs(got - last) < 1e-6:
            hint = "\nHint: you returned the loss of the last batch only."
        elif abs(got - batch_mean) < 1e-6:
            hint = (
                "\nHint: you averaged the batch losses, but the last batch is smaller: weight "
                "each batch's loss by its size (loss.item() * len(labels)) and divide by the "
                "number of examples."
            )
        run.fail(
            f"{text} returned {got:.6g}, expected the mean loss over all examples "
            f"{expected:.6g}.{hint}"
        )


def _evaluate_hint(got, expected):
    if abs(got - 100 * expected) < 1e-4:
        return "\nHint: return a fraction in [0, 1], not a percentage."
    if got > 1:
        return "\nHint: divide the number of correct predictions by the number of examples."
    return (
        "\nHint: call model.eval() first (dropout must be off when evaluating), and divide the "
        "correct predictions by the number of examples, not batches."
    )


def check_evaluate(fn, seed=None):
    """Check ``fn(model, loader) -> accuracy`` (a float in [0, 1], model in eval mode)."""
    __tracebackhide__ = True
    run = Run("check_evaluate", fn, "evaluate", seed)
    g = torch.Generator().manual_seed(run.seed)
    x = torch.randn(70, 1, 4, 4, generator=g)
    y = torch.randint(0, 3, (70,), generator=g)
    torch.manual_seed(run.seed)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 3)
    )
    model.train()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32)
    before = copy.deepcopy(model.state_dict())
    text = f"{run.name}(model, loader)"
    modes = []
    hook = model.register_forward_pre_hook(lambda module, args: modes.append(module.training))
    try:
        got = run.call([("model", model), ("loader", loader)], text=text)
    finally:
        hook.remove()
    if any(modes):
        run.fail(
            f"{text} ran the model in training mode: call model.eval() before the loop, so "
            "that dropout is off (and batch normalisation uses its running statistics)."
        )
    if any(not torch.equal(before[k], v) for k, v in model.state_dict().items()):
        run.fail(f"{text} changed the model's weights: evaluating must not train.")
    with torch.no_grad():
        expected = (model.eval()(x).argmax(1) == y).double().mean().item()
    if isinstance(got, torch.Tensor):
        run.fail(f"{text} returned a tensor; return a Python float (use .item()).")
    got = real_number(run, got, text, "the accuracy")
    if abs(got - expected) > 1e-6:
        run.fail(
            f"{text} returned {got:.6g}, expected the accuracy {expected:.6g}."
            + _evaluate_hint(got, expected)
        )


def heldout_accuracy(model, classes=None, size=32, heldout=True):
    """Accuracy of ``model`` on :func:`heldout_digits` (or, with ``heldout=False``, the plain
    test split), in eval mode without gradients."""
    __tracebackhide__ = True
    if heldout:
        images, labels = heldout_digits(size=size, classes=classes)
    else:
        images, labels = heldout_digits(size=size, classes=classes, seed=None)
    return accuracy(model, images, labels)


def check_trained_classifier(
    model, threshold, classes=None, size=32, heldout=True, max_params=None, what="model"
):
    """Fail unless ``model`` reaches ``threshold`` accuracy on held-out digits (prints it).

    ``heldout=False`` scores the public test split instead (the visible tests). With
    ``max_params`` a larger model than the assignment asks for fails too. Returns None: nbgrader
    would read a number returned by a test cell's last line as a partial score.
    """
    __tracebackhide__ = True
    if max_params is not None and isinstance(model, nn.Module):
        params = sum(p.numel() for p in model.parameters())
        if params > max_params:
            fail(
                f"The trained {what} has {params:,} parameters; the assignment asks for at most "
                f"{max_params:,}."
            )
    score = heldout_accuracy(model, classes, size, heldout)
    data = (
        "held-out digits (shifted by up to a pixel, a little fainter)"
        if heldout
        else "the test split of the digits"
    )
    print(f"{what}: accuracy {score:.3f} on {data} (needed: {threshold:.2f})")
    if score < threshold:
        fail(
            f"The trained {what} reaches {score:.1%} on {data}, below the {threshold:.0%} "
            "needed. Train for more epochs or check the learning rate, and check the rest of "
            "your training loop."
        )
