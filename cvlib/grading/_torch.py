"""What the checks of the PyTorch assignments (3 to 5) share: building the student's network,
running it, reading tensors back, scoring a trained model. Imported by those checks only, so that
``cvlib.grading`` itself (assignments 1 and 2) never imports torch.
"""

import functools
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


class CountedData(torch.utils.data.Dataset):
    """The check's training examples, counted as the student's code reads them.

    The tensors are kept out of sight (no ``.tensors``), so the examples come through
    ``__getitem__`` only.
    """

    def __init__(self, *tensors):
        self._tensors = tensors
        self.read = 0

    def __len__(self):
        return len(self._tensors[0])

    def __getitem__(self, index):
        if torch.utils.data.get_worker_info() is not None:  # a worker process: uncounted
            raise RuntimeError(
                "read the training data in the main process (a DataLoader without "
                "num_workers): the test counts the images your code reads"
            )
        self.read += 1
        return tuple(t[index] for t in self._tensors)


class Backpropagated:
    """Counts the examples whose loss flows back through ``model``: a forward hook marks each
    output, a tensor hook on it counts its rows when the gradient passes."""

    def __init__(self, model):
        self.count = 0
        self.handle = model.register_forward_hook(self.forward_hook)

    def forward_hook(self, module, inputs, output):
        if isinstance(output, torch.Tensor) and output.requires_grad:
            output.register_hook(functools.partial(self.backward_hook, len(output)))

    def backward_hook(self, n, grad):
        self.count += n

    def remove(self):
        self.handle.remove()


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
