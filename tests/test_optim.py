"""cvlib.optim against torch.optim: the same problem, the same start, the same steps.

Two checks: the functional :func:`cvlib.optim.sgd` against ``torch.optim.SGD`` on given
parameters and gradients over several steps; and the optimiser classes against ``torch.optim`` on
softmax regression on the 8x8 digits, with the numpy gradient of ``cvlib.layers`` on one side and
autograd on the other, in float64 so that the two sequences of weights agree to rounding after
every step.
"""

from typing import NamedTuple

import numpy as np
import pytest
import torch

from cvlib.data import digits
from cvlib.gradcheck import rel_error
from cvlib.layers import cross_entropy, linear, linear_backward
from cvlib.optim import SGD, Adam, sgd

TOL = 1e-12
SETTINGS = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, weight_decay=5e-3),
    dict(lr=0.2, momentum=0.5, dampening=0.3, weight_decay=1e-2),
    dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_several_steps_match_torch_sgd(settings):
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4), rng.normal(size=(10, 7))]
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    optimizer = torch.optim.SGD(tensors, **settings)
    velocities = None
    for _ in range(6):
        grads = [rng.normal(size=p.shape) for p in params]  # the same gradients for both
        for t, g in zip(tensors, grads, strict=True):
            t.grad = torch.tensor(g)
        optimizer.step()
        params, velocities = sgd(params, grads, velocities, **settings)
        for p, t in zip(params, tensors, strict=True):
            assert rel_error(p, t.detach().numpy()) < TOL
    if settings.get("momentum"):
        for v, t in zip(velocities, tensors, strict=True):
            assert rel_error(v, optimizer.state[t]["momentum_buffer"].numpy()) < TOL
    else:
        assert velocities is None


def test_first_step_starts_the_velocity_at_the_gradient():
    """With dampening, a zero velocity would give (1 - dampening) * g: PyTorch starts at g."""
    (p,), (v,) = sgd([np.ones(2)], [np.array([1.0, -2.0])], lr=1.0, momentum=0.9, dampening=0.5)
    assert np.array_equal(v, [1.0, -2.0]) and np.array_equal(p, [0.0, 3.0])


def test_named_tuples_come_back_named_and_inputs_stay_unchanged():
    class Params(NamedTuple):
        weight: np.ndarray
        bias: np.ndarray

    params = Params(np.ones((2, 3)), np.zeros(2))
    grads = Params(np.full((2, 3), 0.5), np.ones(2))
    new, velocities = sgd(params, grads, lr=0.1, momentum=0.9)
    assert isinstance(new, Params) and isinstance(velocities, Params)
    assert np.allclose(new.weight, 0.95) and np.allclose(new.bias, -0.1)
    assert np.array_equal(params.weight, np.ones((2, 3))) and np.array_equal(grads.bias, np.ones(2))
    lists, _ = sgd(list(params), list(grads), lr=0.1)
    assert isinstance(lists, list)


def test_float32_stays_float32():
    (p,), _ = sgd([np.ones(3, np.float32)], [np.ones(3, np.float32)], lr=0.5)
    assert p.dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(params=np.ones(3)), TypeError, "`params` must be a list or tuple of arrays"),
        (dict(grads=[np.ones(3), np.ones(2)]), ValueError, "`grads` has 2 entries"),
        (dict(grads=[np.ones(2)]), ValueError, r"`grads\[0\]` must have shape \(3,\)"),
        (dict(grads=[[1.0, 1.0, 1.0]]), TypeError, r"`grads\[0\]` must be a numpy array"),
        (dict(lr=-1.0), ValueError, "`lr` must be a number >= 0"),
        (dict(momentum=-0.9), ValueError, "`momentum` must be a number >= 0"),
        (dict(weight_decay=None), ValueError, "`weight_decay` must be a number >= 0"),
        (dict(nesterov=True), ValueError, "Nesterov momentum needs"),
        (dict(velocities=[np.ones(3)]), ValueError, "`momentum` is 0"),
        (
            dict(velocities=[np.ones(4)], momentum=0.9),
            ValueError,
            r"`velocities\[0\]` must have shape",
        ),
    ],
)
def test_bad_sgd_arguments_are_named(kwargs, error, match):
    args = dict(params=[np.ones(3)], grads=[np.ones(3)], lr=0.1)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        sgd(**args)


STEPS, BATCH = 60, 32


@pytest.fixture(scope="module")
def problem():
    data = digits(size=8, split="train")
    x = data.images.flatten(1).double().numpy()  # (1437, 64)
    y = data.labels.numpy()  # (1437,)
    rng = np.random.default_rng(0)
    w0 = rng.normal(0, 0.1, (10, 64))
    b0 = rng.normal(0, 0.1, 10)
    batches = [rng.choice(len(y), BATCH, replace=False) for _ in range(STEPS)]
    return x, y, w0, b0, batches


def numpy_run(problem, make):
    x, y, w0, b0, batches = problem
    w, b = w0.copy(), b0.copy()
    opt = make([w, b])
    trace = []
    for idx in batches:
        _, dlogits = cross_entropy(linear(x[idx], w, b), y[idx])
        _, dw, db = linear_backward(dlogits, x[idx], w)
        opt.step([dw, db])
        trace.append(w.copy())
    return np.stack(trace)


def torch_run(problem, make):
    x, y, w0, b0, batches = problem
    w = torch.tensor(w0, requires_grad=True)
    b = torch.tensor(b0, requires_grad=True)
    opt = make([w, b])
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    trace = []
    for idx in batches:
        idx = torch.from_numpy(idx)
        loss = torch.nn.functional.cross_entropy(xt[idx] @ w.T + b, yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        trace.append(w.detach().numpy().copy())
    return np.stack(trace)


CASES = {
    "sgd": (lambda p: SGD(p, lr=0.5), lambda p: torch.optim.SGD(p, lr=0.5)),
    "sgd momentum + weight decay": (
        lambda p: SGD(p, lr=0.2, momentum=0.9, weight_decay=1e-2),
        lambda p: torch.optim.SGD(p, lr=0.2, momentum=0.9, weight_decay=1e-2),
    ),
    "sgd nesterov + dampening-free": (
        lambda p: SGD(p, lr=0.1, momentum=0.8, nesterov=True, weight_decay=1e-3),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True, weight_decay=1e-3),
    ),
    "sgd dampening": (
        lambda p: SGD(p, lr=0.2, momentum=0.5, dampening=0.3),
        lambda p: torch.optim.SGD(p, lr=0.2, momentum=0.5, dampening=0.3),
    ),
    "adam": (lambda p: Adam(p, lr=0.05), lambda p: torch.optim.Adam(p, lr=0.05)),
    "adam betas + eps": (
        lambda p: Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6),
        lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6),
    ),
    "adamw": (
        lambda p: Adam(p, lr=0.05, weight_decay=0.1),
        lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.1),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_same_weights_as_torch_optim_at_every_step(problem, case):
    ours, theirs = CASES[case]
    a, b = numpy_run(problem, ours), torch_run(problem, theirs)
    assert np.abs(a - b).max() < 1e-12
    assert np.abs(a[-1] - problem[2]).max() > 0.05  # the weights did move


def test_momentum_and_adam_differ_from_plain_sgd(problem):
    plain = numpy_run(problem, lambda p: SGD(p, lr=0.2))
    heavy = numpy_run(problem, lambda p: SGD(p, lr=0.2, momentum=0.9))
    adam = numpy_run(problem, lambda p: Adam(p, lr=0.2))
    assert np.abs(plain[-1] - heavy[-1]).max() > 1e-2
    assert np.abs(plain[-1] - adam[-1]).max() > 1e-2


def test_gradient_descent_reaches_the_least_squares_solution():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=50)
    w = np.zeros(3)
    opt = SGD([w], lr=0.1, momentum=0.5)
    for _ in range(500):
        opt.step([2 * x.T @ (x @ w - y) / len(y)])
    assert np.allclose(w, np.linalg.lstsq(x, y, rcond=None)[0], atol=1e-10)


def test_updates_happen_in_place_and_count_steps():
    w = np.ones(2)
    opt = Adam([w], lr=0.1)
    opt.step([np.ones(2)])
    opt.step([np.ones(2)])
    assert opt.t == 2 and w is opt.params[0] and np.all(w < 1)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: SGD([np.ones(2)], lr=0), ValueError, "`lr`"),
        (lambda: SGD([np.ones(2)], lr=0.1, momentum=1.0), ValueError, "`momentum`"),
        (lambda: SGD([np.ones(2)], lr="fast"), TypeError, "`lr`"),
        (lambda: SGD([], lr=0.1), ValueError, "`params`"),
        (lambda: SGD([[1.0, 2.0]], lr=0.1), TypeError, r"`params\[0\]`"),
        (lambda: SGD([np.ones(2)], lr=0.1, nesterov=True), ValueError, "Nesterov"),
        (lambda: Adam([np.ones(2)], betas=(0.9,)), TypeError, "`betas`"),
        (lambda: Adam([np.ones(2)], betas=(0.9, 1.0)), ValueError, r"`betas\[1\]`"),
        (lambda: Adam([np.ones(2)], weight_decay=-1), ValueError, "`weight_decay`"),
    ],
)
def test_bad_arguments_are_named(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_gradient_of_the_wrong_shape_is_named():
    opt = SGD([np.ones(2), np.ones(3)], lr=0.1)
    with pytest.raises(ValueError, match=r"`grads\[1\]`"):
        opt.step([np.ones(2), np.ones(2)])
    with pytest.raises(ValueError, match="`grads` has 1"):
        opt.step([np.ones(2)])


def test_sgd_class_and_function_take_the_same_steps(problem):
    """The class is the function with its state kept: the same weights, bit for bit."""
    x, y, w0, b0, batches = problem
    w, b = w0.copy(), b0.copy()
    opt = SGD([w, b], lr=0.2, momentum=0.9, weight_decay=1e-2)
    params, velocities = [w0.copy(), b0.copy()], None
    for idx in batches[:10]:
        for weights, step in (((w, b), opt.step), (params, None)):
            _, dlogits = cross_entropy(linear(x[idx], weights[0], weights[1]), y[idx])
            _, dw, db = linear_backward(dlogits, x[idx], weights[0])
            if step is not None:
                step([dw, db])
            else:
                params, velocities = sgd(
                    params, [dw, db], velocities, lr=0.2, momentum=0.9, weight_decay=1e-2
                )
    assert np.array_equal(w, params[0]) and np.array_equal(b, params[1])
    assert np.array_equal(opt.velocity[0], velocities[0])


def test_velocity_does_not_alias_the_callers_gradient():
    w, g = np.zeros(2), np.ones(2)
    opt = SGD([w], lr=1.0, momentum=0.9)
    opt.step([g])
    g[:] = 100.0  # a caller reusing its gradient buffer
    opt.step([np.zeros(2)])
    assert np.allclose(w, [-1.9, -1.9])
