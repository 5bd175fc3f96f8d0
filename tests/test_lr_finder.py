"""cvlib.train.lr_finder against a loop written with torch's ExponentialLR scheduler."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from cvlib.train.lr_finder import LRFinder, lr_find


def toy_problem(seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 6, generator=gen)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()  # three classes
    data = [(x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]  # 4 batches, cycled
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)), data


def reference_losses(model, data, start, end, steps):
    model = copy.deepcopy(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=start)
    gamma = (end / start) ** (1 / (steps - 1))
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma)
    losses, rates = [], []
    for i in range(steps):
        images, labels = data[i % len(data)]
        rates.append(optimizer.param_groups[0]["lr"])
        loss = nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return np.array(rates), np.array(losses)


def test_losses_and_rates_match_a_scheduled_loop_and_weights_come_back():
    model, data = toy_problem()
    before = copy.deepcopy(model.state_dict())
    found = lr_find(model, data, start_lr=1e-3, end_lr=1.0, steps=30, diverge=1e9)
    rates, losses = reference_losses(model, data, 1e-3, 1.0, 30)
    assert np.allclose(found.lrs, rates, rtol=1e-12)
    assert np.allclose(found.losses, losses, rtol=1e-5)
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_smoothing_is_a_bias_corrected_moving_average():
    model, data = toy_problem(1)
    found = lr_find(model, data, start_lr=1e-3, end_lr=0.1, steps=12, beta=0.8, diverge=1e9)
    weights = 0.2 * 0.8 ** np.arange(12)[::-1]  # weight of each loss in the last average
    assert found.smoothed[-1] == pytest.approx(np.sum(weights * found.losses) / weights.sum())
    assert found.smoothed[0] == pytest.approx(found.losses[0])


def test_stops_once_the_loss_explodes():
    model, data = toy_problem(2)
    found = lr_find(model, data, start_lr=1e-2, end_lr=1e4, steps=100)
    assert len(found.losses) < 100
    assert found.smoothed[-1] > 4 * found.smoothed.min()


def test_steepest_and_minimum_on_a_known_curve():
    lrs = np.geomspace(1e-4, 1, 41)
    smooth = 2 - np.tanh(np.log10(lrs) + 2) + np.where(lrs > 0.1, 50 * (lrs - 0.1), 0)
    found = LRFinder(lrs, smooth, smooth)
    assert found.steepest == pytest.approx(1e-2)  # the tanh falls fastest at log10 lr = -2
    assert 0.1 <= found.minimum <= 0.13
    # a steeper fall after the minimum (a diverging curve can drop again) does not count
    bumpy = smooth.copy()
    bumpy[-3:] = [80.0, 20.0, 10.0]
    assert LRFinder(lrs, bumpy, bumpy).steepest == pytest.approx(1e-2)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"start_lr": 0.0}, "start_lr"),
        ({"start_lr": 1.0, "end_lr": 0.1}, "end_lr"),
        ({"steps": 1}, "steps"),
        ({"beta": 1.0}, "beta"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, name):
    model, data = toy_problem()
    with pytest.raises(ValueError, match=name):
        lr_find(model, data, **kwargs)


def test_loader_must_iterate():
    with pytest.raises(TypeError, match="loader"):
        lr_find(nn.Linear(2, 2), 3)
