"""The grader's stand-ins for the student's objects in a box (:mod:`cvlib.grading.remote`).

A :class:`RemoteObject` is a handle the box sent for something that is not data (a network, a
data set); a :class:`RemoteFunction` one for something callable, called through its box. Both
only ever hold the handle and the box: what their methods return is data or another proxy.
"""

import builtins
import re
import sys

from .wire import RemoteError


class RemoteObject:
    """An object of the student's that stays in the box (a network, a data set)."""

    __slots__ = ("box", "handle")

    def __init__(self, box, handle):
        object.__setattr__(self, "box", box)
        object.__setattr__(self, "handle", handle)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self.box.get(target=self, attr=name)

    def __getitem__(self, item):
        return self.box.get(target=self, item=item)

    def __repr__(self):
        return repr(self.handle)


class RemoteFunction(RemoteObject):
    """A function or class of the student's, called in the box."""

    __slots__ = ()

    @property
    def __name__(self):
        return self.handle.name or self.handle.kind

    def __call__(self, *args, **kwargs):
        answer = self.box.call(self, args, kwargs)
        if answer.get("error") is not None:
            raise answer["error"]
        return answer["value"]


def is_remote(value):
    """True for a proxy of an object in a box."""
    return isinstance(value, RemoteObject)


def student_line(error):
    """`` (raised at line 4 in `zero_pad`: `x[0] = 1`)`` from a box's traceback text."""
    frames = re.findall(r'File "([^"]*)", line (\d+), in (\S+)\n(?:    (.*)\n)?', error.text)
    frames = [f for f in frames if "cvlib box server" not in f[0]]
    if not frames:
        return ""
    _, line, function, code = frames[-1]
    code = f": `{code.strip()}`" if code.strip() else ""
    return f" (raised at line {line} in `{function}`{code})"


def is_data(value):
    """True for an array or a tensor (data, however callable it may look)."""
    import numpy as np

    return isinstance(value, (np.ndarray, np.generic)) or type(value).__module__.startswith("torch")


def is_network(value):
    """True for a torch network (which stays on the side that built it)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.nn.Module)


def as_exception(error):
    """A RemoteError of a lookup as the builtin exception the checks expect."""
    if isinstance(error, RemoteError) and error.kind in (
        "NameError",
        "AttributeError",
        "KeyError",
        "IndexError",
        "TypeError",
        "LookupError",
    ):
        return getattr(builtins, error.kind)(error.message)
    return error if isinstance(error, BaseException) else RemoteError("Error", str(error))
