"""cvlib.nn (the numpy core inside autograd) against torch.nn: outputs, gradients, training."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import cvlib.nn as cnn

CONV_CASES = [
    dict(in_channels=3, out_channels=4, kernel_size=3),
    dict(in_channels=2, out_channels=5, kernel_size=(3, 2), stride=2, padding=1),
    dict(in_channels=3, out_channels=2, kernel_size=3, stride=(2, 1), padding=(2, 0), dilation=2),
    dict(in_channels=2, out_channels=3, kernel_size=4, padding="same"),  # even kernel: odd pad
    dict(in_channels=2, out_channels=3, kernel_size=5, stride=3, bias=False),
]


def _pair_of_convs(kwargs):
    torch.manual_seed(0)
    ours = cnn.Conv2d(**kwargs, dtype=torch.float64)
    ref = nn.Conv2d(**kwargs, dtype=torch.float64)
    ref.load_state_dict(ours.state_dict(), strict=True)  # same names, moves both ways
    return ours, ref


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize("kwargs", CONV_CASES)
def test_conv_matches_torch_forward_and_backward(kwargs):
    ours, ref = _pair_of_convs(kwargs)
    x = torch.randn(2, kwargs["in_channels"], 11, 9, dtype=torch.float64, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    out, out_ref = ours(x), ref(x_ref)
    torch.testing.assert_close(out, out_ref, rtol=1e-10, atol=1e-10)
    dout = torch.randn_like(out)
    out.backward(dout)
    out_ref.backward(dout)
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad, rtol=1e-10, atol=1e-10)
    if ref.bias is not None:
        torch.testing.assert_close(ours.bias.grad, ref.bias.grad, rtol=1e-10, atol=1e-10)


def test_conv_keeps_float32_and_unbatched_input():
    torch.manual_seed(0)
    ours = cnn.Conv2d(3, 4, 3, padding=1)
    ref = nn.Conv2d(3, 4, 3, padding=1)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(3, 8, 8)
    out = ours(x)
    assert out.dtype == torch.float32 and out.shape == (4, 8, 8)
    torch.testing.assert_close(out, ref(x), rtol=1e-5, atol=1e-5)


def test_conv_same_init_and_state_dict_as_torch():
    torch.manual_seed(3)
    ours = cnn.Conv2d(3, 4, 5)
    torch.manual_seed(3)
    ref = nn.Conv2d(3, 4, 5)
    assert ours.state_dict().keys() == ref.state_dict().keys()
    for k in ref.state_dict():
        torch.testing.assert_close(ours.state_dict()[k], ref.state_dict()[k], rtol=0, atol=0)
    assert repr(ours) == repr(ref)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_size=2),
        dict(kernel_size=3, stride=2),  # overlapping windows
        dict(kernel_size=3, stride=1, padding=1),
        dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)),
    ],
)
def test_max_pool_matches_torch(kwargs):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 9, 8, dtype=torch.float64, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    out, out_ref = cnn.MaxPool2d(**kwargs)(x), nn.MaxPool2d(**kwargs)(x_ref)
    torch.testing.assert_close(out, out_ref, rtol=0, atol=0)
    dout = torch.randn_like(out)
    out.backward(dout)
    out_ref.backward(dout)
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-12, atol=1e-12)


def test_gradcheck_conv_and_pool():
    torch.manual_seed(0)
    x = torch.randn(1, 2, 6, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda x, w, b: cnn.Conv2dFunction.apply(x, w, b, (2, 1), (1, 1), (1, 1)), (x, w, b)
    )
    assert torch.autograd.gradcheck(lambda x: cnn.MaxPool2dFunction.apply(x, 3, 2, 1), (x,))


def test_unsupported_options_raise():
    with pytest.raises(ValueError, match="`groups`"):
        cnn.Conv2d(4, 4, 3, groups=2)
    with pytest.raises(ValueError, match="`padding_mode`"):
        cnn.Conv2d(4, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="`ceil_mode`"):
        cnn.MaxPool2d(2, ceil_mode=True)


def _tiny_net(conv, pool):
    return nn.Sequential(
        conv(1, 4, 3, padding=1),  # (N, 4, 8, 8)
        nn.ReLU(),
        pool(2),  # (N, 4, 4, 4)
        conv(4, 8, 3),  # (N, 8, 2, 2)
        nn.ReLU(),
        nn.Flatten(),  # (N, 32)
        nn.Linear(32, 3),  # (N, 3)
    )


def _train(model, x, y, steps=20):
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_tiny_network_trains_like_torch():
    torch.manual_seed(0)
    ours = _tiny_net(cnn.Conv2d, cnn.MaxPool2d)
    ref = _tiny_net(nn.Conv2d, nn.MaxPool2d)
    ref.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(16, 1, 8, 8)
    y = torch.randint(0, 3, (16,))
    losses, ref_losses = _train(ours, x, y), _train(ref, x, y)
    assert losses[-1] < 0.5 * losses[0]  # it learns the fixed batch
    torch.testing.assert_close(losses, ref_losses, rtol=1e-3, atol=1e-4)  # as torch.nn does
