"""cvlib.pool against torch.nn.functional max_pool2d / avg_pool2d (float64, autograd)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cvlib.gradcheck import numerical_gradient, rel_error
from cvlib.pool import (
    avg_pool2d,
    avg_pool2d_backward,
    binomial_filter,
    blur_pool2d,
    max_pool2d,
    max_pool2d_backward,
    min_pool2d,
)

TOL = 1e-10
F = torch.nn.functional


def random_config(rng):
    """Random shapes, kernel 1-4, stride 1-3 or default, padding up to half the kernel."""
    kernel = tuple(int(k) for k in rng.integers(1, 5, size=2))
    stride = None if rng.random() < 0.25 else tuple(int(s) for s in rng.integers(1, 4, size=2))
    padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
    h, w = (k + int(rng.integers(0, 7)) for k in kernel)
    shape = [(h, w), (int(rng.integers(1, 4)), h, w), (2, int(rng.integers(1, 4)), h, w)]
    x = rng.standard_normal(shape[int(rng.integers(0, 3))])
    if rng.random() < 0.3:  # ties: small integers repeat inside windows
        x = rng.integers(-2, 3, size=x.shape).astype(np.float64)
    if rng.random() < 0.5 and kernel[0] == kernel[1] and padding[0] == padding[1]:
        kernel, padding = kernel[0], padding[0]
        stride = stride if stride is None else stride[0]
    return x, kernel, stride, padding


def torch_pool(fn, x, kernel, stride, padding, dout):
    lead = 4 - x.ndim
    xt = torch.tensor(x.reshape((1,) * lead + x.shape), requires_grad=True)
    out = fn(xt, kernel, stride, padding)
    if dout.size:
        out.backward(torch.tensor(dout.reshape(out.shape)))
    dx = None if xt.grad is None else xt.grad.numpy().reshape(x.shape)
    return out.detach().numpy().reshape(out.shape[lead:]), dx


CONFIGS = [random_config(np.random.default_rng(seed)) for seed in range(250)]
OPS = {
    "max": (max_pool2d, max_pool2d_backward, F.max_pool2d),
    "avg": (avg_pool2d, avg_pool2d_backward, F.avg_pool2d),
}


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("config", CONFIGS, ids=[f"cfg{i}" for i in range(len(CONFIGS))])
def test_forward_and_backward_match_torch(op, config):
    forward, backward, reference = OPS[op]
    x, kernel, stride, padding = config
    out = forward(x, kernel, stride, padding)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    expected, expected_dx = torch_pool(reference, x, kernel, stride, padding, dout)
    assert out.shape == expected.shape
    assert rel_error(out, expected) < TOL
    assert rel_error(backward(dout, x, kernel, stride, padding), expected_dx) < TOL


@pytest.mark.parametrize("config", CONFIGS[:50], ids=[f"cfg{i}" for i in range(50)])
def test_min_pool_is_negated_max_pool_of_negated_input(config):
    x, kernel, stride, padding = config
    expected, _ = torch_pool(F.max_pool2d, -x, kernel, stride, padding, dout=np.zeros(0))
    assert np.array_equal(min_pool2d(x, kernel, stride, padding), -expected)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("config", CONFIGS[:10], ids=[f"cfg{i}" for i in range(10)])
def test_backward_matches_numerical_gradient(op, config):
    forward, backward, _ = OPS[op]
    x, kernel, stride, padding = config
    x = np.random.default_rng(5).permutation(x.size).reshape(x.shape) * 0.1  # no ties
    dout = np.random.default_rng(2).standard_normal(forward(x, kernel, stride, padding).shape)
    numerical = numerical_gradient(lambda v: forward(v, kernel, stride, padding), x, dout)
    assert rel_error(backward(dout, x, kernel, stride, padding), numerical) < 1e-7


def test_max_pool_ties_go_to_the_first_maximum_and_overlaps_accumulate():
    x = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    dout = np.array([[1.0, 2.0], [3.0, 4.0]])
    # each 2x2 window (stride 1) holds several 1s; the first one in row-major order wins
    expected = [[1.0, 2.0, 0.0], [3.0, 4.0, 0.0], [0.0, 0.0, 0.0]]
    assert np.array_equal(max_pool2d_backward(dout, x, 2, stride=1), expected)
    assert np.array_equal(torch_pool(F.max_pool2d, x, 2, 1, 0, dout)[1], expected)
    peak = np.zeros((3, 3))
    peak[1, 1] = 5.0  # the maximum of all four overlapping windows: its gradients add up
    assert max_pool2d_backward(dout, peak, 2, stride=1)[1, 1] == 10.0


@settings(max_examples=40, deadline=None)
@given(
    size=st.tuples(st.integers(1, 10), st.integers(1, 10)),
    kernel=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_hypothesis_overlapping_windows_match_torch(size, kernel, stride, padding, seed):
    if padding > kernel // 2:
        with pytest.raises(ValueError, match="`padding` must be at most half"):
            max_pool2d(np.zeros((1, 1, *size)), kernel, stride, padding)
        return
    if min(size) + 2 * padding < kernel:
        with pytest.raises(ValueError, match="`kernel_size`"):
            avg_pool2d(np.zeros((1, 1, *size)), kernel, stride, padding)
        return
    x = np.random.default_rng(seed).standard_normal((2, 3, *size))
    for op in OPS.values():
        forward, backward, reference = op
        out = forward(x, kernel, stride, padding)
        dout = np.ones_like(out)
        expected, expected_dx = torch_pool(reference, x, kernel, stride, padding, dout)
        assert rel_error(out, expected) < TOL
        assert rel_error(backward(dout, x, kernel, stride, padding), expected_dx) < TOL


@pytest.mark.parametrize("fn", [max_pool2d, min_pool2d, avg_pool2d])
def test_dtypes(fn):
    assert fn(np.ones((1, 2, 4, 4), np.float32), 2).dtype == np.float32
    assert fn(np.ones((4, 4), np.int64), 2).dtype == np.float64


def test_backward_keeps_float32():
    x = np.ones((1, 2, 4, 4), np.float32)
    dout = np.ones((1, 2, 2, 2), np.float32)
    assert max_pool2d_backward(dout, x, 2).dtype == np.float32
    assert avg_pool2d_backward(dout, x, 2).dtype == np.float32


BAD_INPUTS = [
    (lambda: max_pool2d(np.ones((3, 3)), 4), ValueError, "`kernel_size` \\(4, 4\\) is larger"),
    (lambda: avg_pool2d(np.ones((2, 5, 3)), (2, 4)), ValueError, "`kernel_size`"),
    (lambda: max_pool2d(np.ones((4, 4)), 2, stride=0), ValueError, "`stride` must be >= 1"),
    (lambda: max_pool2d(np.ones((4, 4)), 2, padding=-1), ValueError, "`padding` must be >= 0"),
    (lambda: max_pool2d(np.ones((4, 4)), 2, padding=2), ValueError,
     "`padding` must be at most half"),
    (lambda: min_pool2d(np.ones((1, 1, 1, 4, 4)), 2), ValueError, "`x` must be 2-D or 3-D or 4-D"),
    (lambda: avg_pool2d([[1.0, 2.0]], 1), TypeError, "`x` must be a numpy array"),
    (lambda: max_pool2d(np.ones((4, 4)), 0), ValueError, "`kernel_size` must be >= 1"),
    (lambda: max_pool2d(np.ones((4, 4)), "2"), TypeError, "`kernel_size` must be an int"),
    (lambda: max_pool2d_backward(np.ones((3, 3)), np.ones((4, 4)), 2), ValueError,
     "`dout` must have shape \\(2, 2\\)"),
    (lambda: avg_pool2d_backward(np.ones((1, 2, 2)), np.ones((4, 4)), 2), ValueError,
     "`dout` must be 2-D"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "error", "message"), BAD_INPUTS,
                         ids=[m[:30] for _, _, m in BAD_INPUTS])  # fmt: skip
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# Anti-aliased max pooling (Zhang, 2019), against PyTorch: max_pool2d with stride 1, a reflect pad,
# a depthwise conv2d with the binomial kernel written out by hand, then every second pixel.
BINOMIAL = {1: [1.0], 2: [1.0, 1.0], 3: [1.0, 2.0, 1.0], 4: [1.0, 3.0, 3.0, 1.0]}


def torch_blur_pool(x, kernel_size, stride, blur_size):
    xt = torch.tensor(x.reshape((1,) * (4 - x.ndim) + x.shape))  # (N, C, H, W)
    dense = F.max_pool2d(xt, kernel_size, stride=1)
    row = torch.tensor(BINOMIAL[blur_size], dtype=torch.float64)
    kernel = torch.outer(row, row) / row.sum() ** 2  # (b, b)
    channels = dense.shape[1]
    before, after = (blur_size - 1) // 2, blur_size // 2
    padded = F.pad(dense, (before, after, before, after), mode="reflect")
    weight = kernel.expand(channels, 1, blur_size, blur_size)
    out = F.conv2d(padded, weight, groups=channels)[..., ::stride, ::stride]
    return out.numpy().reshape(out.shape[4 - x.ndim :])


@pytest.mark.parametrize("blur_size", [1, 2, 3, 4])
@pytest.mark.parametrize("kernel_size, stride", [(2, 2), (3, 2), (2, 3), (1, 2)])
@pytest.mark.parametrize("shape", [(9, 10), (3, 8, 7), (2, 3, 11, 12)])
def test_blur_pool_matches_torch(shape, kernel_size, stride, blur_size):
    x = np.random.default_rng(sum(shape)).standard_normal(shape)
    out = blur_pool2d(x, kernel_size, stride, blur_size)
    expected = torch_blur_pool(x, kernel_size, stride, blur_size)
    assert out.shape == expected.shape
    assert rel_error(out, expected) < TOL


def test_blur_pool_without_blur_is_max_pool():
    x = np.random.default_rng(0).standard_normal((2, 3, 10, 10))
    assert np.array_equal(blur_pool2d(x, 2, 2, blur_size=1), max_pool2d(x, 2))


def test_blur_pool_hand_example():
    # stripes two pixels wide: max pooling with stride 2 gives 0 1 0 1, and 1 1 1 1 after a
    # one-pixel move. Blur pooling: dense maxima 0 1 1 1 0 1 1, reflected to 1 | ... | 1, blurred
    # by [1, 2, 1] / 4 to 0.5 0.75 1 0.75 0.5 0.75 1, every second value 0.5 1 0.5 1; moved,
    # dense maxima 1 0 1 1 1 0 1, blurred 0.5 0.5 0.75 1 0.75 0.5 0.5, kept 0.5 0.75 0.75 0.5
    stripes = np.tile([0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0], (4, 1))
    moved = np.roll(stripes, 1, axis=1)
    assert np.allclose(max_pool2d(stripes, 2)[0], [0, 1, 0, 1])
    assert np.allclose(max_pool2d(moved, 2)[0], [1, 1, 1, 1])
    assert np.allclose(blur_pool2d(stripes)[0], [0.5, 1.0, 0.5, 1.0])
    assert np.allclose(blur_pool2d(moved)[0], [0.5, 0.75, 0.75, 0.5])


def test_binomial_filter_rows_of_pascal():
    assert np.allclose(binomial_filter(4)[0] * 64, [1, 3, 3, 1])
    assert binomial_filter(5).sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "kwargs, name",
    [({"kernel_size": 0}, "kernel_size"), ({"stride": 1.5}, "stride"), ({"blur_size": 0}, "size")],
)
def test_blur_pool_bad_arguments_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=name):
        blur_pool2d(np.zeros((6, 6)), **kwargs)
