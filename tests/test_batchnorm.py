"""cvlib.batchnorm against torch.nn.functional.batch_norm (float64, autograd) and numerical
gradients, in training and evaluation mode, with the running estimates over several steps."""

import numpy as np
import pytest
import torch

from cvlib.batchnorm import batch_norm, batch_norm_backward
from cvlib.gradcheck import numerical_gradient, rel_error

TOL = 1e-10
F = torch.nn.functional
SHAPES = [(4, 3, 5, 5), (2, 5, 3, 7), (6, 4), (3, 2, 9), (1, 3, 2, 1)]


def torch_batch_norm(x, mean, var, weight, bias, training, momentum, eps, dout):
    """F.batch_norm's output, gradients and (in place) updated running estimates."""
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(weight, requires_grad=True)
    bt = torch.tensor(bias, requires_grad=True)
    mt, vt = torch.tensor(mean), torch.tensor(var)
    out = F.batch_norm(xt, mt, vt, wt, bt, training=training, momentum=momentum, eps=eps)
    out.backward(torch.tensor(dout))
    grads = (xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy())
    return out.detach().numpy(), mt.numpy(), vt.numpy(), grads


def random_case(rng, shape):
    c = shape[1]
    x = rng.normal(2.0, 3.0, size=shape)
    return (
        x,
        rng.normal(size=c),  # running mean
        rng.uniform(0.5, 2.0, size=c),  # running variance
        rng.normal(size=c),  # weight (gamma)
        rng.normal(size=c),  # bias (beta)
        rng.normal(size=shape),  # dout
    )


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_forward_backward_and_running_estimates_match_torch(shape, training):
    rng = np.random.default_rng(len(shape) * 10 + shape[1])
    x, mean, var, weight, bias, dout = random_case(rng, shape)
    momentum, eps = 0.3, 1e-3
    out, new_mean, new_var = batch_norm(x, mean, var, weight, bias, training, momentum, eps)
    grads = batch_norm_backward(dout, x, mean, var, weight, training, eps)
    t_out, t_mean, t_var, t_grads = torch_batch_norm(
        x, mean, var, weight, bias, training, momentum, eps, dout
    )
    assert rel_error(out, t_out) < TOL
    assert rel_error(new_mean, t_mean) < TOL and rel_error(new_var, t_var) < TOL
    for got, expected in zip(grads, t_grads, strict=True):
        assert rel_error(got, expected) < TOL
    if not training:  # evaluation leaves the estimates as they were
        assert np.array_equal(new_mean, mean) and np.array_equal(new_var, var)


def test_running_estimates_follow_torch_over_several_steps():
    """nn.BatchNorm2d's buffers after 5 training batches, then its evaluation output."""
    rng = np.random.default_rng(1)
    layer = torch.nn.BatchNorm2d(3, momentum=0.2).double()
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(5):
        x = rng.normal(rng.normal(size=3)[:, None, None], 2.0, size=(4, 3, 6, 6))
        out, mean, var = batch_norm(x, mean, var, training=True, momentum=0.2)
        assert rel_error(out, layer(torch.tensor(x)).detach().numpy()) < TOL
    assert rel_error(mean, layer.running_mean.numpy()) < TOL
    assert rel_error(var, layer.running_var.numpy()) < TOL
    test = rng.normal(size=(2, 3, 6, 6))
    out, _, _ = batch_norm(test, mean, var, training=False)
    assert rel_error(out, layer.eval()(torch.tensor(test)).detach().numpy()) < TOL


def test_running_variance_is_unbiased_and_normalisation_biased():
    x = np.array([1.0, 2.0, 3.0, 6.0]).reshape(4, 1)  # mean 3, biased var 3.5, unbiased 14/3
    out, mean, var = batch_norm(x, np.zeros(1), np.zeros(1), training=True, momentum=1.0, eps=0)
    assert mean[0] == pytest.approx(3.0) and var[0] == pytest.approx(14 / 3)
    assert np.allclose(out[:, 0], (x[:, 0] - 3.0) / np.sqrt(3.5))


def test_evaluation_depends_on_the_running_estimates_only():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 2, 3, 3))
    mean, var, weight, bias = np.array([1.0, -1.0]), np.array([4.0, 0.25]), np.ones(2), np.ones(2)
    alone, _, _ = batch_norm(x[:1], mean, var, weight, bias)
    together, _, _ = batch_norm(x, mean, var, weight, bias)
    assert np.array_equal(alone[0], together[0])  # the batch's other images change nothing
    expected = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5) + 1
    assert np.allclose(together, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("training", [True, False])
def test_backward_matches_numerical_gradients(training):
    rng = np.random.default_rng(3)
    x, mean, var, weight, bias, dout = random_case(rng, (3, 2, 4, 3))

    def out(x=x, weight=weight, bias=bias):
        return batch_norm(x, mean, var, weight, bias, training)[0]

    dx, dweight, dbias = batch_norm_backward(dout, x, mean, var, weight, training)
    assert rel_error(dx, numerical_gradient(lambda v: out(x=v), x, dout)) < 1e-7
    assert rel_error(dweight, numerical_gradient(lambda v: out(weight=v), weight, dout)) < 1e-7
    assert rel_error(dbias, numerical_gradient(lambda v: out(bias=v), bias, dout)) < 1e-7


def test_without_running_estimates_or_affine_parameters():
    rng = np.random.default_rng(4)
    x, dout = rng.normal(size=(6, 3, 2, 2)), rng.normal(size=(6, 3, 2, 2))
    out, mean, var = batch_norm(x, None, None, training=True)
    assert mean is None and var is None
    xt = torch.tensor(x, requires_grad=True)
    expected = F.batch_norm(xt, None, None, training=True)
    expected.backward(torch.tensor(dout))
    assert rel_error(out, expected.detach().numpy()) < TOL
    dx, dweight, dbias = batch_norm_backward(dout, x, None, None, training=True)
    assert rel_error(dx, xt.grad.numpy()) < TOL
    assert np.allclose(dbias, dout.sum(axis=(0, 2, 3)))
    assert np.allclose(dweight, (dout * out).sum(axis=(0, 2, 3)))


def test_float32_stays_float32_and_inputs_stay_unchanged():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    mean, var = np.zeros(3, np.float32), np.ones(3, np.float32)
    out, new_mean, _ = batch_norm(x, mean, var, training=True)
    dx, _, _ = batch_norm_backward(np.ones_like(x), x, mean, var, training=True)
    assert out.dtype == dx.dtype == new_mean.dtype == np.float32
    assert np.array_equal(mean, np.zeros(3)) and np.array_equal(var, np.ones(3))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(x=[[1.0, 2.0]]), TypeError, "`x` must be a numpy array"),
        (dict(x=np.zeros(4)), ValueError, "`x` must be 2-D or 3-D or 4-D"),
        (dict(running_mean=np.zeros(2)), ValueError, r"`running_mean` must have shape \(3,\)"),
        (dict(running_var=None, training=True), ValueError, "given together"),
        (dict(weight=np.ones(4)), ValueError, r"`weight` must have shape \(3,\)"),
        (dict(bias=np.ones((3, 1))), ValueError, "`bias` must be 1-D"),
        (dict(momentum=1.5), ValueError, r"`momentum` must be a number in \[0, 1\]"),
        (dict(eps=-1e-5), ValueError, "`eps` must be a number >= 0"),
        (dict(training="yes"), TypeError, "`training` must be True or False"),
        (dict(x=np.zeros((1, 3)), training=True), ValueError, "more than one value per channel"),
        (dict(running_mean=None, running_var=None), ValueError, "needed in evaluation mode"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    args = dict(x=np.zeros((2, 3, 4, 4)), running_mean=np.zeros(3), running_var=np.ones(3))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        batch_norm(**args)


def test_backward_names_a_wrong_dout():
    x = np.zeros((2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"`dout` must have shape \(2, 3, 4, 4\)"):
        batch_norm_backward(np.zeros((2, 3, 4, 3)), x, None, None, training=True)
