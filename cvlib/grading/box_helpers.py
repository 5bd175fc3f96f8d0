"""The grader's helpers in a box: networks, loaders and optimisers built where the student's code
runs, for the trusted checks of assignments 3 to 5.

:func:`tools` sends :mod:`cvlib.grading.box_torch` into a box once and returns its functions as
proxies (:class:`types.SimpleNamespace` of :class:`~cvlib.grading.remote.RemoteFunction`);
:func:`references` does the same with :mod:`cvlib.grading.box_references` (the answers' stand-ins,
sent only to the checks of whole training runs). What the proxies return is data (tensors,
numbers, state dicts) or handles of objects that stay in the box.
"""

import os
import types

from .remote import BoxError, is_remote

_HERE = os.path.dirname(os.path.abspath(__file__))

TOOLS = (
    "is_module",
    "seed",
    "state",
    "parameters",
    "training",
    "network",
    "load",
    "counted",
    "loader",
    "sgd",
    "cross_entropy",
    "backpropagated",
    "counts",
    "trace",
    "record_modes",
    "modes",
    "forward",
)
REFERENCES = (
    "LeNet",
    "train_one_epoch",
    "evaluate",
    "BoxNet",
    "hflip",
    "adjust_brightness",
    "random_crop",
    "prepare_transfer",
    "Augmented",
)


def _source(module):
    with open(os.path.join(_HERE, f"{module}.py")) as handle:
        return handle.read()


def define(box, source, names, label):
    """Run the grader's helper ``source`` in a private namespace of ``box`` (once per ``label``
    and box); a namespace of proxies of the ``names`` it defines."""
    defined = box.__dict__.setdefault("_cvlib_defined", {})
    if label not in defined:
        answer = box.request(
            {"op": "define", "source": source, "names": list(names), "label": label}
        )
        value = answer.get("value")
        if answer.get("error") is not None or not isinstance(value, dict):
            why = getattr(answer.get("error"), "message", "no answer")
            raise BoxError(f"{box.label} could not set up the grader's {label}: {why}")
        if sorted(value) != sorted(names) or not all(is_remote(v) for v in value.values()):
            raise BoxError(f"{box.label} answered with something that is not {label}")
        defined[label] = types.SimpleNamespace(**value)
    return defined[label]


def box_of(value):
    """The box of a proxy (a student's function, a network in the box)."""
    if not is_remote(value):
        raise TypeError(f"expected an object in a box, got {type(value).__name__}")
    return value.box


def tools(box):
    """:mod:`cvlib.grading.box_torch`'s functions in ``box``, as proxies."""
    return define(box, _source("box_torch"), TOOLS, "<cvlib.grading.box_torch>")


# What cvlib.train.train_one_epoch uses besides torch, for its copy in a box (no progress bar)
_EPOCH_PRELUDE = """
def progress_bar(iterable, enabled=True, **kwargs):
    return iterable


def _layout(x, channels_last):
    return x if not channels_last else x.contiguous(memory_format=torch.channels_last)


"""


def references_source():
    """The source of the answers' stand-ins: :mod:`cvlib.grading.box_references` after a copy of
    ``cvlib.train.loop.train_one_epoch`` (as ``_cvlib_train_one_epoch``, its progress bar off)."""
    import inspect

    from cvlib.train import loop

    epoch = inspect.getsource(loop.train_one_epoch)
    epoch = epoch.replace("def train_one_epoch(", "def _cvlib_train_one_epoch(", 1)
    return "import torch\n" + _EPOCH_PRELUDE + epoch + "\n\n" + _source("box_references")


def references(box):
    """:mod:`cvlib.grading.box_references`'s answers' stand-ins in ``box``, as proxies."""
    return define(box, references_source(), REFERENCES, "<cvlib.grading.box_references>")
