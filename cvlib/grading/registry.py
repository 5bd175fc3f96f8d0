"""The assignments as data: what each one's answers may use, and which test cells the grader
decides outside the student's kernel.

One :class:`Assignment` per assignment, in :data:`ASSIGNMENTS`. The grader
(:mod:`cvlib.grading.trusted`) reads it to build the box the answers run in for the checks:
the modules in ``hidden`` are not there at all (their files are replaced, their compiled caches
hidden), except those in ``allowed``. So an answer of assignment 1 cannot hand its convolution
to SciPy, PyTorch or cvlib's own reference, from any thread and by any route: that code is not
in the box. What an answer may legitimately call of a hidden module is served by the grader
instead (the check's ``isolate``: the box asks the grader to compute it, and never gets its code).

Test cells listed in ``trusted`` (all of them when it is None, as for every assignment of the
course) are decided in the grader's process; any others would run their checks in the student's
kernel, as plain nbgrader does. The checks of assignments 3 to 5 hand networks, data loaders and
optimisers to the student's code: those are built in the box from data the grader sends
(:mod:`cvlib.grading.box_torch`), and what the grader judges comes back as data (weights loaded
into its own copy of the network, scored on its own copy of the data).

Adding assignment 7: write its checks (``cvlib/grading/a7_*.py``), its nbgrader source notebook
(``solutions/a7_*/``), and one entry here; ``tests/test_trusted_grading.py`` grades its solution
and its blank version through the registry.
"""

from dataclasses import dataclass

# Third-party libraries that could do a numpy answer's work (a convolution, a pooling, a
# gradient): none of them is in the box of a numpy assignment.
NUMPY_HELPERS = ("torch", "torchvision", "scipy", "skimage", "sklearn", "pandas", "numba")
# What could do a PyTorch answer's work (a network, a training loop, an augmentation, IoU and NMS,
# or the data: cvlib's digits and shapes): none of it is in the box of assignments 3 to 5.
TORCH_HELPERS = ("torchvision", "cvlib", "scipy", "skimage", "sklearn")
TORCH_PRELOAD = ("torch", "torch.optim", "torch._dynamo")


@dataclass(frozen=True)
class Assignment:
    """One assignment: its notebook and what its answers may use in the grader's box.

    ``hidden``: modules (``"torch"``, ``"cvlib"``, ``"cvlib.conv"``) absent from the box;
    ``allowed``: submodules of those that stay (``"cvlib.kernels"``); ``trusted``: grade ids
    of the test cells decided in the grader's process (None: every test cell); ``files``:
    the files besides the notebook that a submission may bring (names, no folders);
    ``preload``: modules the box imports before the answers run, so that no answer can break
    what the grader's checks load there later (torch's optimisers import its compiler on first
    use, which a module planted in ``sys.modules`` can break).
    """

    name: str
    notebook: str
    hidden: tuple = ()
    allowed: tuple = ()
    trusted: frozenset | None = None
    files: tuple = ()
    preload: tuple = ()

    def decides(self, grade_id):
        """True if the grader decides the test cell ``grade_id`` outside the kernel."""
        return self.trusted is None or grade_id in self.trusted


ASSIGNMENTS = {
    a.name: a
    for a in (
        Assignment(
            "a1_convolution",
            "a1_convolution",
            hidden=(*NUMPY_HELPERS, "cvlib"),
            allowed=("cvlib.kernels",),
        ),
        Assignment("a2_backprop", "a2_backprop", hidden=(*NUMPY_HELPERS, "cvlib")),
        Assignment("a3_cnn", "a3_cnn", hidden=TORCH_HELPERS, preload=TORCH_PRELOAD),
        Assignment("a4_transfer", "a4_transfer", hidden=TORCH_HELPERS, preload=TORCH_PRELOAD),
        Assignment("a5_detection", "a5_detection", hidden=TORCH_HELPERS, preload=TORCH_PRELOAD),
        Assignment(
            "a6_capstone",
            "a6_capstone",
            hidden=(*NUMPY_HELPERS, "cvlib"),
            allowed=("cvlib.numpy_cnn_params",),
        ),
    )
}


def find(name):
    """The :class:`Assignment` called ``name``, or None for an assignment the course does not
    know (graded entirely in the kernel, as nbgrader does)."""
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a str, got {type(name).__name__}")
    return ASSIGNMENTS.get(name)
