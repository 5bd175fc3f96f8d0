"""Grading helpers for the course's nbgrader test cells, one module per assignment.

A test cell calls one helper per answer instead of bare asserts::

    from cvlib.grading import check_conv2d_multi
    check_conv2d_multi(conv2d_multi)

Each helper calls the student's function on fresh random inputs (a new seed per call; pass
``seed=`` to repeat a failing test exactly), computes the reference with a private, freshly loaded
copy of the cvlib module (so rebinding ``cvlib.conv.conv2d`` in a notebook changes nothing), checks
type, dtype and shape before values, compares values with explicit tolerances on plain ndarray
copies (never through the result's own ``__eq__``), and raises ``AssertionError`` with a message a
student can act on: the first wrong position with expected and got values, plus a hint when the
result matches a known mistake (flipped kernel, stride ignored, padding on the wrong axes, ...).
Exceptions raised by student code become such messages too. Helpers never write to stderr.

Hidden tests call the same helpers with ``hidden=True`` (more and harder cases), so the feedback
a student receives shows a call, not the test data.

The checks live in :mod:`~cvlib.grading.a1_convolution` ... :mod:`~cvlib.grading.a5_detection`
over one skeleton, :class:`cvlib.grading.checks.Run`. The checks of assignments 3 to 5 (PyTorch)
are imported on first use, so that the kernels of assignments 1 and 2 never load torch.
"""

from ._compare import as_float, as_float_array, as_int, compare_arrays
from ._student import GradingFailure, call, reference
from .a1_convolution import (
    check_apply_filters,
    check_conv2d_multi,
    check_conv2d_single,
    check_conv2d_strided,
    check_conv_params,
    check_dense_params,
    check_output_size,
    check_pad2d,
)
from .a2_backprop import (
    check_conv_backward,
    check_cross_entropy,
    check_max_pool_backward,
    check_pool,
    check_relu,
    check_softmax,
    check_training_step,
)
from .checks import Run

_TORCH_CHECKS = {  # name -> module, imported (with torch) on first use
    "check_lenet": "a3_cnn",
    "check_train_one_epoch": "a3_cnn",
    "check_evaluate": "a3_cnn",
    "check_trained_classifier": "a3_cnn",
    "check_lenet_training": "a3_cnn",
    "lenet_params": "a3_cnn",
    "check_hflip": "a4_transfer",
    "check_brightness": "a4_transfer",
    "check_random_crop": "a4_transfer",
    "check_prepare_transfer": "a4_transfer",
    "check_transfer_result": "a4_transfer",
    "check_fine_tuning": "a4_transfer",
    "check_box_iou": "a5_detection",
    "check_nms": "a5_detection",
    "check_box_net": "a5_detection",
    "check_box_regressor": "a5_detection",
    "check_box_training": "a5_detection",
}

__all__ = [  # the checks of assignments 3 to 5 are served from _TORCH_CHECKS
    "GradingFailure",
    "Run",
    "as_float",
    "as_float_array",
    "as_int",
    "call",
    "check_apply_filters",
    "check_box_iou",
    "check_box_net",
    "check_box_regressor",
    "check_box_training",
    "check_brightness",
    "check_conv2d_multi",
    "check_conv2d_single",
    "check_conv2d_strided",
    "check_conv_backward",
    "check_conv_params",
    "check_cross_entropy",
    "check_dense_params",
    "check_evaluate",
    "check_fine_tuning",
    "check_hflip",
    "check_lenet",
    "check_lenet_training",
    "check_max_pool_backward",
    "check_nms",
    "check_output_size",
    "check_pad2d",
    "check_pool",
    "check_prepare_transfer",
    "check_random_crop",
    "check_relu",
    "check_softmax",
    "check_train_one_epoch",
    "check_trained_classifier",
    "check_training_step",
    "check_transfer_result",
    "compare_arrays",
    "lenet_params",
    "reference",
]


def __dir__():
    return sorted(set(globals()) | set(_TORCH_CHECKS))


# Last: make the helpers tamper-evident (read-only package, audited checks; see _integrity.py);
# the package serves the checks of assignments 3 to 5 from their modules on first use.
from ._integrity import protect as _protect  # noqa: E402

_protect(__name__, lazy=_TORCH_CHECKS)
