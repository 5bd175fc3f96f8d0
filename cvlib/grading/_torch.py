"""What the checks of the PyTorch assignments (3 to 5) share: building the student's network,
running it, reading tensors back, scoring a trained model. Imported by those checks only, so that
``cvlib.grading`` itself (assignments 1 and 2) never imports torch.
"""

import numbers

import torch
from torch import nn

from . import box_torch
from ._student import call, fail
from .box_helpers import references, tools
from .box_torch import Backpropagated, CountedData
from .remote import is_remote


def is_module(value):
    """True for a torch network, here or in a box (asked there: the proxy's handle only says
    what the box claims its type is called)."""
    if is_remote(value):
        return tools(value.box).is_module(value) is True
    return isinstance(value, nn.Module)


def type_name(value):
    """The type's name of a value, here or in a box (for messages)."""
    return value.handle.kind if is_remote(value) else type(value).__name__


def build(run, model_fn, kwargs=None):
    """``model_fn(**kwargs)`` called safely; fail unless it gives an ``nn.Module``."""
    __tracebackhide__ = True
    model = run.call([], kwargs or {}, fn=model_fn)
    if not is_module(model):
        what = run.text([], kwargs)
        run.fail(
            f"{what} should give a torch.nn.Module, but gave {type_name(model)}. Did you "
            "subclass nn.Module?"
        )
    return model


def parameters_of(run, model, text):
    """``[(name, tensor, requires_grad), ...]`` of a network's parameters, here or in a box
    (read back as data)."""
    __tracebackhide__ = True
    with run.student_code(f"reading the parameters of {text}"):
        if is_remote(model):
            listed = tools(model.box).parameters(model)
        else:
            listed = [(n, p.detach(), p.requires_grad) for n, p in model.named_parameters()]
    ok = isinstance(listed, list) and all(
        isinstance(item, tuple)
        and len(item) == 3
        and isinstance(item[0], str)
        and isinstance(item[1], torch.Tensor)
        and isinstance(item[2], bool)
        for item in listed
    )
    if not ok:
        run.fail(f"the parameters of {text} could not be read back from the grader's box.")
    return listed


def weights_from_box(run, model, into, text):
    """Load the weights of the network ``model`` (in a box) into the grader's copy ``into``; fail
    unless they fit it (the answer replaced or reshaped the network's layers)."""
    __tracebackhide__ = True
    with run.student_code(f"reading the weights of {text}"):
        state = tools(model.box).state(model)
    try:
        if not isinstance(state, dict) or not all(
            isinstance(v, torch.Tensor) for v in state.values()
        ):
            raise TypeError("not a state dict of tensors")
        into.load_state_dict(state)
    except (TypeError, RuntimeError, ValueError) as error:
        run.fail(
            f"After {text} the network's weights no longer fit it ({error}): train the model "
            "you were given in place, without replacing or reshaping its layers."
        )
    return into


def forward(model, x, text, recipe=None):
    """``model(x)`` without gradients, called safely; fail unless it returns a tensor."""
    __tracebackhide__ = True
    with torch.no_grad():
        out = call(model, text, [("x", x)], recipe=recipe)
    if not isinstance(out, torch.Tensor):
        fail(
            f"{text}: the forward pass should return a tensor, but it returned "
            f"{type(out).__name__}.",
            recipe,
        )
    return out


def tensor_result(run, got, like, text):
    """``got`` as a float64 numpy copy; fail unless it is a tensor of ``like``'s dtype."""
    __tracebackhide__ = True
    if got is None:
        run.fail(f"{text} returned None: did you forget the `return` statement?")
    if not isinstance(got, torch.Tensor):
        run.fail(f"{text} should return a torch.Tensor, but returned {type(got).__name__}.")
    if got.dtype != like.dtype:
        run.fail(f"{text} returned dtype {got.dtype}; keep the input's dtype {like.dtype}.")
    return got.detach().double().numpy()


def real_number(run, got, text, what):
    """``got`` as a Python float; fail unless it is a real number (not a bool)."""
    __tracebackhide__ = True
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        run.fail(f"{text} should return {what} as a float, got {type(got).__name__}.")
    return float(got)


def accuracy(model, images, labels):
    """Accuracy of ``model`` on a batch, in eval mode without gradients."""
    __tracebackhide__ = True
    if not isinstance(model, nn.Module):
        fail(f"the trained model should be a torch.nn.Module, but it is {type(model).__name__}.")
    model.eval()
    logits = forward(model, images, "the trained model")
    if logits.ndim != 2 or logits.shape[0] != len(labels):
        fail(
            f"the trained model maps a batch of {len(labels)} images to shape "
            f"{tuple(logits.shape)}; expected ({len(labels)}, number of classes)."
        )
    return (logits.argmax(1) == labels).double().mean().item()


def train_in_box(run, box_model, args, data, text, isolate):
    """:func:`train_answer` in a box: the check's network ``box_model`` and ``data`` (a counted
    data set, both in the box) go to the student's training function with ``isolate``'s
    stand-ins; fail if it trained on more images than it read."""
    __tracebackhide__ = True
    helpers = tools(box_model.box)
    counter = helpers.backpropagated(box_model)
    helpers.seed(0)
    run.call(args, text=text, isolate=isolate)
    with run.student_code(f"counting the images {text} trained on"):
        counted = helpers.counts(counter, data)
    if not (
        isinstance(counted, tuple) and len(counted) == 2 and all(type(n) is int for n in counted)
    ):
        run.fail(f"After {text} the grader could not count the images it trained on.")
    count, read = counted
    if count > read:
        run.fail(
            f"{text} trained the model on {count:,} images but read only {read:,} "
            "from the data it was given: train on those images only (other digits, or the "
            "test images, are not part of the task)."
        )


def train_on_loader(run, model, tensors, text, stand_in, box_isolate):
    """Run the student's ``fn(model, train_loader)`` (``run.fn``) on the check's ``model``, with a
    loader over ``tensors`` (batches of 32, shuffled by a generator seeded 0) whose images are
    counted. In ``fn``'s box when it is there: the stand-in network ``stand_in`` (a name in
    :mod:`cvlib.grading.box_references`) gets ``model``'s weights, the box's loader gives the
    same batches, ``box_isolate(stand_ins)`` names the box's stand-ins for the other answers, and
    the trained weights are read back into ``model``. Otherwise here, watched by ``run``."""
    __tracebackhide__ = True
    text = f"{run.name}({text})"
    if is_remote(run.fn):  # trained in the box from the same weights and batches, scored here
        helpers, stand_ins = tools(run.fn.box), references(run.fn.box)
        box_model = getattr(stand_ins, stand_in)()
        helpers.load(box_model, model.state_dict())
        box_data = helpers.counted(*tensors)
        box_loader = helpers.loader(box_data, 32, True, 0)
        args = [("model", box_model), ("train_loader", box_loader)]
        train_in_box(run, box_model, args, box_data, text, box_isolate(stand_ins))
        weights_from_box(run, box_model, model, text)
    else:
        data = CountedData(*tensors)
        loader = box_torch.loader(data, 32, True, 0)  # the box's loader, built here
        train_answer(run, model, [("model", model), ("train_loader", loader)], data, text)
    return model


def train_answer(run, model, args, data, text):
    """Run the student's training function on the check's ``model`` and ``data`` (a
    :class:`CountedData`), watched, seeded and counted; fail if it trained on more images than it
    read from ``data``."""
    __tracebackhide__ = True
    count = Backpropagated(model)
    torch.manual_seed(0)
    try:
        run.call(args, text=text)
    finally:
        count.remove()
    if count.count > data.read:
        run.fail(
            f"{text} trained the model on {count.count:,} images but read only {data.read:,} "
            "from the data it was given: train on those images only (other digits, or the "
            "test images, are not part of the task)."
        )
