"""cvlib.probes: per-layer gradient and activation statistics, feature maps, attribution.

References: autograd's gradients, the layers applied by hand, Grad-CAM computed by splitting the
network at the layer by hand.
"""

import pytest
import torch
import torch.nn.functional as F
from model_helpers import tiny_cnn
from torch import nn

from cvlib import probes
from cvlib.models import deep_mlp
from cvlib.probes import activation_stats, first_layer_grad_norm, gradient_norms
from cvlib.train import set_seed


def _batch(n=32, seed=0):
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
    assert net.training  # the mode it came in


def test_gradient_norms_rejects_mismatched_batch():
    x, y = _batch(8)
    with pytest.raises(ValueError, match="`labels`"):
        gradient_norms(deep_mlp(3), x, y[:5])
    with pytest.raises(TypeError, match="`model`"):
        gradient_norms("net", x, y)


def test_feature_maps_equal_the_layers_applied_by_hand():
    model = tiny_cnn()
    image = torch.rand(3, 16, 16)
    maps = probes.feature_maps(model, image, "3")
    assert maps.shape == (8, 8, 8)
    expected = model[3](model[2](model[1](model[0](image[None]))))[0]
    torch.testing.assert_close(maps, expected.detach())
    with pytest.raises(ValueError, match="layer"):
        probes.feature_maps(model, image, "nope")


def test_saliency_matches_gradient():
    model = tiny_cnn()
    image = torch.rand(3, 16, 16)
    sal = probes.saliency(model, image, target=1)
    assert sal.shape == (16, 16)
    assert (sal >= 0).all()
    x = image[None].clone().requires_grad_(True)
    model(x)[0, 1].backward()
    torch.testing.assert_close(sal, x.grad[0].abs().amax(dim=0))


def test_grad_cam_shape_range_and_reference():
    model = tiny_cnn()
    image = torch.rand(3, 16, 16)
    cam = probes.grad_cam(model, image, "3", target=2)
    assert cam.shape == (16, 16)
    assert (cam >= 0).all() and cam.max() <= 1.0 + 1e-6
    # Reference by hand: split the model at layer 3 and differentiate the head.
    a = model[:4](image[None]).detach().requires_grad_(True)  # (1, 8, 8, 8)
    model[4:](a)[0, 2].backward()
    raw = torch.relu((a.grad.mean(dim=(2, 3), keepdim=True) * a).sum(dim=1, keepdim=True))
    ref = torch.nn.functional.interpolate(raw, size=(16, 16), mode="bilinear")[0, 0]
    if ref.max() > 0:
        ref = ref / ref.max()
    torch.testing.assert_close(cam, ref.detach())
    assert model.training  # the mode is restored
