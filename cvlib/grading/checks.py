"""The skeleton every check runs on: one :class:`Run` per call of a ``check_*`` function.

A check declares only what is particular to its answer: the cases, the reference and the hints
for the usual mistakes. A :class:`Run` does the rest, the same way for every answer of every
assignment::

    def check_relu(fn, seed=None, hidden=False):
        run = Run("check_relu", fn, "relu", seed, hidden, forbid=NUMPY_ANSWER, reason="...")
        ref = reference("cvlib.layers")
        for x in relu_cases(run.rng, hidden):
            run.expect_array([("x", x)], ref.relu(x), alternatives=[...])

- the seed (fresh unless given), the random generator drawn from it, and the recipe that repeats
  the run, appended to every failure message;
- calling the student's function (:func:`~cvlib.grading._student.call`: inputs copied, output
  captured, exceptions reported in words, in-place changes caught), with the earlier answers it
  uses swapped for references (``isolate``) and the library implementations of the answer out of
  reach (``forbid``, :mod:`cvlib.grading.tripwires`);
- turning the result into a plain array (type, dtype) and comparing it with the reference
  (shape, values, hints), through :mod:`cvlib.grading._compare`.
"""

import contextlib
import types

import numpy as np

from ._compare import as_float, as_float_array, as_int, compare_arrays
from ._student import GradingFailure, call, describe, fail, function_name, new_seed
from .remote import is_remote
from .tripwires import Watch


def argument_text(name, value):
    """``x of shape (5, 5)`` for arrays and tensors, ``stride=2`` otherwise, for messages."""
    shape = getattr(value, "shape", None)
    if shape is not None and not isinstance(value, (int, float)):
        return f"{name} of shape {tuple(shape)}" if name else f"array of shape {tuple(shape)}"
    return f"{name}={describe(value)}" if name else describe(value)


class Run:
    """One run of one check: seed, inputs' generator, the student's function and its messages.

    Parameters
    ----------
    check : str
        The check's name, e.g. ``"check_pool"``, or with the module it is reached through,
        ``"a6_capstone.check_relu"``.
    fn : callable
        The student's answer.
    default : str
        The answer's name in the assignment (used when ``fn`` has no usable ``__name__``).
    seed : int, optional
        Repeat an earlier run; a fresh seed is drawn otherwise (``seeded=False``: no seed).
    hidden : bool
        Run the hidden cases too.
    options : dict, optional
        The check's other arguments, repeated in the recipe (``{"mode": "max"}``).
    isolate : dict, optional
        Earlier answers the student's function may call, replaced by reference versions (name ->
        function) while it runs, so that this answer is graded on its own.
    forbid : sequence of :class:`~cvlib.grading.tripwires.Wire`
        Library implementations of the answer, out of reach while the student's function runs
        (calling one fails the check with ``reason``).
    trusted : sequence
        Functions or classes of the check that may call forbidden functions during the call
        (hooks, wrapped data sets); the ``isolate`` references are trusted too.
    also : sequence of str
        The names of the check's other positional arguments (more of the student's functions),
        repeated in the recipe after ``fn``'s.
    """

    def __init__(
        self,
        check,
        fn,
        default,
        seed=None,
        hidden=False,
        *,
        options=None,
        isolate=None,
        forbid=(),
        reason="this answer asks for your own code",
        trusted=(),
        seeded=True,
        also=(),
    ):
        self.check = check
        self.fn = fn
        self.name = function_name(fn, default)
        self.default = default
        self.hidden = hidden
        self.options = dict(options or {})
        self.isolate = dict(isolate or {})
        self.forbid, self.reason = tuple(forbid), reason
        self.trusted = [*self.isolate.values(), *trusted]
        self.also = tuple(also)
        self.seed = new_seed(seed) if seeded else None
        self.rng = np.random.default_rng(self.seed)

    @property
    def recipe(self):
        """How to repeat exactly this run, as code a student can paste into a cell."""
        arguments = [self.name, *self.also, *(f"{k}={v!r}" for k, v in self.options.items())]
        if self.seed is not None:
            arguments.append(f"seed={self.seed}")
        if self.hidden:
            arguments.append("hidden=True")
        imported = self.check.split(".")[0]  # the check, or the module it is reached through
        return (
            f"(To repeat exactly this test, hidden cases included: `from cvlib.grading import "
            f"{imported}; {self.check}({', '.join(arguments)})`.)"
            if self.hidden
            else f"(To repeat exactly this test: `{self.check}({', '.join(arguments)})`.)"
        )

    def fail(self, message):
        """Fail the check with ``message`` and the recipe."""
        __tracebackhide__ = True
        fail(message, self.recipe)

    def text(self, args=(), kwargs=None, name=None):
        """``conv2d(x of shape (5, 5), weight of shape (3, 3), stride=2)`` for messages."""
        parts = [argument_text(k, v) for k, v in args]
        parts += [argument_text(k, v) for k, v in (kwargs or {}).items()]
        return f"{name or self.name}({', '.join(parts)})"

    def call(self, args=(), kwargs=None, fn=None, name=None, text=None, isolate=None):
        """Call the student's function (or ``fn``, e.g. the network it built) on ``args`` and
        return its result.

        While it runs, the earlier answers it may use are the references (``isolate``: this
        call's, else the run's) and the library implementations of the answer are out of reach
        (``forbid``).
        """
        __tracebackhide__ = True
        fn = self.fn if fn is None else fn
        isolate = self.isolate if isolate is None else isolate
        if is_remote(fn):  # the box swaps the references in (and keeps libraries out)
            keep = (self.name, self.default)
            isolate = {k: v for k, v in isolate.items() if k not in keep}
            return call(fn, name or self.name, args, kwargs, self.recipe, text, isolate=isolate)
        watch = Watch(self.forbid, self.reason, [*self.trusted, *isolate.values()])
        with swapped(self.fn, isolate, keep=(self.name, self.default)):
            return call(fn, name or self.name, args, kwargs, self.recipe, text, watch)

    @contextlib.contextmanager
    def student_code(self, what):
        """Turn an exception raised by the student's objects (``model.eval()``, a property of the
        returned network, ...) into this check's failure, saying ``what`` was being done."""
        __tracebackhide__ = True
        try:
            yield
        except GradingFailure:
            raise
        except Exception as error:  # here, or in the box (a RemoteError says its kind)
            kind = getattr(error, "kind", type(error).__name__)
            message = f"{what} raised {kind}: {getattr(error, 'message', error)}."
        else:
            return
        self.fail(message)

    def array(self, got, text, what="the result"):
        """``got`` as a plain float ndarray, or fail saying what came back."""
        __tracebackhide__ = True
        return as_float_array(got, text, what, self.recipe)

    def integer(self, got, text, what="the result"):
        """``got`` as a Python int (ints and numpy integers only), or fail."""
        __tracebackhide__ = True
        return as_int(got, text, what, self.recipe)

    def number(self, got, text, what="the result"):
        """``got`` as a Python float (a real number or a size-1 array), or fail."""
        __tracebackhide__ = True
        return as_float(got, text, what, self.recipe)

    def compare(self, got, expected, text, what="the result", alternatives=(), **tolerances):
        """Fail unless the array ``got`` matches ``expected``; hints from ``alternatives``."""
        __tracebackhide__ = True
        compare_arrays(got, expected, text, what, alternatives, self.recipe, **tolerances)

    def expect_array(self, args, expected, kwargs=None, alternatives=(), what="the result", **tol):
        """Call the student's function on ``args`` and compare its array result with ``expected``.

        Returns the result as a plain float array.
        """
        __tracebackhide__ = True
        text = self.text(args, kwargs)
        got = self.array(self.call(args, kwargs, text=text), text, what)
        self.compare(got, expected, text, what, alternatives, **tol)
        return got

    def parts(self, result, names, text):
        """``result`` as a tuple of ``len(names)`` values, or fail saying what to return."""
        __tracebackhide__ = True
        if not isinstance(result, tuple) or len(result) != len(names):
            length = f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""
            listed = ", ".join(names)
            self.fail(
                f"{text} should return a tuple ({listed}), but returned "
                f"{type(result).__name__}{length}. End with `return {listed}`."
            )
        return tuple(result)

    def expect_arrays(self, args, expected, kwargs=None, alternatives=None, text=None, **tol):
        """Call the student's function on ``args``; it must return a tuple of arrays matching
        ``expected`` (``{name: array}``, in order); ``alternatives`` maps names to hints.

        Returns ``{name: result as a plain float array}``.
        """
        __tracebackhide__ = True
        text = text or self.text(args, kwargs)
        result = self.parts(self.call(args, kwargs, text=text), list(expected), text)
        got = {}
        for value, (name, want) in zip(result, expected.items(), strict=True):
            got[name] = self.array(value, text, name)
            hints = (alternatives or {}).get(name, ())
            self.compare(got[name], want, text, name, hints, **tol)
        return got

    def expect_int(self, args, expected, kwargs=None, hints=None):
        """Call the student's function on ``args`` and compare its int result with ``expected``.

        ``hints`` maps a wrong result to the mistake that gives it.
        """
        __tracebackhide__ = True
        text = self.text(args, kwargs)
        got = self.integer(self.call(args, kwargs, text=text), text)
        if got != expected:
            hint = (hints or {}).get(got)
            self.fail(
                f"{text} returned {got}, expected {expected}." + (f"\nHint: {hint}" if hint else "")
            )
        return got


@contextlib.contextmanager
def swapped(fn, replacements, keep=()):
    """While the block runs, names of ``fn``'s namespace (the notebook) that ``replacements``
    lists mean the reference versions: an answer that calls the student's earlier answers
    (``zero_pad`` inside ``conv2d_multi``), directly or through a helper, is graded on its own, and
    a wrong earlier answer costs only its own points. That holds also for names the notebook
    does not define (an answer cell with a syntax error): they are added for the block, so one
    missing answer costs only its own points, as in the grader's box. Names in ``keep`` (the
    answer itself) are left alone; everything is restored afterwards.
    """
    if type(fn) is not types.FunctionType:  # no namespace of the notebook's to change
        yield
        return
    space = fn.__globals__
    names = [n for n in replacements if n not in keep and n != getattr(fn, "__name__", None)]
    names = [n for n in names if not isinstance(replacements[n], dict)]  # served: box only
    missing = object()
    saved = {n: space.get(n, missing) for n in names}
    added = [n for n, value in saved.items() if value is missing]
    if added:
        print(
            "(Not defined in your notebook, so the reference version stands in for it in this "
            f"test: {', '.join(f'`{name}`' for name in added)}.)"
        )
    try:
        space.update({n: replacements[n] for n in names})
        yield
    finally:
        for name, value in saved.items():
            if value is not missing:
                space[name] = value
            elif space.get(name) is replacements[name]:
                del space[name]


def served(package, modules):
    """``{package: {module: {function: reference}}}``: the public functions of private reference
    copies of ``modules`` (dicts: ``{"conv": module}``), as an ``isolate`` entry. An answer that
    may use a library module (``cvlib.conv.conv2d`` in assignment 2's training step) gets these
    in the grader's box, where the module is absent: each call is computed by the grader. (In
    the student's own kernel the real module is there, watched by the trip-wires.)"""
    return {
        package: {
            name: {
                attr: value
                for attr, value in vars(module).items()
                if not attr.startswith("_")
                and callable(value)
                and not isinstance(value, type)
                and getattr(value, "__module__", None) == module.__name__
            }
            for name, module in modules.items()
        }
    }
