"""cvlib.summary: rows checked by hand on the lecture's quiz network and LeNet-5, totals, nesting.

The lecture's quiz (3x100x100 -> 32 5x5 conv -> 3x3 pool -> 64 5x5 conv -> 3x3 pool -> dense 512
-> 512 -> 4) asks four questions; the hand computations are written next to each check.
"""

import pytest
import torch
import torchvision.models as tvm
from torch import nn

import cvlib
import cvlib.models as cm
from cvlib.probes import summary


@pytest.fixture(scope="module")
def quiz():
    return summary(cm.lecture_cnn(), (3, 100, 100))


def test_quiz_shapes(quiz):
    # 3x100x100 -> conv 5x5 (no padding): 100 - 5 + 1 = 96 -> 32x96x96
    # -> pool 3x3, stride 3: floor(96 / 3) = 32 -> 32x32x32
    # -> conv 5x5: 32 - 5 + 1 = 28 -> 64x28x28
    # -> pool 3x3, stride 3: floor(28 / 3) = 9 -> 64x9x9   (quiz question 1)
    assert quiz["features.0"].output_shape == (32, 96, 96)
    assert quiz["features.2"].output_shape == (32, 32, 32)
    assert quiz["features.3"].output_shape == (64, 28, 28)
    assert quiz["features.5"].output_shape == (64, 9, 9)
    assert quiz["flatten"].output_shape == (64 * 9 * 9,)
    assert [quiz[f"classifier.{i}"].output_shape for i in (0, 2, 4)] == [(512,), (512,), (4,)]


def test_quiz_receptive_field(quiz):
    # Quiz question 2: how many input pixels does one cell after the second conv see?
    # (r, j) = (receptive field, jump); a layer with kernel k, stride s: r += (k - 1) * j; j *= s.
    # conv1 5x5/1: r = 1 + 4*1 = 5,  j = 1
    # pool  3x3/3: r = 5 + 2*1 = 7,  j = 3
    # conv2 5x5/1: r = 7 + 4*3 = 19, j = 3   -> 19x19 = 361 pixels per channel (x3 channels)
    # The shortcut "5 + (5 - 1)*3 = 17" forgets that each pooled cell itself covers 3 conv1 cells:
    # conv2 spans 5 pooled cells = 15 conv1 cells, and 15 conv1 cells span 15 + 4 = 19 pixels.
    assert (quiz["features.0"].receptive_field, quiz["features.0"].jump) == (5, 1)
    assert (quiz["features.2"].receptive_field, quiz["features.2"].jump) == (7, 3)
    assert (quiz["features.3"].receptive_field, quiz["features.3"].jump) == (19, 3)
    assert (quiz["features.5"].receptive_field, quiz["features.5"].jump) == (25, 9)
    assert quiz["classifier.0"].receptive_field is None  # dense: sees the whole image


def test_receptive_field_matches_gradient_support():
    # Independent check: the input pixels with a nonzero gradient for one conv2 cell. Average
    # pools (same window as the quiz's max pools) so that every covered pixel gets gradient.
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 5), nn.AvgPool2d(3), nn.Conv2d(2, 1, 5))
    x = torch.randn(1, 1, 100, 100, requires_grad=True)
    net(x)[0, 0, 10, 10].backward()
    rows = x.grad[0, 0].abs().sum(1).nonzero()
    cols = x.grad[0, 0].abs().sum(0).nonzero()
    side = (rows.max() - rows.min() + 1).item(), (cols.max() - cols.min() + 1).item()
    assert side == (19, 19)
    assert summary(net, (1, 100, 100))["2"].receptive_field == 19


def test_quiz_cost_and_parameters(quiz):
    # Quiz question 3, multiply-adds (C_out * H_out * W_out * C_in * kH * kW):
    # conv1 = 32 * 96 * 96 * 3 * 25  = 22,118,400
    # conv2 = 64 * 28 * 28 * 32 * 25 = 40,140,800   <- costliest by multiply-adds
    # fc1   = 5184 * 512             =  2,654,208
    # The lecture answers "first conv": true for the size of its output (32*96*96 = 294,912
    # values, the most memory), not for arithmetic. The book discusses the two readings.
    assert quiz["features.0"].macs == 22_118_400
    assert quiz["features.3"].macs == 40_140_800
    assert quiz["classifier.0"].macs == 2_654_208
    assert quiz["classifier.2"].macs == 512 * 512
    assert max(quiz.rows, key=lambda r: r.macs).name == "features.3"
    biggest_output = max(quiz.rows, key=lambda r: torch.Size(r.output_shape).numel())
    assert biggest_output.name == "features.0"
    # Quiz question 4, parameters: first dense 5184*512 + 512 = 2,654,720 (lecture: first dense)
    # conv1 32*(3*25) + 32 = 2,432; conv2 64*(32*25) + 64 = 51,264; fc2 512*512 + 512 = 262,656
    assert quiz["classifier.0"].params == 2_654_720
    assert quiz["features.0"].params == 2_432
    assert quiz["features.3"].params == 51_264
    assert quiz["classifier.2"].params == 262_656
    assert max(quiz.rows, key=lambda r: r.params).name == "classifier.0"


def test_lenet_rows():
    s = summary(cm.lenet5(), (1, 32, 32))
    conv_rows = [r for r in s.rows if r.type in ("Conv2d", "MaxPool2d", "Linear")]
    got = [(r.output_shape, r.params, r.macs, r.receptive_field, r.jump) for r in conv_rows]
    assert got == [
        ((6, 28, 28), 156, 6 * 28 * 28 * 25, 5, 1),  # 117,600 MACs
        ((6, 14, 14), 0, 0, 6, 2),  # r = 5 + 1*1
        ((16, 10, 10), 2_416, 16 * 10 * 10 * 6 * 25, 14, 2),  # 240,000 MACs; r = 6 + 4*2
        ((16, 5, 5), 0, 0, 16, 4),  # r = 14 + 1*2
        ((120,), 48_120, 400 * 120, None, None),
        ((84,), 10_164, 120 * 84, None, None),
        ((10,), 850, 84 * 10, None, None),
    ]
    assert s.total_params == 61_706
    assert s.total_macs == 416_520


@pytest.mark.parametrize(
    "build, size",
    [
        (cm.lecture_cnn, (3, 100, 100)),
        (cm.resnet18, (3, 64, 64)),
        (lambda: cm.googlenet(aux_logits=True), (3, 64, 64)),  # aux heads do not run in eval mode
        (lambda: cm.plain_small(8), (3, 32, 32)),
    ],
)
def test_totals_are_sums(build, size):
    model = build()
    s = summary(model, size)
    assert s.total_params == sum(r.params for r in s.rows)
    assert s.total_params == sum(p.numel() for p in model.parameters())
    assert s.trainable_params == s.total_params
    assert s.total_macs == sum(r.macs for r in s.rows)


@pytest.mark.parametrize("name, gmacs", [("resnet18", 1.814), ("googlenet", 1.498)])
def test_imagenet_macs_match_published_figures(name, gmacs):
    # torchvision lists 1.814 "GFLOPS" for ResNet-18 (the widely cited 1.8 G of He et al.'s
    # Table 1), counting multiply-adds of conv and linear layers, as we do.
    s = summary(getattr(cm, name)(), (3, 224, 224))
    assert tvm.get_model_weights(name).IMAGENET1K_V1.meta["_ops"] == gmacs
    assert s.total_macs / 1e9 == pytest.approx(gmacs, abs=5e-4)


def test_nested_modules_and_branches():
    s = summary(cm.resnet18(), (3, 224, 224))
    names = [r.name for r in s.rows]
    assert "layer1.0.conv1" in names and "layer4.1.bn2" in names
    assert "layer1.0.relu#2" in names  # the block's ReLU is called twice
    # the shortcut projection starts from the block input (rf 43, jump 4), not from conv2
    assert s["layer2.0.conv2"].receptive_field == 67
    assert (s["layer2.0.downsample.0"].receptive_field, s["layer2.0.downsample.0"].jump) == (43, 8)
    assert s["layer4.1.conv2"].output_shape == (512, 7, 7)
    g = summary(cm.googlenet(), (3, 224, 224))
    branch_rows = [r for r in g.rows if r.name.startswith("inception3a.branch")]
    assert {r.name.split(".")[1] for r in branch_rows} == {f"branch{i}" for i in range(1, 5)}
    assert g["inception3a.branch2.1.conv"].output_shape == (128, 28, 28)


def test_print_and_modes_restored(capsys):
    model = cm.lenet5().train()
    s = cvlib.summary(model, (1, 32, 32))
    assert model.training and all(m.training for m in model.modules())
    print(s)
    out = capsys.readouterr().out
    assert "features.0" in out and "61,706" in out and "multiply-adds" in out
    assert repr(s) == str(s)


def test_bad_arguments():
    with pytest.raises(TypeError, match="`model`"):
        summary(lambda x: x, (1, 8, 8))
    with pytest.raises(TypeError, match="`input_size`"):
        summary(cm.lenet5(), 32)
    with pytest.raises(ValueError, match="`input_size`"):
        summary(cm.lenet5(), (1, 0, 32))
