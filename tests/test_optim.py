"""cvlib.optim.sgd against torch.optim.SGD: the same parameters and gradients, several steps."""

from typing import NamedTuple

import numpy as np
import pytest
import torch

from cvlib.gradcheck import rel_error
from cvlib.optim import sgd

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
def test_bad_arguments_are_named(kwargs, error, match):
    args = dict(params=[np.ones(3)], grads=[np.ones(3)], lr=0.1)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        sgd(**args)
