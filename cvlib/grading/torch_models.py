"""Checks for assignment 3: a LeNet-style network, its training loop, and the trained model.

- :func:`check_lenet` builds the student's network and compares it, layer by layer, with
  LeNet-5 as :func:`cvlib.summary` reports it (output shape of every convolution, pooling and
  dense layer, and the parameter count, 61,706 for 10 classes).
- :func:`check_train_one_epoch` and :func:`check_evaluate` run the student's loop on a tiny model
  and compare with a reference loop on an identical copy (same data, same optimizer settings).
- :func:`check_trained_classifier` scores a trained model on held-out digits
  (:func:`cvlib.grading.heldout.heldout_digits`) against a threshold.
"""

import copy
import numbers

import torch
from torch import nn

from ._student import call, fail, new_seed, reference
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


def _forward(model, x, text):
    __tracebackhide__ = True
    with torch.no_grad():
        out = call(model, text, [("x", x)])
    if not isinstance(out, torch.Tensor):
        fail(
            f"{text}: the forward pass should return a tensor of logits, but it returned "
            f"{type(out).__name__}."
        )
    return out


def _build(model_fn, num_classes):
    __tracebackhide__ = True
    name = getattr(model_fn, "__name__", "LeNet")
    model = call(model_fn, name, [], {"num_classes": num_classes})
    if not isinstance(model, nn.Module):
        fail(
            f"{name}(num_classes={num_classes}) should give a torch.nn.Module, but gave "
            f"{type(model).__name__}. Did you subclass nn.Module?"
        )
    return name, model


def check_lenet(model_fn, hidden=False):
    """Check ``model_fn(num_classes=...)`` builds LeNet-5: layer output shapes and parameters."""
    __tracebackhide__ = True
    summary = reference("cvlib.probes.summary").summary
    for k in (10, 3, 7) if hidden else (10,):
        name, model = _build(model_fn, k)
        text = f"{name}(num_classes={k})"
        out = _forward(model.eval(), torch.rand(2, 1, 32, 32), f"{text} on a (2, 1, 32, 32) batch")
        if tuple(out.shape) != (2, k):
            fail(
                f"{text} maps a (2, 1, 32, 32) batch to shape {tuple(out.shape)}, expected "
                f"(2, {k}): one row of {k} logits per image."
            )
        rows = [
            r for r in summary(model, (1, 32, 32)).rows if r.type in ("Conv2d", "Linear", *_POOLS)
        ]
        got = [("MaxPool2d" if r.type in _POOLS else r.type, r.output_shape) for r in rows]
        expected = [*LENET_SHAPES, ("Linear", (k,))]
        for i, (want, have) in enumerate(zip(expected, got, strict=False)):
            if want != have:
                hint = ""
                if want[0] == "Conv2d" and have[0] == "Conv2d" and have[1][0] == want[1][0]:
                    hint = (
                        " The channels are right but the size is not: LeNet's convolutions "
                        "use 5x5 kernels, stride 1 and no padding (32 -> 28, 14 -> 10)."
                    )
                elif want[0] == "MaxPool2d" and have[0] != want[0]:
                    hint = " Each convolution (and its ReLU) is followed by a 2x2 pooling layer."
                fail(
                    f"{text}: layer {i + 1} of the layers with a shape to check (convolutions, "
                    f"poolings, dense layers, activations left out) should be a {want[0]} with "
                    f"output shape {want[1]}, but it is a {have[0]} with output shape "
                    f"{have[1]}.{hint}"
                )
        if len(got) != len(expected):
            fail(
                f"{text} has {len(got)} convolution, pooling and dense layers, expected "
                f"{len(expected)}: conv, pool, conv, pool, dense 120, dense 84, dense {k}."
            )
        params = sum(p.numel() for p in model.parameters())
        if params != lenet_params(k):
            fail(
                f"{text} has {params:,} parameters, expected {lenet_params(k):,}. Every layer "
                "has a bias, and the first dense layer takes the 16 * 5 * 5 = 400 values of "
                "the flattened feature map."
            )
        if _is_affine(model):
            fail(
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


def _reference_epoch(model, loader, lr, zero_grad=True, step=True):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    total, seen, last, batch_means = 0.0, 0, 0.0, []
    for x, y in loader:
        loss = loss_fn(model(x), y)
        if zero_grad:
            optimizer.zero_grad()
        loss.backward()
        if step:
            optimizer.step()
        total += loss.item() * len(y)
        seen += len(y)
        last = loss.item()
        batch_means.append(loss.item())
    return total / seen, last, sum(batch_means) / len(batch_means)


def _max_difference(a, b):
    return max(
        (p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters(), strict=True)
    )


def check_train_one_epoch(fn, seed=None):
    """Check ``fn(model, loader, optimizer, loss_fn) -> mean loss`` against a reference epoch."""
    __tracebackhide__ = True
    check = "check_train_one_epoch"
    seed = new_seed(seed)
    model, loader = _tiny_problem(seed)
    ref_model = copy.deepcopy(model)
    lr = 0.1
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    name = getattr(fn, "__name__", "train_one_epoch")
    text = f"{name}(model, loader, optimizer, loss_fn)"
    model.eval()  # the function must switch it to training mode itself
    got = call(
        fn,
        name,
        [
            ("model", model),
            ("loader", loader),
            ("optimizer", optimizer),
            ("loss_fn", nn.CrossEntropyLoss()),
        ],
        None,
        seed,
        check,
    )
    expected, last, batch_mean = _reference_epoch(ref_model, loader, lr)
    diff = _max_difference(model, ref_model)
    if diff > 1e-5:
        hint = ""
        if _max_difference(model, _tiny_problem(seed)[0]) == 0:
            hint = (
                "The weights did not change at all: call loss.backward() and then "
                "optimizer.step() for every batch."
            )
        else:
            other = _tiny_problem(seed)[0]
            _reference_epoch(other, loader, lr, zero_grad=False)
            if _max_difference(model, other) < 1e-5:
                hint = (
                    "Call optimizer.zero_grad() before loss.backward(): otherwise the "
                    "gradients of all earlier batches add up."
                )
        fail(
            f"After {text} the weights differ from those of a reference epoch (same data, same "
            f"optimizer) by up to {diff:.3g}. One epoch is: for each batch, forward, loss, "
            f"zero_grad, backward, step.\n" + (f"Hint: {hint}" if hint else ""),
            seed,
            check,
        )
    if isinstance(got, torch.Tensor):
        fail(
            f"{text} returned a tensor; return a Python float: use loss.item() when you add up "
            "the losses (that also keeps the autograd graph from growing).",
            seed,
            check,
        )
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        fail(
            f"{text} should return the mean loss of the epoch as a float, got "
            f"{type(got).__name__}.",
            seed,
            check,
        )
    if abs(got - expected) > 1e-5 * max(1.0, abs(expected)):
        hint = ""
        if abs(got - last) < 1e-6:
            hint = "\nHint: you returned the loss of the last batch only."
        elif abs(got - batch_mean) < 1e-6:
            hint = (
                "\nHint: you averaged the batch losses, but the last batch is smaller: "
                "weight each batch's loss by its size (loss.item() * len(labels)) and divide "
                "by the number of examples."
            )
        fail(
            f"{text} returned {got:.6g}, expected the mean loss over all examples "
            f"{expected:.6g}.{hint}",
            seed,
            check,
        )


def check_evaluate(fn, seed=None):
    """Check ``fn(model, loader) -> accuracy`` (a float in [0, 1], model in eval mode)."""
    __tracebackhide__ = True
    check = "check_evaluate"
    seed = new_seed(seed)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(70, 1, 4, 4, generator=g)
    y = torch.randint(0, 3, (70,), generator=g)
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 3)
    )
    model.train()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32)
    before = copy.deepcopy(model.state_dict())
    name = getattr(fn, "__name__", "evaluate")
    text = f"{name}(model, loader)"
    modes = []
    hook = model.register_forward_pre_hook(lambda module, args: modes.append(module.training))
    try:
        got = call(fn, name, [("model", model), ("loader", loader)], None, seed, check)
    finally:
        hook.remove()
    if any(modes):
        fail(
            f"{text} ran the model in training mode: call model.eval() before the loop, so "
            "that dropout is off (and batch normalisation uses its running statistics).",
            seed,
            check,
        )
    if any(not torch.equal(before[k], v) for k, v in model.state_dict().items()):
        fail(f"{text} changed the model's weights: evaluating must not train.", seed, check)
    with torch.no_grad():
        expected = (model.eval()(x).argmax(1) == y).double().mean().item()
    if isinstance(got, torch.Tensor):
        fail(f"{text} returned a tensor; return a Python float (use .item()).", seed, check)
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        fail(
            f"{text} should return the accuracy as a float, got {type(got).__name__}.", seed, check
        )
    if abs(got - expected) > 1e-6:
        hint = ""
        if abs(got - 100 * expected) < 1e-4:
            hint = "\nHint: return a fraction in [0, 1], not a percentage."
        elif got > 1:
            hint = "\nHint: divide the number of correct predictions by the number of examples."
        else:
            hint = (
                "\nHint: call model.eval() first (dropout must be off when evaluating), and "
                "divide the correct predictions by the number of examples, not batches."
            )
        fail(f"{text} returned {got:.6g}, expected the accuracy {expected:.6g}.{hint}", seed, check)


def _digits(classes, size, heldout):
    if heldout:
        return heldout_digits(size=size, classes=classes)
    return heldout_digits(size=size, classes=classes, seed=None)


def heldout_accuracy(model, classes=None, size=32, heldout=True):
    """Accuracy of ``model`` on :func:`heldout_digits` (or, with ``heldout=False``, the plain
    test split), in eval mode without gradients."""
    __tracebackhide__ = True
    images, labels = _digits(classes, size, heldout)
    if not isinstance(model, nn.Module):
        fail(f"the trained model should be a torch.nn.Module, but it is {type(model).__name__}.")
    model.eval()
    logits = _forward(model, images, "the trained model")
    if logits.ndim != 2 or logits.shape[0] != len(labels):
        fail(
            f"the trained model maps a batch of {len(labels)} images to shape "
            f"{tuple(logits.shape)}; expected ({len(labels)}, number of classes)."
        )
    return (logits.argmax(1) == labels).double().mean().item()


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
    accuracy = heldout_accuracy(model, classes, size, heldout)
    data = (
        "held-out digits (shifted by up to a pixel, a little fainter)"
        if heldout
        else "the test split of the digits"
    )
    print(f"{what}: accuracy {accuracy:.3f} on {data} (needed: {threshold:.2f})")
    if accuracy < threshold:
        fail(
            f"The trained {what} reaches {accuracy:.1%} on {data}, below the {threshold:.0%} "
            "needed. Train for more epochs or check the learning rate, and check the rest of "
            "your training loop."
        )
