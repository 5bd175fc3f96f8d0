"""Trip-wires: while a check runs a student's function, library implementations of what the answer
asks for are out of reach.

A :class:`Wire` names library functions: the Python functions of a source file or folder
(``cvlib/conv.py``, ``scipy/ndimage/_filters.py``, ``torchvision/ops/``), found by the file their
code comes from, or C functions by name (``torch.conv2d``, ``torch._C._nn.avg_pool2d``) or all
the C functions of a module (:data:`ANY`: everything of PyTorch for assignment 6). A
:class:`Watch` puts a profiler (:func:`sys.setprofile`) in place for the duration of one call of
the student's function. It sees every Python and C function call, so it finds a forbidden
function however the student reached it (``cvlib.conv.conv2d``, ``from cvlib.conv import conv2d
as c``, a helper, ``nn.Conv2d`` whose forward calls ``torch.conv2d``, an import inside the
answer), records the first one and stops it with :class:`LibraryCall`; the check then fails with
a message naming the call.

Three kinds of callers may use forbidden functions during the call, because the check put them
there: the reference copies of earlier answers a check swaps in (their module namespaces are
*trusted*), the small adapters that call them and the counting hooks of the training checks
(their code objects are *trusted*). A forbidden call is allowed when, walking up the stack from
it, a trusted frame comes before any frame of the notebook (``__main__``) and before the check's
own call of the student's function. Imports that run during the call are allowed too (a module
body executing is not a call of the answer).

The profiler is removed in ``finally`` and the previous one restored, so nothing leaks into the
next cell; ``sys.setprofile`` and ``sys.settrace`` themselves are forbidden while it runs.
"""

import functools
import importlib.util
import os
import sys
from dataclasses import dataclass

_CVLIB = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class LibraryCall(BaseException):  # a signal: `except Exception` in an answer must not catch it
    """Raised into the student's code when it calls a forbidden library function."""


@dataclass(frozen=True)
class Wire:
    """Library functions an answer may not call.

    ``path`` is a file or a folder (ending in ``/``) relative to the folder holding the top-level
    package, e.g. ``"scipy/signal/_signaltools.py"``; ``names`` limits it to these functions (their
    ``__qualname__``, or a class name for all its methods); ``builtins`` names C functions whose
    ``__module__`` (or whose instance's type's module) starts with ``module``. ``label`` is how a
    message names the library (``"scipy.signal"``).
    """

    label: str
    path: str = ""
    names: frozenset = None
    builtins: frozenset = frozenset()
    module: str = ""

    @functools.cache  # noqa: B019  (a few dozen frozen wires, alive for the session anyway)
    def location(self):
        """Absolute file or folder of ``path`` (None if its package is not installed)."""
        if not self.path:
            return None
        top = self.path.split("/")[0]
        if top == "cvlib":
            base = os.path.dirname(_CVLIB)
        else:
            spec = importlib.util.find_spec(top)  # top-level packages only: nothing is imported
            if spec is None or not spec.submodule_search_locations:
                return None
            base = os.path.dirname(next(iter(spec.submodule_search_locations)))
        location = os.path.join(base, *self.path.rstrip("/").split("/"))
        return location + os.sep if self.path.endswith("/") else location


def wires(label, *paths, names=None):
    """One :class:`Wire` per path under one label (``wires("cvlib", "cvlib/conv.py", ...)``)."""
    names = frozenset(names) if names is not None else None
    return tuple(Wire(label, path, names) for path in paths)


ANY = "*"  # as the name of a C function: every C function of the wire's module


def builtins(label, module, names):
    """A :class:`Wire` of C functions ``names`` from ``module`` (a prefix, e.g. ``"torch"``);
    ``names=ANY`` for all of them."""
    return Wire(label, builtins=frozenset([names] if names == ANY else names), module=module)


# The grader's watch itself: switching the profiler off or tracing around it is tampering.
WATCH = (builtins("sys", "sys", {"setprofile", "settrace"}),)

# --- the catalogue: what the assignments' answers may not hand their work to ------------------
# A file's functions are named after the wire's label (``scipy.signal.correlate2d``), a folder's
# after the module they are in (``cvlib.train.loop.fit``).


def cvlib_modules(*names):
    """One :class:`Wire` per module of cvlib's numpy core (``"conv"`` -> ``cvlib/conv.py``)."""
    return tuple(Wire(f"cvlib.{name}", f"cvlib/{name}.py") for name in names)


# cvlib's numpy core: what assignments 1 and 2 ask students to write
CVLIB_NUMPY = (
    *cvlib_modules("conv", "_fast_conv", "pool", "layers"),
    Wire(
        "cvlib._validate",
        "cvlib/_validate.py",
        frozenset({"Windows", "windows", "padding_sides", "check_conv", "check_pool"}),
    ),
)
CVLIB_GRADIENTS = (
    *cvlib_modules("tiny_cnn", "gradcheck"),
    *wires("cvlib", "cvlib/nn/", "cvlib/probes/", "cvlib/models/"),
)
# PyTorch's layers as C functions (``F.conv2d`` is ``torch.conv2d``, ``F.avg_pool2d`` is
# ``torch._C._nn.avg_pool2d``; ``nn.Conv2d``, ``F.max_pool2d`` and ``F.relu`` end in them too)
TORCH_LAYERS = builtins(
    "torch",
    "torch",
    {
        *(f"conv{d}d" for d in (1, 2, 3)),
        *(f"conv_transpose{d}d" for d in (1, 2, 3)),
        *("convolution", "_convolution", "conv_tbc", "_conv_depthwise2d", "mkldnn_convolution"),
        *(
            f"{kind}_pool{d}d"
            for kind in ("max", "avg", "adaptive_max", "adaptive_avg")
            for d in (1, 2, 3)
        ),
        *(f"max_pool{d}d_with_indices" for d in (1, 2, 3)),
        *("_adaptive_avg_pool2d", "fractional_max_pool2d", "max_unpool2d", "lp_pool2d"),
        *("relu", "relu_", "threshold", "threshold_"),
        *("softmax", "_softmax", "log_softmax", "_log_softmax", "logsumexp"),
        *("cross_entropy_loss", "nll_loss", "nll_loss2d", "nll_loss_nd"),
    },
)
# the libraries a numpy answer could hand a convolution, a pooling or a gradient to
NUMPY_LIBRARIES = (
    *wires("scipy.signal", "scipy/signal/_signaltools.py"),
    *wires("scipy.ndimage", "scipy/ndimage/_filters.py"),
    *wires("scipy.special", "scipy/special/_logsumexp.py"),
    *wires("skimage.filters", "skimage/filters/"),
    *wires("skimage.measure", "skimage/measure/block.py"),
    TORCH_LAYERS,
    *wires("torch", "torch/nn/modules/", "torch/autograd/"),
    *wires("torch.nn.grad", "torch/nn/grad.py"),
    Wire("torch", "torch/_tensor.py", frozenset({"Tensor.backward"})),
)
# everything a numpy answer of assignments 1 and 2 may not call
NUMPY_ANSWER = (*CVLIB_NUMPY, *CVLIB_GRADIENTS, *NUMPY_LIBRARIES)
# the grading helpers and cvlib's training code: never part of an answer (cvlib.train.runtime's
# utilities, set_seed, torch_threads, eval_mode, stay allowed)
CVLIB_TRAINING = (
    *wires("cvlib", "cvlib/grading/", "cvlib/experiments/", "cvlib/bench/", "cvlib/segmentation/"),
    *(
        Wire(f"cvlib.train.{name}", f"cvlib/train/{name}.py")
        for name in ("loop", "evaluation", "transfer", "parallel")
    ),
    *wires("cvlib.detection", "cvlib/detection/regressor.py", "cvlib/detection/rcnn.py"),
)
# more images than a training function is handed
DATA = (
    *wires("cvlib", "cvlib/data/"),
    *wires("sklearn", "sklearn/datasets/"),
    *wires("torchvision", "torchvision/datasets/"),
)
NETWORKS = (*wires("cvlib", "cvlib/models/"), *wires("torchvision", "torchvision/models/"))
# assignment 6 builds a whole network from the student's numpy alone: cvlib's references of its
# layers, of the network and of its training are out of reach (the network's starting weights,
# init_params, stay allowed), and so are all of PyTorch and SciPy, and the data sets
CVLIB_CAPSTONE = (
    *cvlib_modules("batchnorm", "optim", "numpy_training"),
    Wire(
        "cvlib.numpy_cnn",
        "cvlib/numpy_cnn.py",
        frozenset({"forward", "loss_and_grads", "predict", "gradient_check"})
        | frozenset({"_block_forward", "_block_backward"}),
    ),
)
TORCH = (*wires("torch", "torch/"), builtins("torch", "torch", ANY))
SCIPY = wires("scipy", "scipy/")
NUMPY_ONLY = (*NUMPY_ANSWER, *CVLIB_CAPSTONE, *CVLIB_TRAINING, *DATA, *TORCH, *SCIPY)
AUGMENTATIONS = (
    *wires("cvlib.augment.functional", "cvlib/augment/functional.py"),
    *wires(
        "cvlib.augment",
        "cvlib/augment/geometric.py",
        "cvlib/augment/photometric.py",
        "cvlib/augment/presets.py",
    ),
    *wires("torchvision", "torchvision/transforms/"),
)
BOXES = (
    *wires("cvlib", "cvlib/detection/"),
    *wires("torchvision", "torchvision/ops/"),
    builtins("torchvision", "torch._ops.torchvision", {"nms", "roi_align", "roi_pool"}),
)


class _Index:
    """Fast lookup of forbidden functions: by file, by folder prefix, by C function name."""

    def __init__(self, wires):
        self.files, self.folders, self.c_names = {}, [], {}
        for wire in wires:
            location = wire.location()
            if location and location.endswith(os.sep):
                self.folders.append((location, wire))
            elif location:
                self.files.setdefault(location, []).append(wire)
            for name in wire.builtins:
                self.c_names.setdefault(name, []).append(wire)
        self.any_c = self.c_names.pop(ANY, [])  # wires of every C function of a module
        self.prefixes = tuple(folder for folder, _ in self.folders)

    def python(self, code, frame):
        """The display name of a forbidden Python function about to run, else None."""
        filename = code.co_filename
        found = self.files.get(filename)
        if found is None and self.prefixes and filename.startswith(self.prefixes):
            found = [wire for folder, wire in self.folders if filename.startswith(folder)]
        if not found or code.co_name == "<module>":
            return None
        qualname = code.co_qualname
        for wire in found:
            if wire.names is None or qualname in wire.names or qualname.split(".")[0] in wire.names:
                if wire.path.endswith("/"):  # a folder: name the module the function is in
                    module = _public(frame.f_globals.get("__name__", wire.label))
                else:  # a file: name it as the library's users reach it
                    module = wire.label
                return f"{module}.{qualname}".replace(".<locals>", "")
        return None

    def builtin(self, function):
        """The display name of a forbidden C function about to run, else None."""
        found = self.c_names.get(getattr(function, "__name__", None)) or self.any_c
        if not found:
            return None
        module = getattr(function, "__module__", None)
        if module is None:
            module = type(getattr(function, "__self__", None)).__module__
        for wire in found:
            if module and module.startswith(wire.module):
                return f"{_ALIASES.get(module, module)}.{function.__name__}"
        return None


_ALIASES = {"torch._C._nn": "torch.nn.functional", "torch._C._VariableFunctions": "torch"}


def _public(module):
    """``scipy.signal`` for ``scipy.signal._signaltools``: the public package a function is
    reached from (a private module directly under a top-level package is kept)."""
    parts = module.split(".")
    public = next((i for i, part in enumerate(parts) if part.startswith("_")), len(parts))
    return ".".join(parts[:public]) if public >= 2 else module


@functools.cache
def _index(wires):
    return _Index(wires)


def _importing(frame):
    """True for the body of a module being imported (a real module, not exec'd code)."""
    module = sys.modules.get(frame.f_globals.get("__name__"))
    return module is not None and getattr(module, "__dict__", None) is frame.f_globals


class Watch:
    """A context manager watching one call of a student's function for forbidden calls.

    ``calls`` lists what the student's code called (the first one stopped it); ``reason`` is what
    the failure message adds (``"this answer asks for your own loops"``). ``trusted`` holds
    functions and classes whose frames may use anything: reference copies (trusted by their
    private module namespace) and the check's adapters and hooks (trusted by their code object).
    """

    def __init__(self, forbid, reason, trusted=()):
        self.index = _index((*WATCH, *forbid))
        self.reason = reason
        self.codes, self.spaces, self.kept = {id(Watch.__exit__.__code__)}, set(), []
        for item in trusted:
            self.trust(item)
        self.calls = []
        self.boundary = self.previous = None
        self.hook = self._profile  # one bound method, so that sys.getprofile() can be compared

    def trust(self, item):
        """Let ``item`` (a function, or a class: its methods), and what it calls, use anything."""
        functions = [item] if hasattr(item, "__code__") else []
        if isinstance(item, type):
            functions = [v for v in vars(item).values() if hasattr(v, "__code__")]
        for function in functions:
            self.kept.append(function)  # alive while watched: ids are not reused
            if _is_private_copy(function.__globals__):
                self.spaces.add(id(function.__globals__))
            else:
                self.codes.add(id(function.__code__))

    def __enter__(self):
        self.boundary = sys._getframe(1)  # the frame that calls the student's function
        self.previous = sys.getprofile()
        sys.setprofile(self.hook)
        return self

    def __exit__(self, *exc):
        switched_off = sys.getprofile() is not self.hook and not self.calls
        sys.setprofile(self.previous)
        if switched_off:
            self.calls.append("something that switched off the grader's watch")
        return False

    def _profile(self, frame, event, arg):
        if event == "call":
            found = self.index.python(frame.f_code, frame)
        elif event == "c_call":
            found = self.index.builtin(arg)
        else:
            return
        if found and not self._allowed(frame):
            self.calls.append(found)
            raise LibraryCall(found)

    def _allowed(self, frame):
        """True if a trusted frame, or an import, stands between ``frame`` and the student."""
        while frame is not None and frame is not self.boundary:
            if id(frame.f_code) in self.codes or id(frame.f_globals) in self.spaces:
                return True
            if frame.f_globals.get("__name__") == "__main__":
                return False
            if frame.f_code.co_name == "<module>" and _importing(frame):
                return True
            frame = frame.f_back
        return False


def _is_private_copy(space):
    """True for the namespace of a module copy that is not in ``sys.modules`` (a reference)."""
    module = sys.modules.get(space.get("__name__")) if space is not None else None
    return space is not None and getattr(module, "__dict__", None) is not space
