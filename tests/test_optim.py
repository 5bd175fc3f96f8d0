"""cvlib.optim against torch.optim: the same problem, the same start, the same mini-batches.

The problem is softmax regression on the 8x8 digits, with the numpy gradient of
``cvlib.layers`` on one side and autograd on the other, in float64 so that the two sequences of
weights agree to rounding after every step.
"""

import numpy as np
import pytest
import torch

from cvlib.data import digits
from cvlib.layers import cross_entropy, linear, linear_backward
from cvlib.optim import SGD, Adam

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
