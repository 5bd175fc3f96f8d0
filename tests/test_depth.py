"""Tests for cvlib.depth: gradient and activation probes, the deep MLP, the depth runs."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cvlib.depth import (
    activation_stats,
    deep_mlp,
    depth_experiment,
    depth_run,
    first_layer_grad_norm,
    gradient_norms,
)
from cvlib.models import plain_small, resnet_small
from cvlib.train import set_seed


def _batch(n=32, features=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)


def test_gradient_norms_match_autograd():
    x, y = _batch()
    set_seed(0)
    net = deep_mlp(4)
    norms = gradient_norms(net, x, y)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    grads = torch.autograd.grad(F.cross_entropy(net(x), y), [m.weight for m in linears])
    assert [name for name, _ in norms] == ["1", "3", "5", "7"]
    for (_, value), g in zip(norms, grads, strict=True):
        assert value == pytest.approx(g.norm().item(), rel=1e-5)
    assert first_layer_grad_norm(net, x, y) == pytest.approx(norms[0][1])


def test_activation_stats_match_direct_computation():
    x, _ = _batch()
    set_seed(0)
    net = deep_mlp(3, activation="tanh", init="xavier")
    stats = activation_stats(net, x, after=nn.Tanh)
    h1 = torch.tanh(net[1](net[0](x)))
    h2 = torch.tanh(net[3](h1))
    assert [s[0] for s in stats] == ["2", "4"]
    assert stats[0][1] == pytest.approx(h1.mean().item(), abs=1e-6)
    assert stats[1][2] == pytest.approx(h2.std().item(), rel=1e-5)


def test_deep_mlp_init_scales():
    set_seed(0)
    net = deep_mlp(3, in_features=400, width=400, init="kaiming")
    std = net[1].weight.std().item()
    assert std == pytest.approx((2 / 400) ** 0.5, rel=0.05)
    set_seed(0)
    small = deep_mlp(3, in_features=400, width=400, init="small")
    assert small[1].weight.std().item() == pytest.approx(0.01, rel=0.05)


def test_vanishing_and_stable_signals():
    x, y = _batch(64)
    set_seed(0)
    vanishing = gradient_norms(deep_mlp(20, activation="tanh", init="small"), x, y)
    set_seed(0)
    stable = gradient_norms(deep_mlp(20, activation="relu", init="kaiming"), x, y)
    assert vanishing[0][1] < 1e-10 < stable[0][1]
    assert 0.1 < stable[0][1] / stable[-1][1] < 10


def test_batch_norm_restores_unit_scale():
    x, _ = _batch(64)
    set_seed(0)
    net = deep_mlp(10, init="small", batch_norm=True)
    stats = activation_stats(net, x, after=nn.BatchNorm1d)
    assert all(abs(s[2] - 1) < 0.05 for s in stats)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"depth": 1}, "`depth`"),
        ({"depth": 3, "activation": "gelu"}, "`activation`"),
        ({"depth": 3, "init": "orthogonal"}, "`init`"),
    ],
)
def test_deep_mlp_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        deep_mlp(**kwargs)


def test_gradient_norms_rejects_mismatched_batch():
    x, y = _batch(8)
    with pytest.raises(ValueError, match="`labels`"):
        gradient_norms(deep_mlp(3), x, y[:5])
    with pytest.raises(TypeError, match="`model`"):
        gradient_norms("net", x, y)


def test_depth_run_records_every_epoch_and_learns():
    x, y = _batch(128)
    y = (x.mean(dim=(1, 2, 3)) > x.mean()).long()  # learnable: bright vs dark
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    set_seed(0)
    run = depth_run(resnet_small(8, in_channels=1), loader, loader, (x, y), epochs=3, lr=3e-3)
    assert len(run.train_acc) == len(run.test_acc) == 3 and len(run.grad_norm) == 4
    assert run.train_loss[-1] < run.train_loss[0]


def test_depth_experiment_pairs_residual_and_plain():
    x, y = _batch(64)
    loader = DataLoader(TensorDataset(x, y), batch_size=32)
    runs = depth_experiment(loader, loader, depths=(8,), epochs=1)
    assert [(r.name, r.depth) for r in runs] == [("resnet_small", 8), ("plain_small", 8)]
    set_seed(0)
    plain = plain_small(8, in_channels=1)
    assert runs[1].grad_norm[0] == pytest.approx(first_layer_grad_norm(plain, x, y), rel=1e-5)
