"""Each hint of the numpy assignments' checks (1, 2 and 6) is chosen by what the wrong answer looks
like: for every hint, one wrong answer that earns it and one (also wrong) that must not.

The wrong answers are built from the instructor's solutions (``nbgrader_submissions.namespace``)
the way students get them wrong; ``HINTS`` is the table the issue asks for (issue 24).
"""

import numpy as np
import pytest
from nbgrader_submissions import namespace, solution_notebook

from cvlib import grading
from cvlib.grading import a6_capstone
from cvlib.grading._compare import OFF_BY_ONE, REORDERED
from cvlib.grading.a2_backprop.backward import max_pool_backward_alternatives
from cvlib.grading.a6_capstone.layers import LR_IN_VELOCITY
from cvlib.grading.a6_capstone.network import LOGITS_SHAPE
from cvlib.tools import demo

A1 = namespace("a1_convolution")
A2 = namespace("a2_backprop")
A6 = namespace("a6_capstone")


def message_of(check, fn, seed):
    """The failure message of ``check(fn, seed=seed)`` (the answer must fail)."""
    with pytest.raises(AssertionError) as info:
        check(fn, seed=seed)
    return str(info.value)


# --- assignment 1 ----------------------------------------------------------------------------


def size(formula):
    return lambda n, kernel_size, stride=1, padding=0: formula(n, kernel_size, stride, padding)


NO_PLUS_ONE = size(lambda n, k, s, p: (n + 2 * p - k) // s)
ONE_SIDE = size(lambda n, k, s, p: (n + p - k) // s + 1)
ROUND_UP = size(lambda n, k, s, p: -(-(n + 2 * p - k) // s) + 1)
NO_STRIDE = size(lambda n, k, s, p: n + 2 * p - k + 1)
TRUE_DIVISION = size(lambda n, k, s, p: (n + 2 * p - k) / s + 1)


def padded(widths, **options):
    """zero_pad through np.pad with ``widths(x, pad_h, pad_w)``."""

    def zero_pad(x, padding):
        ph, pw = (padding, padding) if isinstance(padding, int) else padding
        return np.pad(x.astype(float), widths(x, ph, pw), **options)

    return zero_pad


def lead(x):
    return [(0, 0)] * (x.ndim - 2)


EVERY_AXIS = padded(lambda x, ph, pw: [(ph, ph)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])
AFTER_ONLY = padded(lambda x, ph, pw: [*lead(x), (0, ph), (0, pw)])
TWICE_AFTER = padded(lambda x, ph, pw: [*lead(x), (0, 2 * ph), (0, 2 * pw)])
PAIR_SWAPPED = padded(lambda x, ph, pw: [*lead(x), (pw, pw), (ph, ph)])
EDGE = padded(lambda x, ph, pw: [*lead(x), (ph, ph), (pw, pw)], mode="edge")


def INT_KEPT(x, padding):
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return np.pad(x, [*lead(x), (ph, ph), (pw, pw)])


single, strided, multi = A1["conv2d_single"], A1["conv2d_strided"], A1["conv2d_multi"]
FLIPPED_SINGLE = lambda x, w: single(x, w[::-1, ::-1])  # noqa: E731
TRANSPOSED_KERNEL = lambda x, w: single(x, w.T)  # noqa: E731
ONE_ROW_SHORT = lambda x, w: single(x, w)[:-1]  # noqa: E731
TRANSPOSED_SINGLE = lambda x, w: single(x, w).T  # noqa: E731


def strided_with(change):
    def conv2d_strided(x, weight, stride=1, padding=0):
        return change(x, weight, stride, padding)

    return conv2d_strided


def out_size(x, w, s, p):
    return [A1["output_size"](n, k, s, p) for n, k in zip(x.shape[-2:], w.shape[-2:], strict=True)]


STRIDE_ONE = strided_with(
    lambda x, w, s, p: strided(x, w, 1, p)[: out_size(x, w, s, p)[0], : out_size(x, w, s, p)[1]]
)
NO_PADDING = strided_with(lambda x, w, s, p: strided(x, w, s, 0))
PAD_AFTER = strided_with(lambda x, w, s, p: strided(np.pad(x, [(0, 2 * p), (0, 2 * p)]), w, s, 0))
FLIPPED_STRIDED = strided_with(lambda x, w, s, p: strided(x, w[::-1, ::-1], s, p))
SHORT_STRIDED = strided_with(lambda x, w, s, p: strided(x, w, s, p)[:-1])


def multi_with(change):
    def conv2d_multi(x, weight, bias=None, stride=1, padding=0):
        return change(x, weight, bias, stride, padding)

    return conv2d_multi


NO_BIAS = multi_with(lambda x, w, b, s, p: multi(x, w, None, s, p))
FIRST_CHANNEL = multi_with(lambda x, w, b, s, p: multi(x[:1], w[:, :1], b, s, p))
MAP_PER_CHANNEL = multi_with(  # each input channel through the first filter, not summed
    lambda x, w, b, s, p: np.stack([strided(c, w[0, 0], s, p) for c in x])
)
TRANSPOSED_MULTI = multi_with(lambda x, w, b, s, p: multi(x, w, b, s, p).swapaxes(-1, -2))
SHORT_MULTI = multi_with(lambda x, w, b, s, p: multi(x, w, b, s, p)[..., :-1, :])


def filters_with(padding, flip):
    def apply_filters(image, names):
        weight = np.stack([A1["kernels"].kernel(n) for n in names])[:, None]
        return multi(image[None], weight[..., ::-1, ::-1] if flip else weight, padding=padding)

    return apply_filters


DENSE_NO_BIAS = lambda i, o: i * o  # noqa: E731
DENSE_BIAS_PER_INPUT = lambda i, o: i * o + i  # noqa: E731
CONV_NO_BIAS = lambda ci, co, k: co * ci * k * k  # noqa: E731
CONV_ONE_CHANNEL = lambda ci, co, k: co * k * k + co  # noqa: E731
CONV_NOT_SQUARED = lambda ci, co, k: co * ci * k + co  # noqa: E731

# --- assignment 2 ----------------------------------------------------------------------------


def pool(mode):
    return lambda fn, **kw: grading.check_pool(fn, mode=mode, **kw)


max_pool, min_pool = A2["max_pool2d"], A2["min_pool2d"]


def pooled(change):
    def max_pool2d(x, kernel_size, stride=None):
        return change(x, kernel_size, stride)

    return max_pool2d


def pool_size(x, k, s):
    s = k if s is None else s
    return [(n - k) // s + 1 for n in x.shape[-2:]]


STRIDE_NONE_IS_ONE = pooled(lambda x, k, s: max_pool(x, k, s or 1))
WINDOWS_STILL = pooled(
    lambda x, k, s: max_pool(x, k, 1)[..., : pool_size(x, k, s)[0], : pool_size(x, k, s)[1]]
)
STRIDE_IGNORED = pooled(lambda x, k, s: max_pool(x, k, k))
MIN_FOR_MAX = pooled(lambda x, k, s: min_pool(x, k, s))
SHORT_POOL = pooled(lambda x, k, s: max_pool(x, k, s)[..., :-1, :])


def avg_real_pixels(x, kernel_size, stride=None, padding=0):
    """Average pooling that divides by the real pixels of each window (count_include_pad=False)."""
    k, s, p = kernel_size, stride or kernel_size, padding
    xp = np.pad(x, [(0, 0), (0, 0), (p, p), (p, p)], constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::s, ::s]
    return np.nanmean(windows, axis=(4, 5))


def avg_stride_ignored(x, kernel_size, stride=None, padding=0):
    return A2["avg_pool2d"](x, kernel_size, kernel_size, padding)


RELU_STEP = lambda x: (x > 0).astype(float)  # noqa: E731
RELU_NEGATIVE = lambda x: np.minimum(x, 0)  # noqa: E731


def softmax_axis0(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


NO_EXP = lambda z: z / z.sum(axis=-1, keepdims=True)  # noqa: E731
NAIVE_SOFTMAX = lambda z: np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)  # noqa: E731


def cross_entropy_with(change, softmax=A2["softmax"]):
    def cross_entropy(logits, target):
        n = len(logits)
        p = softmax(logits)
        onehot = np.eye(logits.shape[1])[target]
        loss, dlogits = A2["cross_entropy"](logits, target)
        return change(loss, dlogits, p, onehot, n, logits, target)

    return cross_entropy


CE_SUM = cross_entropy_with(lambda loss, d, p, y, n, z, t: (loss * n, d))
CE_NAIVE_LOG = cross_entropy_with(
    lambda loss, d, p, y, n, z, t: (-np.mean(np.log(NAIVE_SOFTMAX(z)[np.arange(n), t])), d)
)
CE_PLUS = cross_entropy_with(lambda loss, d, p, y, n, z, t: (-loss, d))
CE_COLUMNS = cross_entropy_with(
    lambda loss, d, p, y, n, z, t: (-np.mean(np.log(p[np.arange(n), t])), (p - y) / n),
    softmax=softmax_axis0,
)
CE_GRAD_SUM = cross_entropy_with(lambda loss, d, p, y, n, z, t: (loss, d * n))
CE_NO_ONE_HOT = cross_entropy_with(lambda loss, d, p, y, n, z, t: (loss, p / n))
CE_GRAD_COLUMNS = cross_entropy_with(
    lambda loss, d, p, y, n, z, t: (loss, (softmax_axis0(z) - y) / n)
)


def pool_backward(kind):
    def max_pool2d_backward(dout, x, kernel_size, stride=None):
        return max_pool_backward_alternatives(dout, x, kernel_size, stride)[kind]

    return max_pool2d_backward


def conv_backward_with(change):
    def conv2d_backward(dout, x, weight, stride=1, padding=0):
        dx, dw, db = A2["conv2d_backward"](dout, x, weight, stride, padding)
        return change(dx, dw, db, dout, x, padding)

    return conv2d_backward


def keep_padding(dx, p):
    return np.pad(dx, [(0, 0), (0, 0), (p, p), (p, p)])


DX_PADDED = conv_backward_with(lambda dx, dw, db, dout, x, p: (keep_padding(dx, p), dw, db))
DX_EMPTY = conv_backward_with(lambda dx, dw, db, dout, x, p: (dx[..., p:-p, p:-p], dw, db))
AVERAGED = conv_backward_with(lambda dx, dw, db, dout, x, p: (dx / len(x), dw / len(x), db))
DW_FLIPPED = conv_backward_with(lambda dx, dw, db, dout, x, p: (dx, dw[..., ::-1, ::-1], db))
DW_TRANSPOSED = conv_backward_with(lambda dx, dw, db, dout, x, p: (dx, dw.swapaxes(-1, -2), db))
DB_PER_SAMPLE = conv_backward_with(lambda dx, dw, db, dout, x, p: (dx, dw, dout.sum(axis=(2, 3))))
DB_FIRST_SAMPLE = conv_backward_with(lambda dx, dw, db, dout, x, p: (dx, dw, dout[0].sum((1, 2))))


def step_with(change):
    def train_step(params, x, target, lr):
        loss, new = A2["train_step"](params, x, target, lr)
        return loss, tuple(change(p, q) for p, q in zip(params, new, strict=True))

    return train_step


UNCHANGED = step_with(lambda old, new: old)
ASCENT = step_with(lambda old, new: 2 * old - new)


def source_of(name, grade_id):
    """The solution code of an answer cell."""
    notebook = solution_notebook(name)
    (cell,) = [
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    ]
    return demo.solution_code(cell)


def with_change(name, grade_id, old, new):
    """The instructor's answer with one line changed (``old`` -> ``new``), defined as a notebook
    would define it (the notebook's imports around it)."""
    source = source_of(name, grade_id)
    assert old in source, old
    space = dict(namespace(name))
    exec(compile(source.replace(old, new), f"<{grade_id}>", "exec"), space)
    return space[grade_id]


NO_RELU_BACKWARD = with_change("a2_backprop", "train_step", "da = dr * (a > 0)", "da = dr")


# --- assignment 6 ----------------------------------------------------------------------------


def sgd_with(rule):
    """sgd with its velocity and step written by ``rule(p, g, v, lr, momentum)`` -> (p, v)."""

    def sgd(params, grads, velocities, lr, momentum=0.0, weight_decay=0.0):
        new_p, new_v = [], []
        for k, (p, g) in enumerate(zip(params, grads, strict=True)):
            g = g + weight_decay * p
            v = None if velocities is None else velocities[k]
            p, v = rule(p, g, v, lr, momentum)
            new_p.append(p)
            new_v.append(v)
        return type(params)(*new_p), type(params)(*new_v)

    return sgd


def pytorch_velocity(g, v, momentum):
    return g if v is None else momentum * v + g


def _lr_inside(p, g, v, lr, m):
    """The other common momentum rule: the learning rate inside the velocity."""
    v = lr * g if v is None else m * v + lr * g
    return p - v, v


LR_INSIDE = sgd_with(_lr_inside)
SGD_ASCENT = sgd_with(
    lambda p, g, v, lr, m: (p + lr * pytorch_velocity(g, v, m), pytorch_velocity(g, v, m))
)
NO_MOMENTUM = sgd_with(lambda p, g, v, lr, m: (p - lr * g, pytorch_velocity(g, v, m)))
DAMPENED = sgd_with(
    lambda p, g, v, lr, m: (
        p - lr * (g if v is None else m * v + (1 - m) * g),
        g if v is None else m * v + (1 - m) * g,
    )
)
FIRST_VELOCITY_ZERO = sgd_with(
    lambda p, g, v, lr, m: (p, 0 * g) if v is None else (p - lr * (m * v + g), m * v + g)
)


def sgd_no_decay(params, grads, velocities, lr, momentum=0.0, weight_decay=0.0):
    return A6["sgd"](params, grads, velocities, lr, momentum, 0.0)


def forward_transposed(params, stats, x, training, momentum=0.1):
    logits, new_stats, cache = A6["forward"](params, stats, x, training, momentum)
    return logits.T, new_stats, cache


def forward_other_mode(params, stats, x, training, momentum=0.1):
    return A6["forward"](params, stats, x, not training, momentum)


def predict_transposed(params, stats, x):
    return A6["predict"](params, stats, x).T


def predict_training(params, stats, x):
    return A6["forward"](params, stats, x, True)[0]


A6_COLUMNS = cross_entropy_with(
    lambda loss, d, p, y, n, z, t: (-np.mean(np.log(p[np.arange(n), t])), (p - y) / n),
    softmax=softmax_axis0,
)
A6_SUM = cross_entropy_with(lambda loss, d, p, y, n, z, t: (loss * n, d))

# --- the table: (check, hint, a wrong answer that earns it, a wrong answer that must not) ------

G = grading
HINTS = {
    # assignment 1
    "output_size, no + 1": (G.check_output_size, "forgot the + 1", NO_PLUS_ONE, ONE_SIDE),
    "output_size, one side": (G.check_output_size, "use 2*padding", ONE_SIDE, NO_PLUS_ONE),
    "output_size, ceil": (G.check_output_size, "Round down (floor)", ROUND_UP, NO_PLUS_ONE),
    "output_size, no stride": (G.check_output_size, "Divide by the stride", NO_STRIDE, ONE_SIDE),
    "output_size, float": (G.check_output_size, "integer division `//`", TRUE_DIVISION, ONE_SIDE),
    "zero_pad, every axis": (G.check_pad2d, "the channel axis too", EVERY_AXIS, AFTER_ONLY),
    "zero_pad, after only": (
        G.check_pad2d,
        "above AND below, `padding` columns",
        AFTER_ONLY,
        TWICE_AFTER,
    ),
    "zero_pad, twice after": (G.check_pad2d, "not 2*padding below", TWICE_AFTER, AFTER_ONLY),
    "zero_pad, pair swapped": (G.check_pad2d, "The pair is (pad_H, pad_W)", PAIR_SWAPPED, EDGE),
    "zero_pad, edge": (G.check_pad2d, "not copies of the edge", EDGE, PAIR_SWAPPED),
    "zero_pad, integers": (G.check_pad2d, "also when x holds integers", INT_KEPT, AFTER_ONLY),
    "conv2d_single, flipped": (
        G.check_conv2d_single,
        "true convolution",
        FLIPPED_SINGLE,
        TRANSPOSED_KERNEL,
    ),
    "conv2d_single, kernel transposed": (
        G.check_conv2d_single,
        "matches the kernel transposed",
        TRANSPOSED_KERNEL,
        FLIPPED_SINGLE,
    ),
    "conv2d_single, off by one": (
        G.check_conv2d_single,
        OFF_BY_ONE,
        ONE_ROW_SHORT,
        TRANSPOSED_SINGLE,
    ),
    "conv2d_single, transposed": (
        G.check_conv2d_single,
        REORDERED,
        TRANSPOSED_SINGLE,
        ONE_ROW_SHORT,
    ),
    "conv2d_strided, stride 1": (G.check_conv2d_strided, "`stride` pixels", STRIDE_ONE, NO_PADDING),
    "conv2d_strided, no padding": (
        G.check_conv2d_strided,
        "The padding is missing",
        NO_PADDING,
        STRIDE_ONE,
    ),
    "conv2d_strided, padded after": (
        G.check_conv2d_strided,
        "not only the bottom/right",
        PAD_AFTER,
        NO_PADDING,
    ),
    "conv2d_strided, flipped": (
        G.check_conv2d_strided,
        "true convolution",
        FLIPPED_STRIDED,
        NO_PADDING,
    ),
    "conv2d_strided, off by one": (G.check_conv2d_strided, OFF_BY_ONE, SHORT_STRIDED, NO_PADDING),
    "conv2d_multi, no bias": (G.check_conv2d_multi, "The bias is missing", NO_BIAS, FIRST_CHANNEL),
    "conv2d_multi, first channel": (
        G.check_conv2d_multi,
        "Only the first input channel",
        FIRST_CHANNEL,
        NO_BIAS,
    ),
    "conv2d_multi, map per channel": (
        G.check_conv2d_multi,
        "one map per input channel",
        MAP_PER_CHANNEL,
        TRANSPOSED_MULTI,
    ),
    "conv2d_multi, transposed": (G.check_conv2d_multi, REORDERED, TRANSPOSED_MULTI, SHORT_MULTI),
    "conv2d_multi, off by one": (G.check_conv2d_multi, OFF_BY_ONE, SHORT_MULTI, TRANSPOSED_MULTI),
    "apply_filters, no padding": (
        G.check_apply_filters,
        "Keep the image size",
        filters_with(0, flip=False),
        filters_with(1, flip=True),
    ),
    "apply_filters, flipped": (
        G.check_apply_filters,
        "true convolution",
        filters_with(1, flip=True),
        filters_with(0, flip=False),
    ),
    "dense_params, no bias": (
        G.check_dense_params,
        "also has a bias",
        DENSE_NO_BIAS,
        DENSE_BIAS_PER_INPUT,
    ),
    "dense_params, bias per input": (
        G.check_dense_params,
        "one bias per OUTPUT",
        DENSE_BIAS_PER_INPUT,
        DENSE_NO_BIAS,
    ),
    "conv_params, no bias": (
        G.check_conv_params,
        "also has one bias",
        CONV_NO_BIAS,
        CONV_ONE_CHANNEL,
    ),
    "conv_params, one channel": (
        G.check_conv_params,
        "spans ALL input channels",
        CONV_ONE_CHANNEL,
        CONV_NO_BIAS,
    ),
    "conv_params, not squared": (
        G.check_conv_params,
        "square it",
        CONV_NOT_SQUARED,
        CONV_NO_BIAS,
    ),
    # assignment 2
    "max_pool2d, stride None": (
        pool("max"),
        "With stride=None",
        STRIDE_NONE_IS_ONE,
        MIN_FOR_MAX,
    ),
    "max_pool2d, windows still": (
        pool("max"),
        "window (i, j) starts at row",
        WINDOWS_STILL,
        MIN_FOR_MAX,
    ),
    "max_pool2d, stride ignored": (
        pool("max"),
        "You ignored the `stride` argument",
        STRIDE_IGNORED,
        WINDOWS_STILL,
    ),
    "max_pool2d, minimum": (pool("max"), "minimum instead of the maximum", MIN_FOR_MAX, SHORT_POOL),
    "max_pool2d, off by one": (pool("max"), OFF_BY_ONE, SHORT_POOL, MIN_FOR_MAX),
    "avg_pool2d, padding counted": (
        pool("avg"),
        "number of REAL pixels",
        avg_real_pixels,
        avg_stride_ignored,
    ),
    "relu, step": (G.check_relu, "not 1", RELU_STEP, RELU_NEGATIVE),
    "relu, negative": (G.check_relu, "sets the NEGATIVE values", RELU_NEGATIVE, RELU_STEP),
    "softmax, columns": (G.check_softmax, "Normalise each ROW", softmax_axis0, NO_EXP),
    "softmax, no exp": (G.check_softmax, "exponentiates before", NO_EXP, softmax_axis0),
    "softmax, overflow": (G.check_softmax, "exp() overflows", NAIVE_SOFTMAX, softmax_axis0),
    "cross_entropy, sum": (G.check_cross_entropy, "MEAN over the batch", CE_SUM, CE_COLUMNS),
    "cross_entropy, log of softmax": (
        G.check_cross_entropy,
        "compute log-softmax stably",
        CE_NAIVE_LOG,
        CE_SUM,
    ),
    "cross_entropy, plus": (G.check_cross_entropy, "MINUS the log-probability", CE_PLUS, CE_SUM),
    "cross_entropy, columns": (
        G.check_cross_entropy,
        "normalises each COLUMN",
        CE_COLUMNS,
        CE_SUM,
    ),
    "cross_entropy, gradient sum": (
        G.check_cross_entropy,
        "divide by the batch size",
        CE_GRAD_SUM,
        CE_NO_ONE_HOT,
    ),
    "cross_entropy, no one-hot": (
        G.check_cross_entropy,
        "subtract 1 at each sample's true",
        CE_NO_ONE_HOT,
        CE_GRAD_SUM,
    ),
    "cross_entropy, gradient columns": (
        G.check_cross_entropy,
        "normalises each COLUMN",
        CE_GRAD_COLUMNS,
        CE_GRAD_SUM,
    ),
    "max_pool2d_backward, assigned": (
        G.check_max_pool_backward,
        "Accumulate with +=",
        pool_backward("assigned"),
        pool_backward("spread"),
    ),
    "max_pool2d_backward, spread": (
        G.check_max_pool_backward,
        "Only the maximum of each window",
        pool_backward("spread"),
        pool_backward("last"),
    ),
    "max_pool2d_backward, all ties": (
        G.check_max_pool_backward,
        "not to every one",
        pool_backward("all ties"),
        pool_backward("last"),
    ),
    "max_pool2d_backward, last tie": (
        G.check_max_pool_backward,
        "not the last",
        pool_backward("last"),
        pool_backward("all ties"),
    ),
    "conv2d_backward, dx padded": (
        G.check_conv_backward,
        "crop the padding off",
        DX_PADDED,
        AVERAGED,
    ),
    "conv2d_backward, dx [p:-p]": (G.check_conv_backward, "is EMPTY", DX_EMPTY, DX_PADDED),
    "conv2d_backward, averaged": (
        G.check_conv_backward,
        "Do not divide by the batch size",
        AVERAGED,
        DW_FLIPPED,
    ),
    "conv2d_backward, dweight flipped": (
        G.check_conv_backward,
        "NOT flipped",
        DW_FLIPPED,
        DW_TRANSPOSED,
    ),
    "conv2d_backward, dweight transposed": (
        G.check_conv_backward,
        "dweight is transposed",
        DW_TRANSPOSED,
        DW_FLIPPED,
    ),
    "conv2d_backward, dbias per sample": (
        G.check_conv_backward,
        "axes 0, 2, 3",
        DB_PER_SAMPLE,
        DB_FIRST_SAMPLE,
    ),
    "conv2d_backward, dbias first sample": (
        G.check_conv_backward,
        "over the batch too",
        DB_FIRST_SAMPLE,
        DB_PER_SAMPLE,
    ),
    "train_step, unchanged": (G.check_training_step, "return the UPDATED", UNCHANGED, ASCENT),
    "train_step, ascent": (G.check_training_step, "DEscent subtracts", ASCENT, UNCHANGED),
    "train_step, no ReLU backward": (
        G.check_training_step,
        "The gradient through ReLU is missing",
        NO_RELU_BACKWARD,
        ASCENT,
    ),
    # assignment 6
    "sgd, lr inside the velocity": (a6_capstone.check_sgd, LR_IN_VELOCITY, LR_INSIDE, SGD_ASCENT),
    "sgd, ascent": (a6_capstone.check_sgd, "DEscent subtracts", SGD_ASCENT, LR_INSIDE),
    "sgd, no weight decay": (
        a6_capstone.check_sgd,
        "Add weight_decay * p",
        sgd_no_decay,
        LR_INSIDE,
    ),
    "sgd, no momentum": (
        a6_capstone.check_sgd,
        "use the velocity, not the gradient",
        NO_MOMENTUM,
        LR_INSIDE,
    ),
    "sgd, dampened": (a6_capstone.check_sgd, "not a weighted average", DAMPENED, LR_INSIDE),
    "sgd, first velocity 0": (
        a6_capstone.check_sgd,
        "velocity is the gradient itself",
        FIRST_VELOCITY_ZERO,
        LR_INSIDE,
    ),
    "a6 cross_entropy, columns": (
        a6_capstone.check_cross_entropy,
        "normalises each COLUMN",
        A6_COLUMNS,
        A6_SUM,
    ),
    "forward, logits transposed": (
        a6_capstone.check_forward,
        LOGITS_SHAPE,
        forward_transposed,
        forward_other_mode,
    ),
    "forward, other mode": (
        a6_capstone.check_forward,
        "These are the other mode's logits",
        forward_other_mode,
        forward_transposed,
    ),
    "predict, logits transposed": (
        a6_capstone.check_predict,
        LOGITS_SHAPE,
        predict_transposed,
        predict_training,
    ),
    "predict, training mode": (
        a6_capstone.check_predict,
        "EVALUATION mode",
        predict_training,
        predict_transposed,
    ),
}
# the hints no logits, transposed result or other shape mistake may earn
SHAPE_ONLY = (OFF_BY_ONE, "one map per input channel", "crop the padding off", "is EMPTY")


# cases whose mistake shows only on some inputs (a map per input channel has the right shape when
# there are as many filters as channels): the seeds whose first case shows it
SEEDS = {"conv2d_multi, map per channel": (1, 2)}


@pytest.mark.parametrize("run", [0, 1])
@pytest.mark.parametrize("case", list(HINTS))
def test_each_hint_fits_its_mistake_only(case, run):
    check, hint, earns, must_not = HINTS[case]
    seed = SEEDS.get(case, (0, 1))[run]
    earned = message_of(check, earns, seed)
    assert f"Hint: {hint}" in earned or hint in earned.split("\nHint: ", 1)[-1], earned
    other = message_of(check, must_not, seed)
    assert hint not in other, other


def test_a_transposed_result_is_not_off_by_one():
    for check, fn in (
        (G.check_conv2d_single, TRANSPOSED_SINGLE),
        (G.check_conv2d_multi, TRANSPOSED_MULTI),
        (a6_capstone.check_forward, forward_transposed),
        (a6_capstone.check_predict, predict_transposed),
    ):
        message = message_of(check, fn, 0)
        assert "has the wrong shape" in message
        assert not any(hint in message for hint in SHAPE_ONLY), message


def test_messages_lead_with_what_differs():
    """The first line says what differs; the call (with its arguments) comes after it."""
    message = message_of(a6_capstone.check_sgd, LR_INSIDE, 0)
    first, second = message.splitlines()[:2]
    assert first.startswith("new_velocities[0] (conv1_weight) has the right shape"), message
    assert "sgd(" not in first, first
    assert second.startswith("In: sgd(params=a Params of 8 arrays, grads=a Params of 8 arrays")
    assert "array of shape" not in message, message
    message = message_of(G.check_conv2d_multi, SHORT_MULTI, 0)
    assert message.startswith("The result has the wrong shape: expected ("), message
    assert message.splitlines()[1].startswith("In: conv2d_multi(x of shape"), message
