"""Pre-activation blocks and the normalisation variants, against layers composed by hand and
torch.nn.functional's normalisations."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cvlib.models import BasicBlock, NormCNN, PreActBlock, norm_layer, preact_small, resnet_small


def zero_convs(module):
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.zeros_(m.weight)
    return module


def test_preact_block_is_bn_relu_conv_twice_plus_x():
    torch.manual_seed(0)
    block = PreActBlock(8, 8).eval()
    x = torch.randn(2, 8, 6, 6)
    by_hand = block.conv2(F.relu(block.bn2(block.conv1(F.relu(block.bn1(x)))))) + x
    torch.testing.assert_close(block(x), by_hand)


def test_the_preact_shortcut_is_a_clean_identity():
    torch.manual_seed(0)
    x = torch.randn(3, 16, 8, 8, requires_grad=True)  # negative values too
    stack = zero_convs(nn.Sequential(*[PreActBlock(16, 16) for _ in range(5)])).eval()
    post = zero_convs(nn.Sequential(*[BasicBlock(16, 16) for _ in range(5)])).eval()
    torch.testing.assert_close(stack(x), x)  # x_L = x_0 + sum F_i, every F_i = 0 here
    torch.testing.assert_close(post(x), F.relu(x))  # the ReLU after each addition clips x
    (grad,) = torch.autograd.grad(stack(x).sum(), x)
    torch.testing.assert_close(grad, torch.ones_like(x))  # the gradient reaches x untouched


def test_preact_block_changes_shape_with_zeros_or_a_projection():
    x = torch.randn(2, 16, 8, 8)
    zeros = zero_convs(PreActBlock(16, 32, stride=2)).eval()
    out = zeros(x)
    assert out.shape == (2, 32, 4, 4)
    torch.testing.assert_close(out[:, :16], x[:, :, ::2, ::2])  # option A: subsample, pad
    assert out[:, 16:].abs().max() == 0
    projection = PreActBlock(16, 32, stride=2, shortcut="projection")
    assert projection.shortcut.stride == (2, 2) and projection.shortcut.kernel_size == (1, 1)
    assert projection(x).shape == (2, 32, 4, 4)
    with pytest.raises(ValueError, match="shortcut"):
        PreActBlock(16, 32, shortcut="identity")


def test_preact_small_matches_resnet_small_in_size():
    pre, post = preact_small(20, in_channels=1), resnet_small(20, in_channels=1)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(pre) == count(post) == 269_722 - 2 * 9 * 16  # one input channel, not three
    assert pre(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    assert all(isinstance(b, PreActBlock) for b in pre.stage2)


@pytest.mark.parametrize("groups", [1, 2, 4, 8])
def test_group_and_layer_norm_equal_functional_definitions(groups):
    torch.manual_seed(0)
    x = torch.randn(3, 8, 5, 5) * 3 + 1
    kind = {1: "layer", 8: "instance"}.get(groups, "group")
    layer = norm_layer(kind, 8, groups=groups)
    xg = x.reshape(3, groups, -1)  # statistics per sample and group
    by_hand = (xg - xg.mean(-1, keepdim=True)) / torch.sqrt(
        xg.var(-1, unbiased=False, keepdim=True) + 1e-5
    )
    torch.testing.assert_close(layer(x), by_hand.reshape(x.shape), atol=1e-5, rtol=1e-5)
    if groups == 1:
        torch.testing.assert_close(layer(x), F.layer_norm(x, x.shape[1:]), atol=1e-5, rtol=1e-5)


def test_batch_norm_statistics_are_per_channel_over_n_h_w():
    x = torch.randn(4, 3, 5, 5) * torch.tensor([1.0, 5.0, 0.1])[:, None, None]
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    torch.testing.assert_close(norm_layer("batch", 3)(x), (x - mean) / torch.sqrt(var + 1e-5))


def test_norm_cnn_layers_and_bias():
    for kind, expected in (
        ("batch", nn.BatchNorm2d),
        ("group", nn.GroupNorm),
        ("none", nn.Identity),
    ):
        model = NormCNN(kind)
        norms = [m for m in model.features if isinstance(m, expected)]
        convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
        assert len(norms) == 3 and all((c.bias is not None) == (kind == "none") for c in convs)
    assert sum(p.numel() for p in NormCNN("layer").parameters()) == 24_058
    with pytest.raises(ValueError, match="kind"):
        norm_layer("weight", 8)
    with pytest.raises(ValueError, match="groups"):
        norm_layer("group", 6, groups=4)
