"""Calling student code safely: fresh references, seeds, captured output, readable failures.

Everything here raises :class:`GradingFailure` (an ``AssertionError``) with a message written for
the student; nothing is written to stderr (nbgrader scores a test cell that writes to stderr 0).
"""

import contextlib
import importlib.util
import io
import os
import secrets
import sys
import traceback
import warnings

import numpy as np

from .proxies import student_line
from .remote import BoxError, is_remote
from .tripwires import LibraryCall

_HERE = os.path.dirname(os.path.abspath(__file__))


class GradingFailure(AssertionError):
    """A test did not pass; the message says what differs and, where possible, why."""


def fail(message, recipe=None):
    """Raise :class:`GradingFailure` with ``message`` and, if given, how to repeat the test."""
    __tracebackhide__ = True
    if recipe:
        message += f"\n{recipe}"
    raise GradingFailure(message)


def new_seed(seed=None):
    """Return ``seed`` if given, else a fresh random one (so inputs cannot be guessed)."""
    if seed is None:
        return secrets.randbelow(2**31)
    return int(seed)


def reference(module_name):
    """A private, freshly executed copy of a cvlib module.

    The copy is built from the module's source file and is not registered in ``sys.modules``, so a
    notebook that rebinds ``cvlib.conv.conv2d`` (on purpose or by accident) does not change the
    reference the tests compare with.
    """
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot find the reference module {module_name!r}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def function_name(fn, default):
    """The name the student gave ``fn`` (for messages), or ``default`` if it has none."""
    name = getattr(fn, "__name__", default)
    return name if isinstance(name, str) and name.isidentifier() else default


def describe(value):
    """A short description of an argument for messages: shapes for arrays, repr otherwise."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    if isinstance(value, (tuple, list)) and any(isinstance(v, np.ndarray) for v in value):
        inner = ", ".join(describe(v) for v in value)
        return f"({inner})"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def signature(name, args, kwargs):
    """``conv2d(x=array of shape (5, 5), weight=..., stride=2)`` for messages."""
    parts = [f"{k}={describe(v)}" if k else describe(v) for k, v in args]
    parts += [f"{k}={describe(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _student_line(tb):
    """The last frame of a traceback that is not inside cvlib.grading (the student's line)."""
    frames = [f for f in traceback.extract_tb(tb) if not f.filename.startswith(_HERE)]
    if not frames:
        return ""
    frame = frames[-1]
    in_notebook = frame.filename.startswith("<") or "ipykernel" in frame.filename
    where = "line" if in_notebook else frame.filename
    code = f": `{frame.line.strip()}`" if frame.line else ""
    return f" (raised at {where} {frame.lineno} in `{frame.name}`{code})"


def call(fn, name, args=(), kwargs=None, recipe=None, text=None, watch=None, isolate=None):
    """Call the student's ``fn`` and return its result, or fail with a readable message.

    ``args`` is a sequence of ``(argument_name, value)`` pairs (name may be ``""``); the values are
    copied so the student cannot alter the test's inputs, and an in-place change of an input is
    reported. Output and warnings are captured: stdout is echoed (feedback stays visible), stderr
    is never written to. ``text`` describes the call in messages (default: built from the
    arguments); ``recipe`` ends every failure message (how to repeat the test). ``watch`` (a
    :class:`~cvlib.grading.tripwires.Watch`) keeps library implementations of the answer out of
    reach during the call: calling one fails the check, naming the call.

    When ``fn`` is a proxy of a function in a box (:mod:`cvlib.grading.remote`), the call runs
    there: the arguments cross as data, ``isolate`` (name -> reference) stands in for the
    student's earlier answers during the call, and what comes back (the result, the arguments as
    the call left them, what it printed) is judged here. The box is what keeps libraries out of
    reach then, so ``watch`` is not used.
    """
    __tracebackhide__ = True
    kwargs = dict(kwargs or {})
    if not callable(fn):
        fail(f"`{name}` should be a function, but it is {type(fn).__name__}: {describe(fn)}.")
    text = text or signature(name, args, kwargs)
    if is_remote(fn):
        result, error, copies, kw_copies, printed, refused = _run_in_box(
            fn, args, kwargs, isolate, text
        )
        where = student_line(error) if error is not None else ""
        watch = None
    else:
        copies = [_copy(v) for _, v in args]
        kw_copies = {k: _copy(v) for k, v in kwargs.items()}
        result, error, printed = _run_here(fn, copies, kw_copies, watch)
        where = _student_line(error.__traceback__) if error is not None else ""
    if printed:
        sys.stdout.write(printed[:2000])
    if watch is not None and watch.calls:
        fail(f"`{name}` called `{watch.calls[0]}`: {watch.reason}.", recipe)
    if is_remote(fn) and refused:
        module, why = refused[0]
        fail(
            f"`{name}` tried to use `{module}`, which is not available to this assignment's "
            f"answers ({why}): the answer must compute it with its own code.",
            recipe,
        )
    kind = getattr(error, "kind", type(error).__name__)
    if error is not None and kind == "NotImplementedError":
        fail(
            f"`{name}` is not implemented yet: replace `raise NotImplementedError()` in its "
            "answer cell with your code, run that cell, then run this test again."
        )
    if error is not None:
        message = getattr(error, "message", error)
        fail(f"Calling {text} raised {kind}: {message}{where}.", recipe)
    for (arg_name, original), used in zip(args, copies, strict=True):
        _check_unchanged(original, used, arg_name or "an argument", text, recipe)
    for key, used in kw_copies.items():
        _check_unchanged(kwargs[key], used, key, text, recipe)
    return result


def _run_here(fn, copies, kw_copies, watch):
    """Call ``fn`` in this process: (result, exception or None, what it printed)."""
    out, err = io.StringIO(), io.StringIO()
    result = error = None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with np.errstate(all="ignore"), watch or contextlib.nullcontext():
                    result = fn(*copies, **kw_copies)
    except LibraryCall:
        pass  # reported by the caller, as when the student's code caught it
    except Exception as caught:  # the student's bug, reported in words by the caller
        error = caught
    return result, error, out.getvalue()


def _run_in_box(fn, args, kwargs, isolate, text):
    """Call the proxy ``fn`` in its box: (result, RemoteError or None, the arguments as the
    call left them, the keyword arguments likewise, what it printed, the out-of-reach modules
    it tried to use)."""
    __tracebackhide__ = True
    try:
        answer = fn.box.call(fn, [v for _, v in args], kwargs, isolate)
    except BoxError as error:
        fail(f"Calling {text} could not be graded: {error}.")
    printed = answer.get("out", "")
    added = [str(n) for n in answer.get("added", []) if isinstance(n, str)][:10]
    if added:  # as :func:`cvlib.grading.checks.swapped` says it in the student's kernel
        printed = (
            "(Not defined in your notebook, so the reference version stands in for it in this "
            f"test: {', '.join(f'`{name}`' for name in added)}.)\n" + printed
        )
    if answer.get("cut"):
        printed += f"\n[... {answer['cut']} more characters printed by the call were cut here]\n"
    used = list(answer.get("args", []))
    if len(used) != len(args):  # the box's server was tampered with: nothing to compare
        fail(f"Calling {text} could not be graded: the box returned the wrong arguments.")
    refused = [
        (str(pair[0]), str(pair[1]))
        for pair in answer.get("refused", [])
        if isinstance(pair, (list, tuple)) and len(pair) == 2
    ][:5]
    value, kwargs = answer.get("value"), dict(answer.get("kwargs", {}))
    return value, answer.get("error"), used, kwargs, printed, refused


def _tensor(value):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if _tensor(value):  # a leaf again, as the caller's was
        return value.detach().clone().requires_grad_(value.requires_grad)
    if isinstance(value, tuple) and hasattr(type(value), "_make"):  # a named tuple (Params)
        return type(value)._make(_copy(v) for v in value)
    if isinstance(value, (tuple, list)):
        return type(value)(_copy(v) for v in value)
    return value


def _check_unchanged(original, used, arg_name, text, recipe):
    __tracebackhide__ = True
    if _tensor(original):  # compared as arrays, NaN equal to NaN
        original = original.detach().cpu().numpy()
        used = used.detach().cpu().numpy() if _tensor(used) else None
    if isinstance(original, np.ndarray):
        same = (
            isinstance(used, np.ndarray)
            and used.shape == original.shape
            and bool(np.all((used == original) | (np.isnan(used) & np.isnan(original))))
        )
        if not same:
            fail(
                f"Calling {text} changed its input `{arg_name}` in place. Work on a copy "
                "(e.g. `x = x.copy()`, `img = img.clone()`, or write into a new array) and leave "
                "the inputs untouched.",
                recipe,
            )
    elif isinstance(original, (tuple, list)):
        for o, u in zip(original, used, strict=False):
            _check_unchanged(o, u, arg_name, text, recipe)
