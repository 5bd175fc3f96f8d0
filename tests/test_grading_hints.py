"""Each hint of the numpy assignments' checks (1, 2 and 6), and of the comparisons every check
shares (a list, an integer array, no return, nan, an array for a number), is chosen by what the
wrong answer looks like: for every hint, one wrong answer that earns it and one (also wrong) that
must not. ``test_grading_hints_torch.py`` does the same for assignments 3 to 5.

The wrong answers are built from the instructor's solutions (``nbgrader_submissions.namespace``)
the way students get them wrong; ``HINTS`` is the table the issue asks for (issue 24).
"""

import functools

import numpy as np
import pytest
from nbgrader_submissions import namespace, solution_notebook

from cvlib import grading
from cvlib.grading import a6_capstone
from cvlib.grading._compare import OFF_BY_ONE, REORDERED
from cvlib.grading.a2_backprop.backward import max_pool_backward_alternatives
from cvlib.grading.a6_capstone.layers import LR_IN_VELOCITY
from cvlib.grading.a6_capstone.network import LOGITS_SHAPE
from cvlib.grading.a6_capstone.references import fashion
from cvlib.grading.a6_capstone.training import ALONE
from cvlib.tools.grading import demo

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


def with_changes(name, grade_id, *edits):
    """The instructor's answer with several lines changed (``(old, new)`` pairs)."""
    source = source_of(name, grade_id)
    for old, new in edits:
        assert old in source, old
        source = source.replace(old, new)
    space = dict(namespace(name))
    exec(compile(source, f"<{grade_id}>", "exec"), space)
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


def a6(grade_id, *edits):
    return with_changes("a6_capstone", grade_id, *edits)


RELU_BACKWARD_GE = a6("relu_backward", ("x > 0, dout", "x >= 0, dout"))
RELU_BACKWARD_MASK = a6("relu_backward", ("np.where(x > 0, dout, 0.0)", "(x > 0).astype(float)"))
RELU_BACKWARD_X = a6("relu_backward", ("np.where(x > 0, dout, 0.0)", "dout * x"))
LINEAR_NO_BIAS = a6("linear", ("x @ weight.T + bias", "x @ weight.T"))
LINEAR_MINUS_BIAS = a6("linear", ("x @ weight.T + bias", "x @ weight.T - bias"))
DWEIGHT_IN_OUT = a6("linear_backward", ("dout.T @ x", "x.T @ dout"))
DBIAS_PER_SAMPLE = a6("linear_backward", ("dout.sum(axis=0)", "dout"))
KERNEL_FIRST = a6(  # the kernel position before the channel in each column
    "im2col",
    ("cols = np.empty((n, c, k, k, h_out, w_out))", "cols = np.empty((n, k, k, c, h_out, w_out))"),
    ("cols[:, :, u, v] =", "cols[:, u, v] ="),
)
COLS_TRANSPOSED = a6(
    "im2col",
    (
        "return cols.reshape(n, c * k * k, h_out * w_out)",
        "return cols.reshape(n, c * k * k, h_out * w_out).swapaxes(1, 2)",
    ),
)
COLS_UNPADDED = a6(
    "im2col", ("k, s, p = kernel_size, stride, padding", "k, s, p = kernel_size, stride, 0")
)
COLS_STRIDE_1 = a6(
    "im2col",
    (
        "x_pad[:, :, u : u + s * h_out : s, v : v + s * w_out : s]",
        "x_pad[:, :, u : u + h_out, v : v + w_out]",
    ),
)
COL2IM_UNCROPPED = a6("col2im", ("return x_pad[:, :, p : p + h, p : p + w]", "return x_pad"))
COL2IM_EMPTY = a6(
    "col2im", ("return x_pad[:, :, p : p + h, p : p + w]", "return x_pad[:, :, p:-p, p:-p]")
)
COL2IM_ASSIGNED = a6("col2im", ("+= cols[:, :, u, v]", "= cols[:, :, u, v]"))
CONV2D_NO_BIAS = a6("conv2d", ("    if bias is not None:\n        out = out + bias[:, None]\n", ""))


def conv_flipped(x, weight, bias=None, stride=1, padding=0):
    return A6["conv2d"](x, weight[..., ::-1, ::-1], bias, stride, padding)


_UPDATE_MEAN = "        running_mean = (1 - momentum) * running_mean + momentum * mean\n"
_UPDATE_VAR = "        running_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)\n"
BN_BIASED = a6("batch_norm", ("momentum * var * m / (m - 1)", "momentum * var"))
BN_VAR_KEPT = a6("batch_norm", (_UPDATE_VAR, ""))
BN_MEAN_KEPT = a6("batch_norm", (_UPDATE_MEAN, ""))
BN_MOMENTUM_SWAPPED = a6(
    "batch_norm",
    (
        "(1 - momentum) * running_mean + momentum * mean",
        "momentum * running_mean + (1 - momentum) * mean",
    ),
)
BN_EVAL_BATCH = a6(
    "batch_norm",
    (
        "        mean, var = running_mean, running_var\n",
        "        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))\n",
    ),
)


def bn_per_pixel(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    """Training mode normalises each pixel over the batch alone (axis 0), not each channel."""
    out, mean, var = A6["batch_norm"](
        x, running_mean, running_var, weight, bias, training, momentum
    )
    if training:
        x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
        out = weight.reshape(1, -1, 1, 1) * x_hat + bias.reshape(1, -1, 1, 1)
    return out, mean, var


def bn_updates_at_evaluation(
    x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5
):
    """Evaluation normalises with the running estimates but moves them too, as training does."""
    out = A6["batch_norm"](x, running_mean, running_var, weight, bias, training, momentum, eps)[0]
    moved = A6["batch_norm"](x, running_mean, running_var, weight, bias, True, momentum, eps)
    return out, moved[1], moved[2]


BN_BACKWARD_CONSTANT_STATS = a6(
    "batch_norm_backward",
    (
        "    if not training:\n        return g * inv_std, dweight, dbias\n",
        "    return g * inv_std, dweight, dbias\n",
    ),
)
BN_BACKWARD_NO_STD = a6(
    "batch_norm_backward", ("return g * inv_std, dweight, dbias", "return g, dweight, dbias")
)


def fc_gradient_transposed(params, stats, x, target):
    loss, grads, new_stats = A6["loss_and_grads"](params, stats, x, target)
    return loss, grads._replace(fc_weight=grads.fc_weight.T), new_stats


# the flattening undone pixel by pixel instead of channel by channel
UNFLATTENED_WRONG = a6(
    "loss_and_grads",
    (
        "dfeatures.reshape(h2_shape)",
        "dfeatures.reshape(h2_shape[0], *h2_shape[2:], h2_shape[1]).transpose(0, 3, 1, 2)",
    ),
)
CONV_FROM_DY = a6("block_backward", ("conv2d_backward(dz, x", "conv2d_backward(dy, x"))
DX_HANDED_TRANSPOSED = a6(
    "block_backward",
    ("return dx, dconv_weight", "return dx.swapaxes(-1, -2), dconv_weight"),
)


def block_backward_of(block_backward):
    """loss_and_grads calling ``block_backward`` (the student's helper, changed)."""

    def loss_and_grads(params, stats, x, target):
        space = A6["loss_and_grads"].__globals__
        saved, space["block_backward"] = space["block_backward"], block_backward
        try:
            return A6["loss_and_grads"](params, stats, x, target)
        finally:
            space["block_backward"] = saved

    return loss_and_grads


def conv1_gradient_flipped(params, stats, x, target):
    """A second, hand-written backward for block 1 whose kernel gradient comes out flipped."""
    loss, grads, new_stats = A6["loss_and_grads"](params, stats, x, target)
    return loss, grads._replace(conv1_weight=grads.conv1_weight[..., ::-1, ::-1]), new_stats


GRADS_OUT_OF_ORDER = a6(
    "loss_and_grads",
    ("dconv1, dbn1_weight, dbn1_bias, dconv2", "dconv1, dbn1_bias, dbn1_weight, dconv2"),
)


def numerical_one_sided(f, x, eps=1e-6):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        nudged = x.copy()
        nudged[index] += eps
        grad[index] = (f(nudged) - f(x)) / eps
    return grad


def numerical_own_eps(f, x, eps=1e-6):
    return A6["numerical_gradient"](f, x)  # always the default step


SGD_LIST = a6("sgd", ("return type(params)(*new_params)", "return new_params"))
OVERFIT_NO_UPDATE = a6("overfit_tiny_batch", ("params, velocities = sgd(", "_, velocities = sgd("))
OVERFIT_NO_MOMENTUM = a6("overfit_tiny_batch", ("momentum=0.9", "momentum=0.0"))


@functools.cache
def trained(change=None, epochs=3, images=5000):
    """``(params, stats, losses)`` of the solution's ``train`` (``change``: one edit of it) on
    the first ``images`` training photographs."""
    train = a6("train", change) if change else A6["train"]
    x, target = fashion("train")
    return train(x[:images], target[:images], epochs=epochs)


def predict_with_batch_statistics(params, stats, x):
    return A6["forward"](params, stats, x, True)[0]


def trained_network(answer, seed):
    """check_trained_network on ``answer() -> (predict, params, stats, losses)``."""
    a6_capstone.check_trained_network(*answer())


BATCH_DEPENDENT = lambda: (predict_with_batch_statistics, *trained())  # noqa: E731
NEVER_UPDATED = lambda: (  # noqa: E731
    A6["predict"],
    *trained(("params, velocities = sgd(", "_, velocities = sgd("), epochs=1, images=1000),
)
# one epoch on 1,000 photographs: the loss goes down, not far enough for the target
ONE_EPOCH = lambda: (A6["predict"], *trained(epochs=1, images=1000))  # noqa: E731

# --- what every assignment's comparisons say (assignment 2's answers) --------------------------

LIST_RESULT = lambda x: np.maximum(x, 0.0).tolist()  # noqa: E731
INT_RESULT = with_change(
    "a1_convolution", "conv2d_single", "np.zeros((h_out, w_out))", "np.zeros((h_out, w_out), int)"
)


def relu_without_return(x):
    np.maximum(x, 0.0)


NO_RETURN = relu_without_return


CE_PER_SAMPLE = cross_entropy_with(lambda loss, d, p, y, n, z, t: (-np.log(p[np.arange(n), t]), d))

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
    "sgd, a list for new_params": (
        a6_capstone.check_sgd,
        "return type(params)(*new_arrays)",
        SGD_LIST,
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
    "relu_backward, x >= 0": (
        a6_capstone.check_relu_backward,
        "not x >= 0",
        RELU_BACKWARD_GE,
        RELU_BACKWARD_MASK,
    ),
    "relu_backward, mask alone": (
        a6_capstone.check_relu_backward,
        "the mask alone is not the gradient",
        RELU_BACKWARD_MASK,
        RELU_BACKWARD_X,
    ),
    "relu_backward, times x": (
        a6_capstone.check_relu_backward,
        "is 1 or 0, not x",
        RELU_BACKWARD_X,
        RELU_BACKWARD_GE,
    ),
    "linear, no bias": (
        a6_capstone.check_linear,
        "The bias is missing: + bias.",
        LINEAR_NO_BIAS,
        LINEAR_MINUS_BIAS,
    ),
    "linear_backward, dweight (in, out)": (
        a6_capstone.check_linear_backward,
        "dout.T @ x",
        DWEIGHT_IN_OUT,
        DBIAS_PER_SAMPLE,
    ),
    "linear_backward, dbias per sample": (
        a6_capstone.check_linear_backward,
        "dbias sums dout over the batch",
        DBIAS_PER_SAMPLE,
        DWEIGHT_IN_OUT,
    ),
    "im2col, kernel first": (
        a6_capstone.check_im2col,
        "The rows of cols are in the wrong order",
        KERNEL_FIRST,
        COLS_TRANSPOSED,
    ),
    "im2col, transposed": (
        a6_capstone.check_im2col,
        "cols is transposed",
        COLS_TRANSPOSED,
        KERNEL_FIRST,
    ),
    "im2col, no padding": (
        a6_capstone.check_im2col,
        "The padding is missing",
        COLS_UNPADDED,
        COLS_STRIDE_1,
    ),
    "im2col, stride 1": (
        a6_capstone.check_im2col,
        "`stride` pixels at a time",
        COLS_STRIDE_1,
        COLS_UNPADDED,
    ),
    "col2im, padding kept": (
        a6_capstone.check_col2im,
        "The result must have the shape of x",
        COL2IM_UNCROPPED,
        COL2IM_ASSIGNED,
    ),
    "col2im, [p:-p]": (a6_capstone.check_col2im, "is EMPTY", COL2IM_EMPTY, COL2IM_UNCROPPED),
    "col2im, assigned": (
        a6_capstone.check_col2im,
        "Add with += instead",
        COL2IM_ASSIGNED,
        COL2IM_UNCROPPED,
    ),
    "a6 conv2d, no bias": (
        a6_capstone.check_conv2d,
        "add bias[f] to every position",
        CONV2D_NO_BIAS,
        conv_flipped,
    ),
    "batch_norm, biased running variance": (
        a6_capstone.check_batch_norm,
        "UNBIASED variance",
        BN_BIASED,
        BN_MOMENTUM_SWAPPED,
    ),
    "batch_norm, running variance kept": (
        a6_capstone.check_batch_norm,
        "Update the running variance",
        BN_VAR_KEPT,
        BN_BIASED,
    ),
    "batch_norm, running mean kept": (
        a6_capstone.check_batch_norm,
        "Update the running mean",
        BN_MEAN_KEPT,
        BN_VAR_KEPT,
    ),
    "batch_norm, momentum the wrong way": (
        a6_capstone.check_batch_norm,
        "momentum weighs the NEW batch",
        BN_MOMENTUM_SWAPPED,
        BN_MEAN_KEPT,
    ),
    "batch_norm, per pixel": (
        a6_capstone.check_batch_norm,
        "One mean and variance per CHANNEL",
        bn_per_pixel,
        BN_EVAL_BATCH,
    ),
    "batch_norm, batch statistics at evaluation": (
        a6_capstone.check_batch_norm,
        "normalise with the running estimates, not with the batch's",
        BN_EVAL_BATCH,
        bn_per_pixel,
    ),
    "batch_norm, estimates moved at evaluation": (
        a6_capstone.check_batch_norm,
        "the running estimates come back unchanged",
        bn_updates_at_evaluation,
        BN_EVAL_BATCH,
    ),
    "batch_norm_backward, statistics as constants": (
        a6_capstone.check_batch_norm_backward,
        "depend on x too",
        BN_BACKWARD_CONSTANT_STATS,
        BN_BACKWARD_NO_STD,
    ),
    "loss_and_grads, dense layer": (
        a6_capstone.check_loss_and_grads,
        "the first wrong one in backward order is fc_weight: look at the dense layer's",
        fc_gradient_transposed,
        UNFLATTENED_WRONG,
    ),
    "loss_and_grads, flattening undone in the wrong order": (
        a6_capstone.check_loss_and_grads,
        "reshapes dfeatures back to the shape of block 2's output",
        UNFLATTENED_WRONG,
        block_backward_of(CONV_FROM_DY),
    ),
    "loss_and_grads, block 2's convolution": (
        a6_capstone.check_loss_and_grads,
        "block 2's backward between its batch norm and its convolution",
        block_backward_of(CONV_FROM_DY),
        block_backward_of(DX_HANDED_TRANSPOSED),
    ),
    "loss_and_grads, handed to block 1": (
        a6_capstone.check_loss_and_grads,
        "what block 2's backward hands block 1",
        block_backward_of(DX_HANDED_TRANSPOSED),
        GRADS_OUT_OF_ORDER,
    ),
    "loss_and_grads, block 1's convolution": (
        a6_capstone.check_loss_and_grads,
        "block 1's backward between its batch norm and its convolution",
        conv1_gradient_flipped,
        block_backward_of(DX_HANDED_TRANSPOSED),
    ),
    "loss_and_grads, gradients out of order": (
        a6_capstone.check_loss_and_grads,
        "grads.bn1_bias holds the gradient of bn1_weight",
        GRADS_OUT_OF_ORDER,
        block_backward_of(DX_HANDED_TRANSPOSED),
    ),
    "numerical_gradient, one-sided": (
        a6_capstone.check_numerical_gradient,
        "Use CENTRED differences",
        numerical_one_sided,
        numerical_own_eps,
    ),
    "numerical_gradient, own eps": (
        a6_capstone.check_numerical_gradient,
        "Nudge by the `eps` you are given",
        numerical_own_eps,
        numerical_one_sided,
    ),
    "overfit_tiny_batch, never updated": (
        a6_capstone.check_overfit_tiny_batch,
        "The losses do not change",
        OVERFIT_NO_UPDATE,
        OVERFIT_NO_MOMENTUM,
    ),
    "trained network, depends on its batch": (
        trained_network,
        "your network's answer for an image depends on the other images",
        BATCH_DEPENDENT,
        ONE_EPOCH,
    ),
    "trained network, loss flat": (
        trained_network,
        "the training loss hardly went down",
        NEVER_UPDATED,
        ONE_EPOCH,
    ),
    "trained network, loss not low enough": (
        trained_network,
        "the loss went down, but not far enough",
        ONE_EPOCH,
        NEVER_UPDATED,
    ),
    # every assignment: what a result of the wrong kind gets
    "a list": (G.check_relu, "Convert it with np.array(...)", LIST_RESULT, NO_RETURN),
    "an integer array": (
        G.check_conv2d_single,
        "An integer array silently truncates",
        INT_RESULT,
        TRANSPOSED_SINGLE,
    ),
    "no return": (G.check_relu, "did you forget the `return` statement?", NO_RETURN, LIST_RESULT),
    "nan or inf": (G.check_softmax, "contains nan or inf", NAIVE_SOFTMAX, softmax_axis0),
    "an array for a number": (
        G.check_cross_entropy,
        "Reduce it (e.g. with .mean())",
        CE_PER_SAMPLE,
        CE_SUM,
    ),
}
# the hints no logits, transposed result or other shape mistake may earn
SHAPE_ONLY = (OFF_BY_ONE, "one map per input channel", "crop the padding off", "is EMPTY")


# cases whose mistake shows only on some inputs (a map per input channel has the right shape when
# there are as many filters as channels): the seeds whose first case shows it
SEEDS = {"conv2d_multi, map per channel": (1, 2)}


# checks without a seed (a trained network is scored on the fixed test photographs): run once
UNSEEDED = {case for case, row in HINTS.items() if row[0] is trained_network}


@pytest.mark.parametrize(
    ("case", "run"),
    [(case, run) for case in HINTS for run in (0, 1) if not (run and case in UNSEEDED)],
)
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


def test_the_trained_network_is_scored_one_image_at_a_time_in_few_calls(capsys):
    """A network whose answers do not depend on their batch is scored from one call on the 1,000
    test photographs and 20 calls on one photograph each (each call crosses into the grading box);
    the accuracy is the one of scoring every photograph alone, whatever ``predict`` does with a
    batch: one written for a single image only, or one wrong on batches, is scored so."""
    params, stats, losses = trained()
    x, target = fashion("test")
    alone = np.array([A6["predict"](params, stats, image[None])[0].argmax() for image in x])
    expected = f"accuracy {np.mean(alone == target):.3f} on the 1000 test photographs"
    sizes = []

    def counted(params, stats, x):
        sizes.append(len(x))
        return A6["predict"](params, stats, x)

    def single_only(params, stats, x):
        if len(x) != 1:
            raise ValueError("one image at a time, please")
        return A6["predict"](params, stats, x)

    def wrong_on_batches(params, stats, x):
        logits = A6["predict"](params, stats, x)
        return logits if len(x) == 1 else -logits

    a6_capstone.check_trained_network(counted, params, stats, losses)
    assert sorted(sizes) == [1] * ALONE + [1000]
    assert expected in capsys.readouterr().out
    for predict in (single_only, wrong_on_batches):
        a6_capstone.check_trained_network(predict, params, stats, losses)
        assert expected in capsys.readouterr().out
