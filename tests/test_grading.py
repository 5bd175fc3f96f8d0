"""Unit tests of cvlib.grading: right answers pass, typical mistakes fail with the right hint."""

import sys

import numpy as np
import pytest

import cvlib.conv
import cvlib.gradcheck
import cvlib.kernels
import cvlib.layers
import cvlib.pool
from cvlib import grading, tiny_cnn
from cvlib.grading.a2_backprop import backward as a2_backward

conv, pool, layers = cvlib.conv, cvlib.pool, cvlib.layers


def fails_with(check, fn, *hints, **kwargs):
    """Run ``check(fn)``; it must raise AssertionError whose message holds every hint."""
    with pytest.raises(AssertionError) as info:
        check(fn, **kwargs)
    message = str(info.value)
    for hint in hints:
        assert hint in message, f"{hint!r} not in:\n{message}"
    return message


# --- right answers pass (visible and hidden cases) ------------------------------------------


def _conv_single(x, weight):
    return conv.conv2d(x, weight)


def _conv_strided(x, weight, stride=1, padding=0):
    return conv.conv2d(x, weight, stride=stride, padding=padding)


def _conv_multi(x, weight, bias=None, stride=1, padding=0):
    return conv.conv2d(x, weight, bias, stride=stride, padding=padding)


def _apply_filters(image, names):
    weight = np.stack([cvlib.kernels.kernel(n) for n in names])[:, None]
    return conv.conv2d(image[None], weight, padding=1)


def _train_step(params, x, target, lr):
    return tiny_cnn.sgd_step(x, target, params, lr, conv, pool, layers)


RIGHT = [
    (grading.check_output_size, conv.conv_output_size),
    (grading.check_pad2d, lambda x, padding: conv.pad2d(x, padding)),
    (grading.check_conv2d_single, _conv_single),
    (grading.check_conv2d_strided, _conv_strided),
    (grading.check_conv2d_multi, _conv_multi),
    (grading.check_apply_filters, _apply_filters),
    (grading.check_dense_params, lambda i, o: i * o + o),
    (grading.check_conv_params, lambda i, o, k: o * i * k * k + o),
    (lambda fn, **kw: grading.check_pool(fn, mode="max", **kw), pool.max_pool2d),
    (lambda fn, **kw: grading.check_pool(fn, mode="min", **kw), pool.min_pool2d),
    (lambda fn, **kw: grading.check_pool(fn, mode="avg", **kw), pool.avg_pool2d),
    (grading.check_relu, layers.relu),
    (grading.check_softmax, layers.softmax),
    (grading.check_cross_entropy, layers.cross_entropy),
    (grading.check_max_pool_backward, pool.max_pool2d_backward),
    (grading.check_conv_backward, conv.conv2d_backward),
    (grading.check_training_step, _train_step),
]


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize(("check", "fn"), RIGHT)
def test_right_answer_passes(check, fn, hidden, capsys):
    check(fn, hidden=hidden)
    assert capsys.readouterr().err == ""


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
    flipped = lambda x, w: conv.conv2d(x, w[::-1, ::-1])  # noqa: E731
    fails_with(
        grading.check_conv2d_single,
        flipped,
        "true convolution",
        "First wrong position",
        "expected",
        "got",
    )

    def no_stride_windows(x, w, stride=1, padding=0):
        full = conv.conv2d(x, w, padding=padding)
        rows = conv.conv_output_size(x.shape[0], w.shape[0], stride, padding)
        cols = conv.conv_output_size(x.shape[1], w.shape[1], stride, padding)
        return full[:rows, :cols]

    fails_with(grading.check_conv2d_strided, no_stride_windows, "`stride` pixels at a time")
    fails_with(
        grading.check_conv2d_strided,
        lambda x, w, stride=1, padding=0: conv.conv2d(x, w, stride=stride),
        "padding is missing",
    )
    fails_with(
        grading.check_conv2d_multi,
        lambda x, w, b=None, stride=1, padding=0: conv.conv2d(
            x, w, None, stride=stride, padding=padding
        ),
        "bias is missing",
    )
    fails_with(
        grading.check_conv2d_single,
        lambda x, w: conv.conv2d(x, w)[:-1],
        "wrong shape",
        "off by one",
    )
    fails_with(
        grading.check_apply_filters,
        lambda image, names: conv.conv2d(
            image[None], np.stack([cvlib.kernels.kernel(n) for n in names])[:, None]
        ),
        "padding=1",
    )


def test_wrong_types_and_dtypes():
    fails_with(
        grading.check_conv2d_single,
        lambda x, w: conv.conv2d(x, w).astype(int),
        "dtype int64",
        "np.zeros",
    )
    fails_with(
        grading.check_conv2d_single,
        lambda x, w: conv.conv2d(x, w).tolist(),
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
        lambda x, w: Liar(conv.conv2d(x, w).shape),
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
    fails_with(
        lambda fn, **kw: grading.check_pool(fn, mode="max", **kw),
        lambda x, k, stride=None: pool.max_pool2d(x, k, stride=1),
        "stride equals",
    )
    fails_with(
        lambda fn, **kw: grading.check_pool(fn, mode="max", **kw),
        lambda x, k, stride=None: pool.min_pool2d(x, k, stride=stride),
        "minimum",
    )

    def avg_excluding_pad(x, k, stride=None, padding=0):
        total = pool.avg_pool2d(x, k, stride=stride, padding=padding) * k * k
        count = pool.avg_pool2d(np.ones_like(x), k, stride=stride, padding=padding) * k * k
        return total / count

    fails_with(
        lambda fn, **kw: grading.check_pool(fn, mode="avg", **kw),
        avg_excluding_pad,
        "count_include_pad=False",
    )

    def assigning_backward(dout, x, k, stride=None):
        return a2_backward.max_pool_backward_alternatives(dout, x, k, stride)[0]

    # overlapping windows only in the hidden cases with stride < kernel_size
    fails_with(grading.check_max_pool_backward, assigning_backward, "+=", hidden=True)


def test_layer_mistakes():
    def unstable_softmax(z):
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    fails_with(grading.check_softmax, unstable_softmax, "subtract each row's maximum")
    fails_with(grading.check_softmax, lambda z: layers.softmax(z, axis=0), "ROW")

    def summed(logits, target):
        loss, grad = layers.cross_entropy(logits, target)
        return loss * len(logits), grad

    fails_with(grading.check_cross_entropy, summed, "MEAN")

    def undivided(logits, target):
        loss, grad = layers.cross_entropy(logits, target)
        return loss, grad * len(logits)

    fails_with(grading.check_cross_entropy, undivided, "divide by the batch size")
    fails_with(
        grading.check_cross_entropy,
        lambda z, t: layers.cross_entropy(z, t)[0],
        "tuple (loss, dlogits)",
    )


def test_backprop_mistakes():
    def dbias_per_sample(dout, x, w, stride=1, padding=0):
        dx, dw, _ = conv.conv2d_backward(dout, x, w, stride=stride, padding=padding)
        return dx, dw, dout.sum(axis=(2, 3))

    fails_with(grading.check_conv_backward, dbias_per_sample, "dbias", "axes 0, 2, 3")

    def in_place_step(params, x, target, lr):
        loss, grads = tiny_cnn.loss_and_grads(x, target, params, conv, pool, layers)
        for p, g in zip(params, grads, strict=True):
            p -= lr * g
        return loss, params

    fails_with(grading.check_training_step, in_place_step, "in place")

    def ascent(params, x, target, lr):
        loss, grads = tiny_cnn.loss_and_grads(x, target, params, conv, pool, layers)
        return loss, tuple(p + lr * g for p, g in zip(params, grads, strict=True))

    fails_with(grading.check_training_step, ascent, "subtracts")


def test_rebinding_cvlib_does_not_change_the_reference(monkeypatch):
    wrong = lambda x, w, b=None, stride=1, padding=0: np.zeros(  # noqa: E731
        (
            w.shape[0],
            conv.conv_output_size(x.shape[1], w.shape[2], stride, padding),
            conv.conv_output_size(x.shape[2], w.shape[3], stride, padding),
        )
    )
    monkeypatch.setattr(cvlib.conv, "conv2d", wrong)
    fails_with(grading.check_conv2d_multi, wrong, "wrong values")


def test_seed_repeats_the_same_test():
    bad = lambda x, w: conv.conv2d(x, w) + 1.0  # noqa: E731
    first = fails_with(grading.check_conv2d_single, bad, seed=123)
    assert first == fails_with(grading.check_conv2d_single, bad, seed=123)
    assert "seed=123" in first


@pytest.mark.slow  # importing torch takes seconds on a busy machine
def test_parameter_count_formulas_match_torch():
    import torch

    for n_in, n_out in [(784, 10), (3072, 64), (5, 7)]:
        layer = torch.nn.Linear(n_in, n_out)
        assert sum(p.numel() for p in layer.parameters()) == n_in * n_out + n_out
    for c_in, c_out, k in [(1, 6, 5), (3, 64, 3), (16, 32, 7)]:
        layer = torch.nn.Conv2d(c_in, c_out, k)
        assert sum(p.numel() for p in layer.parameters()) == c_out * c_in * k * k + c_out


def test_tiny_cnn_gradients_match_numerical_gradient():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 1, 4, 4))
    target = np.array([0, 1, 2])
    params = tiny_cnn.init_params(1, 3, 4, filters=2, seed=1)
    _, grads = tiny_cnn.loss_and_grads(x, target, params, conv, pool, layers)
    for index in range(4):

        def loss_of(value, index=index):
            changed = list(params)
            changed[index] = value
            return np.array(tiny_cnn.loss_and_grads(x, target, changed, conv, pool, layers)[0])

        numerical = cvlib.gradcheck.numerical_gradient(loss_of, params[index])
        assert cvlib.gradcheck.rel_error(grads[index], numerical) < 1e-6


def test_grading_assignments_1_and_2_never_import_torch():
    """The A1/A2 kernels start fast and fit a low memory limit: no torch behind cvlib.grading."""
    import subprocess

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
