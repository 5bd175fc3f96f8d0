"""The training checks of assignment 3: one epoch, the accuracy, a whole training run.

- :func:`check_train_one_epoch` and :func:`check_evaluate` run the student's function on a tiny
  model whose output depends on the mode (batch normalisation, dropout) and compare with
  :func:`cvlib.train.train_one_epoch` on an identical copy (same data, same optimizer settings);
- :func:`check_lenet_training` hands a fresh LeNet-5 and the training split to the student's
  training function (with the reference ``train_one_epoch`` and ``evaluate`` in place of the
  student's, so that it is graded on its own: also when the notebook does not define them, an
  answer cell with a syntax error), counts the images it trains on, and scores the result on the
  test split;
- :func:`check_trained_classifier` scores a trained model on held-out digits
  (:func:`cvlib.grading.heldout.heldout_digits`) against a threshold.
"""

import copy

import torch
from torch import nn

from .._student import fail, reference
from .._torch import (
    Backpropagated,
    CountedData,
    accuracy,
    real_number,
    train_on_loader,
    weights_from_box,
)
from ..box_helpers import tools
from ..checks import Run
from ..heldout import heldout_digits
from ..remote import is_remote
from ..tripwires import CVLIB_TRAINING, DATA, NETWORKS, wires

OWN_LOOP = "this answer asks for your own loop (torch's optimizer and loss are fine)"


def _tiny_problem(seed):
    """A model whose output depends on its mode (batch norm), and 4 batches of 16, 16, 16, 2."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(50, 1, 4, 4, generator=g)
    y = torch.randint(0, 3, (50,), generator=g)
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(16, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)
    )
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16)
    return model, loader  # a mean of batch means is wrong; eval mode trains differently


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


def _reference_epoch(model, loader, lr, zero_grad=True, step=True, train_mode=True):
    """:func:`cvlib.train.train_one_epoch` (fresh copy) with SGD and momentum 0.9.

    Returns (mean loss over examples, last batch's loss, mean of the batch means).
    """
    train_one_epoch = reference("cvlib.train.loop").train_one_epoch
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = _RecordedLoss()
    if not train_mode:  # replay a loop that never calls model.train()
        model.train = lambda mode=True: model
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
    replays = [
        (
            {"train_mode": False},
            "Call model.train() at the start: the model comes in evaluation mode, and layers "
            "such as batch normalisation and dropout train differently in the two modes.",
        ),
        (
            {"zero_grad": False},
            "Call optimizer.zero_grad() before loss.backward(): otherwise the gradients of all "
            "earlier batches add up.",
        ),
    ]
    for replay, hint in replays:
        other = _tiny_problem(seed)[0].eval()
        _reference_epoch(other, loader, lr, **replay)
        if _max_difference(model, other) < 1e-5:
            return hint
    return ""


def _epoch_in_box(run, fn, model, loader, lr, text):
    """Run the student's epoch in its box on a copy of ``model`` (eval mode) and of ``loader``'s
    batches; the copy's weights afterwards are loaded into ``model``. Returns the result."""
    __tracebackhide__ = True
    helpers = tools(fn.box)
    box_model = helpers.network("batchnorm", model.state_dict(), None, False)
    box_loader = helpers.loader(list(loader.dataset.tensors), loader.batch_size)
    args = [("model", box_model), ("loader", box_loader)]
    args.append(("optimizer", helpers.sgd(box_model, lr, 0.9)))
    got = run.call([*args, ("loss_fn", helpers.cross_entropy())], text=text)
    weights_from_box(run, box_model, model, text)
    return got


def check_train_one_epoch(fn, seed=None):
    """Check ``fn(model, loader, optimizer, loss_fn) -> mean loss`` against a reference epoch."""
    __tracebackhide__ = True
    run = Run(
        "check_train_one_epoch", fn, "train_one_epoch", seed, forbid=CVLIB_TRAINING, reason=OWN_LOOP
    )
    model, loader = _tiny_problem(run.seed)
    ref_model = copy.deepcopy(model)
    lr = 0.1
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    text = f"{run.name}(model, loader, optimizer, loss_fn)"
    model.eval()  # the function must switch it to training mode itself
    if is_remote(fn):  # the same network, data and optimizer, built in the box
        got = _epoch_in_box(run, fn, model, loader, lr, text)
    else:
        args = [("model", model), ("loader", loader), ("optimizer", optimizer)]
        got = run.call([*args, ("loss_fn", nn.CrossEntropyLoss())], text=text)
    expected, last, batch_mean = _reference_epoch(ref_model, loader, lr)
    diff = _max_difference(model, ref_model)
    if diff > 1e-5:
        hint = _weights_hint(model, run.seed, loader, lr)
        run.fail(
            f"After {text} the weights differ from those of a reference epoch (same data, same "
            f"optimizer) by up to {diff:.3g}. One epoch is: model.train(), then for each batch "
            "forward, loss, zero_grad, backward, step.\n" + (f"Hint: {hint}" if hint else "")
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


def _evaluate_hint(got, expected, examples, batch_mean):
    """The hint for a wrong accuracy, chosen by the value: a percentage, the count of correct
    predictions, the mean of the batches' accuracies; none for any other value."""
    if abs(got - 100 * expected) < 1e-4:
        return "\nHint: return a fraction in [0, 1], not a percentage."
    if abs(got - round(expected * examples)) < 1e-6:
        return "\nHint: divide the number of correct predictions by the number of examples."
    if abs(got - batch_mean) < 1e-6:
        return (
            "\nHint: you averaged the batches' accuracies, but the last batch is smaller: divide "
            "the correct predictions by the number of examples, not batches."
        )
    return ""


def _evaluate_in_box(run, fn, model, loader, text, modes):
    """Run the student's evaluation in its box on a copy of ``model`` (training mode) and of
    ``loader``'s batches; the modes it ran the copy in go into ``modes``, the copy's weights
    afterwards into ``model``. Returns the result."""
    __tracebackhide__ = True
    helpers = tools(fn.box)
    box_model = helpers.network("dropout", model.state_dict(), None, True)
    recorder = helpers.record_modes(box_model)
    box_loader = helpers.loader(list(loader.dataset.tensors), loader.batch_size)
    got = run.call([("model", box_model), ("loader", box_loader)], text=text)
    with run.student_code(f"reading the modes {text} ran the model in"):
        modes.extend(bool(m) for m in helpers.modes(recorder))
    weights_from_box(run, box_model, model, text)
    return got


def check_evaluate(fn, seed=None):
    """Check ``fn(model, loader) -> accuracy`` (a float in [0, 1], model in eval mode)."""
    __tracebackhide__ = True
    modes = []

    def record_mode(module, args):
        modes.append(module.training)

    forbid = (*CVLIB_TRAINING, *wires("scikit-learn", "sklearn/metrics/"))
    run = Run(
        "check_evaluate",
        fn,
        "evaluate",
        seed,
        forbid=forbid,
        reason=OWN_LOOP,
        trusted=[record_mode],
    )
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
    if is_remote(fn):  # the same network (training mode) and batches, in the box
        got = _evaluate_in_box(run, fn, model, loader, text, modes)
    else:
        hook = model.register_forward_pre_hook(record_mode)
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
        right = model.eval()(x).argmax(1) == y  # (70,)
    expected = right.double().mean().item()
    batches = right.split(loader.batch_size)  # the loader's batches, in order
    batch_mean = torch.stack([b.double().mean() for b in batches]).mean().item()
    if isinstance(got, torch.Tensor):
        run.fail(f"{text} returned a tensor; return a Python float (use .item()).")
    got = real_number(run, got, text, "the accuracy")
    if abs(got - expected) > 1e-6:
        run.fail(
            f"{text} returned {got:.6g}, expected the accuracy {expected:.6g}."
            + _evaluate_hint(got, expected, len(y), batch_mean)
        )


def heldout_accuracy(model, classes=None, size=32, heldout=True):
    """Accuracy of ``model`` on :func:`heldout_digits` (or, with ``heldout=False``, the plain
    test split), in eval mode without gradients."""
    __tracebackhide__ = True
    images, labels = heldout_digits(size=size, classes=classes, seed="grader" if heldout else None)
    return accuracy(model, images, labels)


HELDOUT_NOTE = (
    "(Hidden tests score held-out digits drawn with the instructor's seed; on your machine "
    "heldout=True draws a set of the same kind, so you can try it, not repeat it exactly.)"
)


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
            "your training loop." + (f"\n{HELDOUT_NOTE}" if heldout else "")
        )


def _reference_answers():
    """Reference versions of LeNet, train_one_epoch and evaluate, for the training check."""
    lenet = reference("cvlib.models.lenet").LeNet5
    loop, evaluation = reference("cvlib.train.loop"), reference("cvlib.train.evaluation")

    def LeNet(num_classes=10):  # the assignment's class name
        return lenet(num_classes=num_classes)

    def train_one_epoch(model, loader, optimizer, loss_fn):
        return loop.train_one_epoch(model, loader, optimizer, loss_fn, "cpu", progress=False)[0]

    def evaluate(model, loader):
        return evaluation.evaluate(model, loader, device="cpu").accuracy

    return lenet, {"LeNet": LeNet, "train_one_epoch": train_one_epoch, "evaluate": evaluate}


def check_lenet_training(fn, threshold=0.92):
    """Train a fresh LeNet-5 with ``fn(model, train_loader)`` and score it on the test split.

    The model is cvlib's LeNet-5 and ``fn`` sees the reference ``train_one_epoch`` and
    ``evaluate`` (graded on its own, whether or not the notebook defines them); the torch seed
    is 0 before the call, as in the notebook.
    Fails if ``fn`` calls cvlib's training code, loads other data, or trains on more images than
    it read from the loader. Returns the trained model (for the hidden test on held-out digits).
    """
    __tracebackhide__ = True
    lenet, isolate = _reference_answers()
    run = Run(
        "check_lenet_training",
        fn,
        "train_lenet",
        options={"threshold": threshold},
        isolate=isolate,
        forbid=(*CVLIB_TRAINING, *DATA, *NETWORKS),
        reason="this answer asks for your own training run (with your train_one_epoch)",
        trusted=(lenet, CountedData, Backpropagated),
        seeded=False,
    )
    split = reference("cvlib.data.digits").digits(size=32, split="train")
    torch.manual_seed(0)
    model = lenet()
    train_on_loader(
        run,
        model,
        (split.images, split.labels),
        "LeNet(), train_loader",
        "LeNet",
        lambda box: {k: getattr(box, k) for k in ("LeNet", "train_one_epoch", "evaluate")},
    )
    check_trained_classifier(model, threshold, heldout=False, what="LeNet trained by " + run.name)
    return model
