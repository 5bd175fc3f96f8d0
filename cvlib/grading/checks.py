"""The skeleton every check runs on: one :class:`Run` per call of a ``check_*`` function.

A check declares only what is particular to its answer: the cases, the reference and the hints
for the usual mistakes. A :class:`Run` does the rest, the same way for every answer of every
assignment::

    def check_relu(fn, seed=None, hidden=False):
        run = Run("check_relu", fn, "relu", seed=seed, hidden=hidden)
        ref = reference("cvlib.layers")
        for x in relu_cases(run.rng, hidden):
            run.expect_array([("x", x)], ref.relu(x), alternatives=[...])

- the seed (fresh unless given), the random generator drawn from it, and the recipe that repeats
  the run, appended to every failure message;
- calling the student's function (:func:`~cvlib.grading._student.call`: inputs copied, output
  captured, exceptions reported in words, in-place changes caught);
- turning the result into a plain array (type, dtype) and comparing it with the reference
  (shape, values, hints), through :mod:`cvlib.grading._compare`.
"""

import numpy as np

from ._compare import as_float, as_float_array, as_int, compare_arrays
from ._student import call, describe, fail, function_name, new_seed, with_references


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
        The check's name as a test cell writes it, e.g. ``"check_pool(mode='max')"``.
    fn : callable
        The student's answer.
    default : str
        The answer's name in the assignment (used when ``fn`` has no usable ``__name__``).
    seed : int, optional
        Repeat an earlier run; a fresh seed is drawn otherwise (``seeded=False``: no seed).
    hidden : bool
        Run the hidden cases too.
    isolate : dict, optional
        Earlier answers the student's function may call, replaced by reference versions (name ->
        function) so that this answer is graded on its own.
    """

    def __init__(self, check, fn, default, seed=None, hidden=False, isolate=None, seeded=True):
        self.check = check
        self.name = function_name(fn, default)
        self.fn = with_references(fn, isolate) if isolate else fn
        self.hidden = hidden
        self.seed = new_seed(seed) if seeded else None
        self.rng = np.random.default_rng(self.seed)

    @property
    def recipe(self):
        """How to repeat exactly this run (None for checks without random inputs)."""
        if self.seed is None:
            return None
        return f"(To repeat exactly this test: {self.check}(..., seed={self.seed}).)"

    def fail(self, message):
        """Fail the check with ``message`` and the recipe."""
        __tracebackhide__ = True
        fail(message, self.recipe)

    def text(self, args=(), kwargs=None, name=None):
        """``conv2d(x of shape (5, 5), weight of shape (3, 3), stride=2)`` for messages."""
        parts = [argument_text(k, v) for k, v in args]
        parts += [argument_text(k, v) for k, v in (kwargs or {}).items()]
        return f"{name or self.name}({', '.join(parts)})"

    def call(self, args=(), kwargs=None, fn=None, name=None, text=None):
        """Call the student's function (or ``fn``) on ``args`` and return its result."""
        __tracebackhide__ = True
        fn = self.fn if fn is None else fn
        return call(fn, name or self.name, args, kwargs, self.recipe, text)

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
