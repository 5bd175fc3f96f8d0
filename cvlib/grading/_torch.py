"""What the checks of the PyTorch assignments (3 to 5) share: building the student's network,
running it, reading tensors back, scoring a trained model. Imported by those checks only, so that
``cvlib.grading`` itself (assignments 1 and 2) never imports torch.
"""

import numbers

import torch
from torch import nn

from ._student import call, fail


def build(run, model_fn, kwargs=None):
    """``model_fn(**kwargs)`` called safely; fail unless it gives an ``nn.Module``."""
    __tracebackhide__ = True
    model = run.call([], kwargs or {}, fn=model_fn)
    if not isinstance(model, nn.Module):
        what = run.text([], kwargs)
        run.fail(
            f"{what} should give a torch.nn.Module, but gave {type(model).__name__}. Did you "
            "subclass nn.Module?"
        )
    return model


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
