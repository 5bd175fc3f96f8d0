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

from .remote import is_remote

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


def _define(box, module, names):
    label = f"<cvlib.grading.{module}>"
    return types.SimpleNamespace(**box.define(_source(module), names, label))


def box_of(value):
    """The box of a proxy (a student's function, a network in the box)."""
    if not is_remote(value):
        raise TypeError(f"expected an object in a box, got {type(value).__name__}")
    return value.box


def tools(box):
    """:mod:`cvlib.grading.box_torch`'s functions in ``box``, as proxies."""
    return _define(box, "box_torch", TOOLS)


def references(box):
    """:mod:`cvlib.grading.box_references`'s answers' stand-ins in ``box``, as proxies."""
    return _define(box, "box_references", REFERENCES)
