"""cvlib.layers against torch (float64, autograd) and numerical gradients."""

import numpy as np
import pytest
import torch

from cvlib.gradcheck import numerical_gradient, rel_error
from cvlib.layers import (
    cross_entropy,
    flatten,
    flatten_backward,
    linear,
    linear_backward,
    log_softmax,
    relu,
    relu_backward,
    softmax,
)

TOL = 1e-10
F = torch.nn.functional
rng = np.random.default_rng(0)


def test_relu_and_backward_match_torch():
    x = rng.standard_normal((3, 4, 5))
    x[0, 0, :2] = 0.0
    xt = torch.tensor(x, requires_grad=True)
    dout = rng.standard_normal(x.shape)
    F.relu(xt).backward(torch.tensor(dout))
    assert np.array_equal(relu(x), F.relu(torch.tensor(x)).numpy())
    assert np.array_equal(relu_backward(dout, x), xt.grad.numpy())


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax_match_torch(axis):
    z = rng.standard_normal((4, 6)) * 30
    assert rel_error(softmax(z, axis), F.softmax(torch.tensor(z), axis).numpy()) < TOL
    assert rel_error(log_softmax(z, axis), F.log_softmax(torch.tensor(z), axis).numpy()) < TOL


def test_softmax_is_stable_for_huge_logits():
    z = np.array([[1000.0, 0.0, -1000.0]])
    assert np.all(np.isfinite(softmax(z))) and np.all(np.isfinite(log_softmax(z)))
    loss, grad = cross_entropy(z, np.array([2]))
    assert loss == pytest.approx(2000.0) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("seed", range(5))
def test_cross_entropy_matches_torch(seed):
    r = np.random.default_rng(seed)
    n, k = int(r.integers(1, 9)), int(r.integers(2, 7))
    logits, target = r.standard_normal((n, k)) * 5, r.integers(0, k, size=n)
    lt = torch.tensor(logits, requires_grad=True)
    expected = F.cross_entropy(lt, torch.tensor(target))
    expected.backward()
    loss, dlogits = cross_entropy(logits, target)
    assert isinstance(loss, float)
    assert abs(loss - expected.item()) < TOL * abs(expected.item())
    assert rel_error(dlogits, lt.grad.numpy()) < TOL


def test_cross_entropy_gradient_is_numerically_right():
    logits, target = rng.standard_normal((4, 3)), np.array([0, 2, 1, 2])
    numerical = numerical_gradient(lambda z: cross_entropy(z, target)[0], logits)
    assert rel_error(cross_entropy(logits, target)[1], numerical) < 1e-7


def test_linear_and_backward_match_torch():
    x, w, b = rng.standard_normal((5, 7)), rng.standard_normal((3, 7)), rng.standard_normal(3)
    dout = rng.standard_normal((5, 3))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.linear(xt, wt, bt)
    out.backward(torch.tensor(dout))
    assert rel_error(linear(x, w, b), out.detach().numpy()) < TOL
    for mine, theirs in zip(linear_backward(dout, x, w), (xt.grad, wt.grad, bt.grad), strict=True):
        assert rel_error(mine, theirs.numpy()) < TOL


def test_linear_backward_is_numerically_right():
    x, w, b = rng.standard_normal((3, 4)), rng.standard_normal((2, 4)), rng.standard_normal(2)
    dout = rng.standard_normal((3, 2))
    dx, dw, db = linear_backward(dout, x, w)
    assert rel_error(dx, numerical_gradient(lambda v: linear(v, w, b), x, dout)) < 1e-7
    assert rel_error(dw, numerical_gradient(lambda v: linear(x, v, b), w, dout)) < 1e-7
    assert rel_error(db, numerical_gradient(lambda v: linear(x, w, v), b, dout)) < 1e-7


def test_relu_backward_is_numerically_right():
    x = rng.standard_normal((4, 5)) + 0.05 * np.sign(rng.standard_normal((4, 5)))
    dout = rng.standard_normal(x.shape)
    assert rel_error(relu_backward(dout, x), numerical_gradient(relu, x, dout)) < 1e-7


def test_flatten_round_trip_matches_torch():
    x = rng.standard_normal((2, 3, 4, 5))
    assert np.array_equal(flatten(x), torch.flatten(torch.tensor(x), 1).numpy())
    dout = rng.standard_normal((2, 60))
    assert np.array_equal(flatten_backward(dout, x), dout.reshape(x.shape))
    assert flatten_backward(dout, x.shape).shape == x.shape


def test_float32_is_kept():
    x = np.ones((2, 3), np.float32)
    assert relu(x).dtype == softmax(x).dtype == np.float32
    assert linear(x, np.ones((4, 3), np.float32)).dtype == np.float32
    assert cross_entropy(x, np.array([0, 1]))[1].dtype == np.float32


BAD_INPUTS = [
    (lambda: cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0])), TypeError, "`target`"),
    (lambda: cross_entropy(np.zeros((2, 3)), np.array([0, 3])), ValueError, "`target` must hold"),
    (lambda: cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2])), ValueError,
     "`target` must have shape \\(2,\\)"),
    (lambda: cross_entropy(np.zeros(3), np.array([0])), ValueError, "`logits` must be 2-D"),
    (lambda: linear(np.zeros((2, 3)), np.zeros((4, 5))), ValueError,
     "`weight` has 5 input features but `x` has 3"),
    (lambda: linear(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(3)), ValueError, "`bias`"),
    (lambda: relu([1.0, -1.0]), TypeError, "`x` must be a numpy array"),
    (lambda: relu_backward(np.ones(3), np.ones(4)), ValueError, "`dout` must have shape"),
    (lambda: flatten_backward(np.ones((2, 5)), (2, 3, 2)), ValueError, "`dout`"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "error", "message"), BAD_INPUTS,
                         ids=[m[:30] for _, _, m in BAD_INPUTS])  # fmt: skip
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
