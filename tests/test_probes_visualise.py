"""cvlib.probes.visualise: the optimised input against the closed-form optimum of a linear unit."""

import pytest
import torch
from torch import nn

from cvlib.probes.visualise import maximise_unit
from cvlib.train import ascend


def linear_unit(seed=0):
    """One output unit, w . x + b, over a whole 2 x 5 x 5 input (a convolution the input's size)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 3, 5))


@pytest.mark.parametrize("l2", [0.5, 2.0])
def test_linear_unit_reaches_the_closed_form_optimum(l2):
    # maximise w . x + b - l2 |x|^2: the gradient w - 2 l2 x vanishes at x = w / (2 l2)
    net = linear_unit()
    image, trace = maximise_unit(net, "0", 1, (2, 5, 5), steps=1500, lr=0.01, l2=l2)
    expected = net[0].weight[1].detach() / (2 * l2)  # (2, 5, 5)
    assert torch.allclose(image, expected, atol=1e-3 * float(expected.abs().max()) + 1e-4)
    assert trace[-1] > trace[0]


def test_position_picks_one_unit_of_the_map():
    # a 1 x 1 convolution: the unit at (2, 3) sees pixel (2, 3) only, so only it may move
    # (Adam's first step moves every pixel that has a gradient by about lr)
    net = nn.Sequential(nn.Conv2d(1, 2, 1))
    image, _ = maximise_unit(net, "0", 0, (1, 6, 6), position=(2, 3), steps=1, lr=0.5, l2=0.0)
    start, _ = maximise_unit(net, "0", 0, (1, 6, 6), position=(2, 3), steps=1, lr=1e-9, l2=0.0)
    moved = (image - start).abs() > 0.25
    assert moved.sum() == 1 and moved[0, 2, 3]


def test_layer_before_an_inplace_relu_keeps_its_negative_values():
    # the unit before ReLU(inplace=True) starts negative; its gradient must still reach the input
    net = nn.Sequential(nn.Conv2d(1, 1, 3), nn.ReLU(inplace=True))
    with torch.no_grad():
        net[0].weight.fill_(1.0)
        net[0].bias.fill_(-5.0)
    _, trace = maximise_unit(net, "0", 0, (1, 3, 3), steps=50, lr=0.1, l2=0.0)
    assert trace[0] < -4 and trace[-1] > trace[0] + 10


def test_weights_unchanged_and_without_gradients():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 3))
    before = [p.detach().clone() for p in net.parameters()]
    maximise_unit(net, "2", 1, (1, 12, 12), steps=10, jitter=2, blur_every=3)
    for p, q in zip(net.parameters(), before, strict=True):
        assert torch.equal(p, q) and p.grad is None


def test_blur_and_jitter_smooth_the_result():
    # a random first layer rewards checkerboards; blurring every step keeps neighbours alike
    torch.manual_seed(3)
    net = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Conv2d(8, 1, 3))

    def roughness(img):
        return float((img[:, 1:] - img[:, :-1]).abs().mean() / img.abs().mean())

    raw, _ = maximise_unit(net, "2", 0, (1, 16, 16), steps=60, lr=0.05)
    smooth, _ = maximise_unit(net, "2", 0, (1, 16, 16), steps=60, lr=0.05, jitter=1, blur_every=1)
    assert roughness(smooth) < roughness(raw)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"layer": "9"}, "layer"),
        ({"channel": 7}, "channel"),
        ({"position": (9, 0)}, "position"),
        ({"steps": 0}, "steps"),
        ({"jitter": -1}, "jitter"),
        ({"input_size": (5, 5)}, "input_size"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, name):
    args = {"model": linear_unit(), "layer": "0", "channel": 0, "input_size": (2, 5, 5), "steps": 2}
    with pytest.raises(ValueError, match=name):
        maximise_unit(**{**args, **kwargs})


def test_ascend_takes_the_steps_of_torch_adam():
    # the numpy Adam on a view of x against torch.optim.Adam on a copy, same objective
    target = torch.tensor([0.5, -2.0, 3.0])
    x, y = torch.zeros(3), torch.zeros(3, requires_grad=True)
    ascend(x, lambda v: -(v - target).pow(4).sum(), steps=25, lr=0.1)
    optimizer = torch.optim.Adam([y], lr=0.1)
    for _ in range(25):
        optimizer.zero_grad()
        (y - target).pow(4).sum().backward()
        optimizer.step()
    assert torch.allclose(x, y.detach(), atol=1e-6)
