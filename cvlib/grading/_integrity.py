"""Guarding the grading helpers against a notebook that rewires Python, numpy or cvlib.grading.

A student's code runs in the same kernel as the hidden tests, before them. Replacing
``np.testing.assert_allclose`` or ``np.allclose`` changes nothing here (the helpers never call
them), but a notebook could also replace what the helpers do use (``np.abs``, ``np.pad``,
``builtins.isinstance``, ``cvlib.grading.check_pad2d``, ``cvlib.grading.checks.compare_arrays``) so
that every comparison says "equal". This module makes such tampering cost the tests their points:

- :func:`protect` (called at the end of ``cvlib/grading/__init__.py``) makes the package and its
  submodules refuse attribute assignment, and makes ``from cvlib.grading import check_x`` return
  the genuine helper, wrapped so that it first runs :func:`audit`, whatever the module's
  ``__dict__`` holds by then.
- :func:`audit` lists what was changed: builtins that are no longer the interpreter's own
  functions and types; numpy functions that are not what a fresh Python process finds under the
  same names (the fresh process is asked once per kernel); functions of ``cvlib.grading`` and of
  the cvlib reference modules that were rebound after import. Any finding fails the check with a
  message saying so: tests cannot be trusted in a rewired interpreter, so they give no points.

This is a guard against the easy and the moderately clever tricks, not a sandbox: code that runs
in the grading kernel can always, with enough effort, reach the objects used here. The instructor
guide says what to do about that (look at the flagged submissions, grade out of process).
"""

import functools
import importlib
import json
import os
import subprocess
import sys

# The interpreter's own types, reached through literals rather than (replaceable) builtin names.
_TYPE = ().__class__.__class__
_FUNCTION = _TYPE(lambda: 0)
_BUILTIN_FUNCTION = _TYPE([].append)
_MODULE = _TYPE(sys)
_PRISTINE_TYPES = {
    "type": _TYPE,
    "object": _TYPE.__base__,
    "int": _TYPE(0),
    "float": _TYPE(0.0),
    "bool": _TYPE(True),
    "str": _TYPE(""),
    "tuple": _TYPE(()),
    "list": _TYPE([]),
    "dict": _TYPE({}),
    "set": _TYPE({0}),
}
_BUILTIN_FUNCTIONS = (
    "isinstance",
    "issubclass",
    "len",
    "abs",
    "min",
    "max",
    "sum",
    "all",
    "any",
    "getattr",
    "hasattr",
    "setattr",
    "callable",
    "repr",
    "print",
    "sorted",
    "iter",
    "next",
    "round",
    "divmod",
    "__import__",
    "id",
    "hash",
    "vars",
)
_NUMPY_MODULES = (
    "numpy",
    "numpy.testing",
    "numpy.linalg",
    "numpy.lib.stride_tricks",
    "numpy.random",
    "numpy.fft",
)
_CVLIB_REFERENCES = (
    "cvlib.conv",
    "cvlib.pool",
    "cvlib.layers",
    "cvlib.kernels",
    "cvlib.gradcheck",
    "cvlib._validate",
)

_GRADING_DIR = os.path.dirname(os.path.abspath(__file__))
_CVLIB_DIR = os.path.dirname(_GRADING_DIR)
_SNAPSHOT = {}  # module name -> {attribute: signature}, from a fresh process
_GENUINE = {}  # module name -> {attribute: function} of cvlib modules, at protect() time
_LAZY = {}  # package name -> {name: submodule} imported on first use

_SIGNATURE_CODE = """
import importlib, json, sys
out = {}
for name in sys.argv[1:]:
    module = importlib.import_module(name)
    out[name] = {k: f"{type(v).__name__}:{getattr(v, '__name__', '')}"
                 for k, v in vars(module).items() if callable(v) and not k.startswith('__')}
print(json.dumps(out))
"""


def _signature(value):
    return f"{_TYPE(value).__name__}:{getattr(value, '__name__', '')}"


def _numpy_snapshot():
    if not _SNAPSHOT:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        result = subprocess.run(
            [sys.executable, "-c", _SIGNATURE_CODE, *_NUMPY_MODULES],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        if result.returncode == 0:
            _SNAPSHOT.update(json.loads(result.stdout))
    return _SNAPSHOT


def _check_builtins(problems):
    import builtins

    space = builtins.__dict__
    for name, kind in _PRISTINE_TYPES.items():
        if space.get(name) is not kind:
            problems.append(f"builtins.{name} was replaced")
    for name in _BUILTIN_FUNCTIONS:
        value = space.get(name)
        if (
            _TYPE(value) is not _BUILTIN_FUNCTION
            or getattr(value, "__self__", None) is not builtins
            or value.__name__ != name
        ):
            problems.append(f"builtins.{name} was replaced")


def _check_numpy(problems):
    snapshot = _numpy_snapshot()
    numpy = sys.modules.get("numpy")
    numpy_dir = os.path.dirname(getattr(numpy, "__file__", "") or "") or "\0"
    for module_name, expected in snapshot.items():
        module = sys.modules.get(module_name)
        if module is None:
            continue
        space = module.__dict__
        for attribute, signature in expected.items():
            value = space.get(attribute)
            if value is None:
                continue
            changed = _signature(value) != signature
            for _ in range(5):  # decorators (contextmanager, wraps) keep the original here
                inner = value.__dict__.get("__wrapped__") if _TYPE(value) is _FUNCTION else None
                value = inner if _TYPE(inner) is _FUNCTION else value
            if not changed and _TYPE(value) is _FUNCTION:
                changed = not value.__code__.co_filename.startswith(numpy_dir)
            if changed:
                problems.append(f"{module_name}.{attribute} was replaced")


def _from_notebook(function):
    """True for a function defined in a notebook cell (or by exec/compile of a string)."""
    filename = function.__code__.co_filename
    return (
        function.__globals__.get("__name__") == "__main__"
        or filename.startswith("<")
        or "ipykernel_" in filename
    )


def _check_cvlib(problems):
    for module_name, genuine in _GENUINE.items():
        module = sys.modules.get(module_name)
        if module is None:
            problems.append(f"{module_name} was removed from sys.modules")
            continue
        if _TYPE(module) is not _Protected:
            problems.append(f"{module_name} was replaced in sys.modules")
            continue
        space = module.__dict__
        for attribute, value in genuine.items():
            if space.get(attribute) is not value:
                problems.append(f"{module_name}.{attribute} was replaced")
    for module_name in _CVLIB_REFERENCES:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for attribute, value in module.__dict__.items():
            if _TYPE(value) is _FUNCTION and _from_notebook(value):
                problems.append(f"{module_name}.{attribute} was replaced")


def audit():
    """What in builtins, numpy and cvlib was changed since it was loaded; [] if nothing."""
    problems = []
    _check_builtins(problems)
    _check_numpy(problems)
    _check_cvlib(problems)
    return problems


def ensure_untampered():
    """Raise ``GradingFailure`` if :func:`audit` finds anything."""
    __tracebackhide__ = True
    problems = audit()
    if problems:
        from ._student import GradingFailure

        listed = "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else "")
        raise GradingFailure(
            "The grading environment was modified by code in this notebook (" + listed + "). "
            "Tests cannot be trusted after that, so this test gives no points. Remove the code "
            "that replaces parts of Python, numpy or cvlib, restart the kernel and run all cells."
        )


class _Protected(_MODULE):
    """Module type of cvlib.grading: attributes read-only, helpers served from the genuine set."""

    def __getattribute__(self, name):
        own = _MODULE.__getattribute__(self, "__name__")
        genuine = _GENUINE.get(own, {})
        if name in genuine:
            return _guarded(genuine[name])
        if name in _LAZY.get(own, {}):
            return _load(own, _LAZY[own][name], name)
        return _MODULE.__getattribute__(self, name)

    def __setattr__(self, name, value):
        own = _MODULE.__getattribute__(self, "__name__")
        child = f"{own}.{name}"
        if _TYPE(value) is _MODULE and value.__name__ == child and sys.modules.get(child) is value:
            # the import system registering a freshly imported submodule on its package
            if name not in _MODULE.__getattribute__(self, "__dict__"):
                return _MODULE.__setattr__(self, name, value)
        raise AttributeError(f"cvlib.grading is read-only: cannot set {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"cvlib.grading is read-only: cannot delete {name!r}")


def _load(package_name, submodule, name):
    """Import ``package_name.submodule`` on first use of ``name``, guard it, serve ``name``."""
    importlib.import_module(f"{package_name}.{submodule}")
    protect(package_name)
    return _guarded(_GENUINE[f"{package_name}.{submodule}"][name])


@functools.cache
def _guarded(function):
    if not getattr(function, "__name__", "").startswith("check_"):
        return function

    @functools.wraps(function)
    def checked(*args, **kwargs):
        __tracebackhide__ = True
        ensure_untampered()
        return function(*args, **kwargs)

    return checked


def protect(package_name, lazy=None):
    """Make ``package_name`` and its loaded submodules read-only and audited (see module doc).

    ``lazy`` maps names the package serves to the submodule that defines them, imported on first
    use. Modules already protected keep the functions they had when they were first protected.
    """
    if lazy is not None:
        _LAZY.setdefault(package_name, dict(lazy))
    for module_name, module in list(sys.modules.items()):
        if module_name != package_name and not module_name.startswith(package_name + "."):
            continue
        if module_name in _GENUINE or _TYPE(module) is not _MODULE:
            continue
        _GENUINE[module_name] = {
            k: v
            for k, v in module.__dict__.items()
            if _TYPE(v) is _FUNCTION and not k.startswith("__")
        }
        module.__class__ = _Protected
