"""Unit tests of cvlib.grading (assignments 1 and 2, and what every check shares): right answers
pass, typical mistakes fail with the right hint, library calls are caught and nothing leaks.

The right answers are the instructor's solutions (``nbgrader_submissions.namespace``: the
notebook's cells executed as a notebook would); the mistakes are built from them, never from cvlib
(whose implementations the checks keep out of reach).
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from nbgrader_submissions import namespace

import cvlib.conv
import cvlib.gradcheck
import cvlib.layers
import cvlib.pool
from cvlib import grading
from cvlib.grading.a2_backprop import backward as a2_backward

A1 = namespace("a1_convolution")
A2 = namespace("a2_backprop")


def fails_with(check, fn, *hints, **kwargs):
    """Run ``check(fn)``; it must raise AssertionError whose message holds every hint."""
    with pytest.raises(AssertionError) as info:
        check(fn, **kwargs)
    message = str(info.value)
    for hint in hints:
        assert hint in message, f"{hint!r} not in:\n{message}"
    return message


def pool(mode):
    return lambda fn, **kw: grading.check_pool(fn, mode=mode, **kw)


# --- right answers pass (visible and hidden cases) ------------------------------------------

RIGHT = [
    (grading.check_output_size, A1["output_size"]),
    (grading.check_pad2d, A1["zero_pad"]),
    (grading.check_conv2d_single, A1["conv2d_single"]),
    (grading.check_conv2d_strided, A1["conv2d_strided"]),
    (grading.check_conv2d_multi, A1["conv2d_multi"]),
    (grading.check_apply_filters, A1["apply_filters"]),
    (grading.check_dense_params, A1["dense_params"]),
    (grading.check_conv_params, A1["conv_params"]),
    (pool("max"), A2["max_pool2d"]),
    (pool("min"), A2["min_pool2d"]),
    (pool("avg"), A2["avg_pool2d"]),
    (grading.check_relu, A2["relu"]),
    (grading.check_softmax, A2["softmax"]),
    (grading.check_cross_entropy, A2["cross_entropy"]),
    (grading.check_max_pool_backward, A2["max_pool2d_backward"]),
    (grading.check_conv_backward, A2["conv2d_backward"]),
    (grading.check_training_step, A2["train_step"]),
]


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize(("check", "fn"), RIGHT)
def test_right_answer_passes(check, fn, hidden, capsys):
    check(fn, hidden=hidden)
    assert capsys.readouterr().err == ""
    assert sys.getprofile() is None


def test_the_references_agree_with_the_library_they_stand_for():
    """The checks' references are cvlib itself: the solutions agree with it on random inputs."""
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(3, 9, 8)), rng.normal(size=(4, 3, 3, 2))
    np.testing.assert_allclose(
        A1["conv2d_multi"](x, w, None, 2, 1), cvlib.conv.conv2d(x, w, None, 2, 1)
    )
    xs = np.round(rng.normal(size=(2, 3, 7, 7))).clip(-1, 1)  # ties everywhere
    dout = rng.normal(size=(2, 3, 3, 3))
    np.testing.assert_allclose(
        A2["max_pool2d_backward"](dout, xs, 3, 2), cvlib.pool.max_pool2d_backward(dout, xs, 3, 2)
    )


# --- typical mistakes fail with a hint -------------------------------------------------------


def test_output_size_mistakes():
    fails_with(
        grading.check_output_size,
        lambda n, k, stride=1, padding=0: (n + 2 * padding - k) // stride,
        "forgot the + 1",
    )
    fails_with(
        grading.check_output_size,
        lambda n, k, stride=1, padding=0: (n + 2 * padding - k) / stride + 1,
        "should be an int",
        "`//`",
    )
    fails_with(
        grading.check_output_size,
        lambda n, k, stride=1, padding=0: (n + padding - k) // stride + 1,
        "2*padding",
    )


def test_pad2d_mistakes():
    fails_with(
        grading.check_pad2d, lambda x, padding: np.pad(x, padding), "wrong shape", "channel axis"
    )
    fails_with(
        grading.check_pad2d,
        lambda x, padding: np.pad(
            x,
            [(0, 0)] * (x.ndim - 2)
            + [(padding, padding) if isinstance(padding, int) else (padding[0], padding[0])] * 2,
            mode="edge",
        ),
        "zeros",
    )


def test_conv_mistakes():
    single, multi = A1["conv2d_single"], A1["conv2d_multi"]
    fails_with(
        grading.check_conv2d_single,
        lambda x, w: single(x, w[::-1, ::-1]),
        "true convolution",
        "First wrong position",
        "expected",
        "got",
    )

    def no_stride_windows(x, w, stride=1, padding=0):
        full = A1["conv2d_strided"](x, w, padding=padding)
        rows = A1["output_size"](x.shape[0], w.shape[0], stride, padding)
        cols = A1["output_size"](x.shape[1], w.shape[1], stride, padding)
        return full[:rows, :cols]

    fails_with(grading.check_conv2d_strided, no_stride_windows, "`stride` pixels at a time")
    fails_with(
        grading.check_conv2d_strided,
        lambda x, w, stride=1, padding=0: A1["conv2d_strided"](x, w, stride=stride),
        "padding is missing",
    )
    fails_with(
        grading.check_conv2d_multi,
        lambda x, w, b=None, stride=1, padding=0: multi(x, w, None, stride, padding),
        "bias is missing",
    )
    fails_with(grading.check_conv2d_single, lambda x, w: single(x, w)[:-1], "off by one")
    fails_with(
        grading.check_apply_filters,
        lambda image, names: A1["apply_filters"](image, names)[:, 1:-1, 1:-1],
        "padding=1",
    )


def test_wrong_types_and_dtypes():
    single = A1["conv2d_single"]
    fails_with(
        grading.check_conv2d_single,
        lambda x, w: single(x, w).astype(int),
        "dtype int64",
        "np.zeros",
    )
    fails_with(
        grading.check_conv2d_single,
        lambda x, w: single(x, w).tolist(),
        "should be a numpy array",
        "list",
    )
    fails_with(grading.check_conv2d_single, lambda x, w: None, "returned None", "return")
    fails_with(grading.check_relu, lambda x: x > 0, "dtype bool")


class Liar:
    """An object that claims to equal everything and converts to zeros."""

    def __init__(self, shape):
        self.shape = shape

    def __eq__(self, other):
        return True

    __hash__ = None

    def __array__(self, dtype=None, copy=None):
        return np.zeros(self.shape)


class LyingArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool)

    def __ne__(self, other):
        return np.zeros(np.shape(self), dtype=bool)

    def __sub__(self, other):
        return np.zeros(np.shape(self))


def test_lying_eq_is_not_trusted():
    fails_with(
        grading.check_conv2d_single,
        lambda x, w: Liar(A1["conv2d_single"](x, w).shape),
        "should be a numpy array",
        "Liar",
    )
    fails_with(grading.check_relu, lambda x: np.zeros_like(x).view(LyingArray), "wrong values")


def test_student_exceptions_become_readable(capsys):
    def broken(x, weight):
        return x[100, 100] * weight

    message = fails_with(
        grading.check_conv2d_single, broken, "raised IndexError", "x[100, 100]", "seed="
    )
    assert "Traceback" not in message

    def unanswered(x, weight):
        raise NotImplementedError()

    fails_with(grading.check_conv2d_single, unanswered, "not implemented yet")
    fails_with(grading.check_relu, "relu", "should be a function")
    assert capsys.readouterr().err == ""


def test_noisy_answers_are_quiet_and_credited(capsys):
    import warnings

    def noisy(x):
        print("debug to stderr", file=sys.stderr)
        warnings.warn("a warning", stacklevel=1)
        print("debug to stdout")
        return np.maximum(x, 0)

    grading.check_relu(noisy)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "debug to stdout" in captured.out


def test_in_place_change_is_reported():
    def in_place(x):
        x[x < 0] = 0
        return x

    fails_with(grading.check_relu, in_place, "in place")


def test_pool_mistakes():
    fails_with(pool("max"), lambda x, k, stride=None: A2["max_pool2d"](x, k, 1), "stride equals")
    fails_with(
        pool("max"), lambda x, k, stride=None: A2["max_pool2d"](x, k), "ignored the `stride`"
    )
    fails_with(pool("max"), lambda x, k, stride=None: A2["min_pool2d"](x, k, stride), "minimum")

    def avg_excluding_pad(x, k, stride=None, padding=0):
        total = A2["avg_pool2d"](x, k, stride, padding) * k * k
        count = A2["avg_pool2d"](np.ones_like(x), k, stride, padding) * k * k
        return total / count

    fails_with(pool("avg"), avg_excluding_pad, "count_include_pad=False")

    def assigning_backward(dout, x, k, stride=None):
        return a2_backward.max_pool_backward_alternatives(dout, x, k, stride)["assigned"]

    # overlapping windows only in the hidden cases with stride < kernel_size
    fails_with(grading.check_max_pool_backward, assigning_backward, "+=", hidden=True)


def test_max_pool_backward_ties_go_to_the_first_maximum():
    """Tied windows are tested (visible cases): every tie, or the last one, is wrong."""

    def every_tie(dout, x, k, stride=None):
        return a2_backward.max_pool_backward_alternatives(dout, x, k, stride)["all ties"]

    def last_tie(dout, x, k, stride=None):
        return a2_backward.max_pool_backward_alternatives(dout, x, k, stride)["last"]

    fails_with(grading.check_max_pool_backward, every_tie, "FIRST of them", "row-major")
    fails_with(grading.check_max_pool_backward, last_tie, "not the last")


def test_layer_mistakes():
    def unstable_softmax(z):
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    fails_with(grading.check_softmax, unstable_softmax, "subtract each row's maximum")
    fails_with(grading.check_softmax, lambda z: A2["softmax"](z.T).T, "ROW")

    def summed(logits, target):
        loss, grad = A2["cross_entropy"](logits, target)
        return loss * len(logits), grad

    fails_with(grading.check_cross_entropy, summed, "MEAN")

    def undivided(logits, target):
        loss, grad = A2["cross_entropy"](logits, target)
        return loss, grad * len(logits)

    fails_with(grading.check_cross_entropy, undivided, "divide by the batch size")
    fails_with(
        grading.check_cross_entropy,
        lambda z, t: A2["cross_entropy"](z, t)[0],
        "tuple (loss, dlogits)",
    )


def test_cross_entropy_is_tested_where_a_naive_softmax_underflows():
    def log_of_softmax(logits, target):  # stable softmax, then its log: -inf for a zero
        probs = A2["softmax"](logits)
        n = len(logits)
        with np.errstate(divide="ignore"):
            loss = -np.log(probs[np.arange(n), target]).mean()
        grad = probs.copy()
        grad[np.arange(n), target] -= 1
        return float(loss), grad / n

    fails_with(grading.check_cross_entropy, log_of_softmax, "loss is inf", "stably")


def test_backprop_mistakes():
    backward = A2["conv2d_backward"]

    def dbias_per_sample(dout, x, w, stride=1, padding=0):
        dx, dw, _ = backward(dout, x, w, stride=stride, padding=padding)
        return dx, dw, dout.sum(axis=(2, 3))

    fails_with(grading.check_conv_backward, dbias_per_sample, "dbias", "axes 0, 2, 3")

    def averaged(dout, x, w, stride=1, padding=0):
        return tuple(g / len(x) for g in backward(dout, x, w, stride=stride, padding=padding))

    fails_with(grading.check_conv_backward, averaged, "Do not divide by the batch size")

    def cropped_minus_p(dout, x, w, stride=1, padding=0):
        dx, dw, db = backward(dout, x, w, stride=stride, padding=padding)
        p = padding
        padded = np.pad(dx, ((0, 0), (0, 0), (p, p), (p, p)))
        return padded[:, :, p:-p, p:-p], dw, db  # empty when p == 0

    fails_with(grading.check_conv_backward, cropped_minus_p, "EMPTY", "p:p + H")

    def in_place_step(params, x, target, lr):
        loss, new = A2["train_step"](params, x, target, lr)
        for p, q in zip(params, new, strict=True):
            p[...] = q
        return loss, params

    fails_with(grading.check_training_step, in_place_step, "in place")

    def ascent(params, x, target, lr):
        loss, new = A2["train_step"](params, x, target, lr)
        return loss, tuple(2 * p - q for p, q in zip(params, new, strict=True))

    fails_with(grading.check_training_step, ascent, "subtracts")


def test_rebinding_cvlib_does_not_change_the_reference(monkeypatch):
    def wrong(x, w, b=None, stride=1, padding=0):
        size = A1["output_size"]
        return np.zeros((w.shape[0], size(x.shape[1], w.shape[2], stride, padding),
                         size(x.shape[2], w.shape[3], stride, padding)))  # fmt: skip

    monkeypatch.setattr(cvlib.conv, "conv2d", wrong)
    fails_with(grading.check_conv2d_multi, wrong, "wrong values")


def test_seed_repeats_the_same_test_and_the_recipe_is_code():
    def bad(x, w):
        return A1["conv2d_single"](x, w) + 1.0

    first = fails_with(grading.check_conv2d_single, bad, seed=123)
    assert first == fails_with(grading.check_conv2d_single, bad, seed=123)
    assert "`check_conv2d_single(bad, seed=123)`" in first
    hidden = fails_with(grading.check_pool, bad, mode="max", seed=5, hidden=True)
    recipe = hidden.split("`")[-2]  # the code between the last pair of backticks
    assert recipe == (
        "from cvlib.grading import check_pool; check_pool(bad, mode='max', seed=5, hidden=True)"
    )
    with pytest.raises(AssertionError) as again:
        exec(recipe, {"bad": bad})  # valid code that repeats the hidden case
    assert str(again.value) == hidden


# --- trip-wires ------------------------------------------------------------------------------


def test_library_calls_are_caught_however_they_are_reached():
    from cvlib.conv import conv2d as renamed

    def helper(x, w):
        return renamed(x, w)

    def through_a_helper(x, w):
        return helper(x, w)

    def catching(x, w):
        try:
            return cvlib.conv.conv2d(x, w)
        except BaseException:  # the trip-wire cannot be swallowed
            return A1["conv2d_single"](x, w)

    def switching_off(x, w):
        sys.setprofile(None)
        return cvlib.conv.conv2d(x, w)

    for answer in (through_a_helper, catching):
        fails_with(grading.check_conv2d_single, answer, "called `cvlib.conv.conv2d`", "own loops")
    fails_with(grading.check_conv2d_single, switching_off, "called `sys.setprofile`")
    fails_with(grading.check_conv2d_single, cvlib.conv.conv2d, "called `cvlib.conv.conv2d`")
    fails_with(grading.check_relu, cvlib.layers.relu, "called `cvlib.layers.relu`")
    assert sys.getprofile() is None
    grading.check_conv2d_single(A1["conv2d_single"])  # nothing leaks into the next check


# assignment 2's training step written with cvlib's layers and the notebook's own relu
TRAIN_STEP = (
    "def train_step(params, x, target, lr):\n"
    "    w1, b1, w2, b2 = params\n"
    "    a = cvlib.conv.conv2d(x, w1, b1, padding=1)\n"
    "    r = relu(a)\n"
    "    pooled = cvlib.pool.max_pool2d(r, 2)\n"
    "    flat = pooled.reshape(len(x), -1)\n"
    "    loss, dz = cvlib.layers.cross_entropy(flat @ w2.T + b2, target)\n"
    "    dr = cvlib.pool.max_pool2d_backward((dz @ w2).reshape(pooled.shape), r, 2)\n"
    "    _, dw1, db1 = cvlib.conv.conv2d_backward(dr * (a > 0), x, w1, padding=1)\n"
    "    grads = (dw1, db1, dz.T @ flat, dz.sum(axis=0))\n"
    "    return loss, tuple(p - lr * g for p, g in zip(params, grads))\n"
)


def test_an_earlier_answer_the_notebook_never_defined_is_the_reference_for_one_check(capsys):
    """An answer cell with a syntax error defines nothing: a later answer that calls it is graded
    with the reference in its place (one missing answer costs only its own points), and the name
    is gone again afterwards."""
    notebook = namespace("a2_backprop")
    del notebook["relu"]  # its answer cell did not parse
    exec(TRAIN_STEP, notebook)
    grading.check_training_step(notebook["train_step"])
    assert "`relu`" in capsys.readouterr().out  # the feedback says the reference stood in
    assert "relu" not in notebook


def test_the_training_step_may_use_cvlib_layers_and_its_own_answers_isolated():
    """The assignment lets the training step call cvlib.conv, cvlib.pool, cvlib.layers; its own
    earlier answers are swapped for references (a broken relu costs relu's points only)."""
    A2_broken = namespace("a2_backprop")
    exec("def relu(x):\n    return x", A2_broken)  # broken, and used by the step below
    exec(TRAIN_STEP, A2_broken)
    grading.check_training_step(A2_broken["train_step"], hidden=True)
    fails_with(grading.check_relu, A2_broken["relu"], "wrong values")
    exec("def train_step(params, x, target, lr):\n"
         "    return cvlib.tiny_cnn.sgd_step(params, x, target, lr)", A2_broken)  # fmt: skip
    import cvlib.tiny_cnn  # noqa: F401  (the answer reaches it through the cvlib package)

    fails_with(grading.check_training_step, A2_broken["train_step"], "cvlib.tiny_cnn.sgd_step")


def test_tampering_with_the_grading_package_is_refused():
    with pytest.raises(AttributeError, match="read-only"):
        grading.check_relu = lambda fn, **kw: None
    with pytest.raises(AttributeError, match="read-only"):
        grading.checks.Run = None


def test_grading_assignments_1_and_2_never_import_torch():
    """The A1/A2 kernels start fast and fit a low memory limit: no torch behind cvlib.grading."""
    code = (
        "import sys, numpy as np\n"
        "import cvlib.grading\n"
        "from cvlib.grading import check_conv2d_single, check_pool, check_training_step\n"
        "def conv2d_single(x, weight):\n"
        "    k_h, k_w = weight.shape\n"
        "    out = np.zeros((x.shape[0] - k_h + 1, x.shape[1] - k_w + 1))\n"
        "    for i in range(out.shape[0]):\n"
        "        for j in range(out.shape[1]):\n"
        "            out[i, j] = np.sum(x[i:i + k_h, j:j + k_w] * weight)\n"
        "    return out\n"
        "check_conv2d_single(conv2d_single, hidden=True)\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
        "import cvlib.grading as G\n"
        "G.check_lenet\n"  # the first use of an assignment-3 check brings torch in
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "True"], result.stdout


@pytest.mark.slow  # importing torch takes seconds on a busy machine
def test_parameter_count_formulas_match_torch():
    import torch

    for n_in, n_out in [(784, 10), (3072, 64), (5, 7)]:
        layer = torch.nn.Linear(n_in, n_out)
        assert sum(p.numel() for p in layer.parameters()) == A1["dense_params"](n_in, n_out)
    for c_in, c_out, k in [(1, 6, 5), (3, 64, 3), (16, 32, 7)]:
        layer = torch.nn.Conv2d(c_in, c_out, k)
        assert sum(p.numel() for p in layer.parameters()) == A1["conv_params"](c_in, c_out, k)


def test_nbgrader_config_hands_the_private_heldout_seed_to_the_kernels(tmp_path, monkeypatch):
    """`.heldout_seed` next to nbgrader_config.py sets $CVLIB_HELDOUT_SEED for the kernels;
    an exported variable wins."""
    from traitlets.config import Config

    from cvlib.tools.grading.release import ROOT

    config = tmp_path / "nbgrader_config.py"
    config.write_text((ROOT / "nbgrader_config.py").read_text())
    (tmp_path / ".heldout_seed").write_text("31337\n")

    def load():
        exec(compile(config.read_text(), str(config), "exec"),
             {"get_config": Config, "__file__": str(config)})  # fmt: skip

    monkeypatch.delenv("CVLIB_HELDOUT_SEED", raising=False)
    load()
    assert os.environ["CVLIB_HELDOUT_SEED"] == "31337"
    monkeypatch.setenv("CVLIB_HELDOUT_SEED", "7")
    load()
    assert os.environ["CVLIB_HELDOUT_SEED"] == "7"
