"""cvlib.models against torchvision: same state_dict keys (strict loading), outputs and sizes."""

import urllib.error

import pytest
import torch
import torchvision.models as tvm
from torch import nn

import cvlib.models as cm
from cvlib.models import _hub


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def assert_same_network(ours, theirs, size, num_classes=1000):
    """Load torchvision's weights into ours (strict) and compare outputs on a random batch."""
    ours.load_state_dict(theirs.state_dict(), strict=True)
    assert n_params(ours) == n_params(theirs)
    ours.eval()
    theirs.eval()
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        out, ref = ours(x), theirs(x)
    assert out.shape == (2, num_classes)
    torch.testing.assert_close(out, ref)


def _randomise_bn(model):
    """Give batch-norm layers non-trivial statistics so eval-mode comparisons test them."""
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return model


FAST = ["resnet18", "resnet50", "alexnet", "vgg11"]
SLOW = [
    "resnet34",
    "resnet101",
    "resnet152",
    "vgg11_bn",
    "vgg13",
    "vgg16",
    "vgg19",
    "vgg13_bn",
    "vgg16_bn",
    "vgg19_bn",
]


def _input_size(name):
    return 32 if name.startswith("vgg") else 64  # small inputs: AlexNet needs >= 63


def _check_arch(name):
    torch.manual_seed(0)
    theirs = _randomise_bn(getattr(tvm, name)(weights=None, num_classes=7))
    ours = getattr(cm, name)(num_classes=7)
    assert_same_network(ours, theirs, _input_size(name), num_classes=7)


def _published_params(name):
    return tvm.get_model_weights(name).IMAGENET1K_V1.meta["num_params"]


@pytest.mark.parametrize("name", FAST)
def test_matches_torchvision(name):
    _check_arch(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_matches_torchvision_large(name):
    _check_arch(name)


@pytest.mark.parametrize("name", ["alexnet", "resnet18", "resnet50", "googlenet"])
def test_imagenet_parameter_counts(name):
    assert n_params(getattr(cm, name)()) == _published_params(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vgg11", "vgg16_bn", "vgg19", "resnet34", "resnet152"])
def test_imagenet_parameter_counts_large(name):
    assert n_params(getattr(cm, name)()) == _published_params(name)


@pytest.mark.parametrize("aux_logits", [False, True])
def test_googlenet_matches_torchvision(aux_logits):
    torch.manual_seed(0)
    theirs = _randomise_bn(tvm.GoogLeNet(num_classes=5, aux_logits=aux_logits, init_weights=False))
    ours = cm.googlenet(num_classes=5, aux_logits=aux_logits)
    assert_same_network(ours, theirs, 64, num_classes=5)


def test_googlenet_aux_heads_in_training_mode():
    torch.manual_seed(0)
    kw = dict(num_classes=5, aux_logits=True, dropout=0.0, dropout_aux=0.0)
    theirs = tvm.GoogLeNet(init_weights=False, **kw).train()
    ours = cm.googlenet(**kw).train()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    out, ref = ours(x), theirs(x)
    assert len(out) == 3
    for a, b in zip(out, ref, strict=True):  # (logits, aux2, aux1) in both
        torch.testing.assert_close(a, b)


def test_inception_output_channels():
    block = cm.Inception(192, 64, 96, 128, 16, 32, 32)
    assert block(torch.zeros(1, 192, 7, 7)).shape == (1, 64 + 128 + 32 + 32, 7, 7)


def test_resnet_v15_stride_in_3x3():
    block = cm.resnet50().layer2[0]
    assert block.conv1.stride == (1, 1) and block.conv2.stride == (2, 2)


# --- weights= : downloads are simulated; the tests never reach the network ---------------------


def test_weights_offline_gives_clear_error(monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(RuntimeError) as info:
        cm.resnet18(weights="IMAGENET1K_V1")
    message = str(info.value)
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in message
    assert "resnet18-f37072fd.pth" in message.split("copy it to")[1]
    assert "offline" in message


def test_weights_loaded_from_hub(monkeypatch):
    torch.manual_seed(0)
    reference = _randomise_bn(tvm.resnet18(weights=None)).eval()
    calls = []

    def fake_download(url, **kwargs):
        calls.append(url)
        return reference.state_dict()

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", fake_download)
    model = cm.resnet18(weights=True).eval()
    assert calls == ["https://download.pytorch.org/models/resnet18-f37072fd.pth"]
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x))


def test_googlenet_weights_drop_aux_and_transform_input(monkeypatch):
    torch.manual_seed(0)
    source = tvm.GoogLeNet(aux_logits=True, init_weights=False)
    monkeypatch.setattr(
        torch.hub, "load_state_dict_from_url", lambda url, **kw: source.state_dict()
    )
    model = cm.googlenet(weights="IMAGENET1K_V1").eval()
    assert model.aux1 is None and model.aux2 is None and model.transform_input
    reference = tvm.GoogLeNet(aux_logits=False, transform_input=True, init_weights=False).eval()
    reference.load_state_dict(source.state_dict(), strict=False)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x))


@pytest.mark.parametrize("weights", ["imagenet", "IMAGENET1K_V2", 1.0])
def test_bad_weights_argument(weights):
    with pytest.raises(ValueError, match="`weights`"):
        cm.resnet18(weights=weights)


def test_weights_need_1000_classes():
    with pytest.raises(ValueError, match="`num_classes`"):
        cm.alexnet(num_classes=10, weights=True)


def test_every_weight_file_is_torchvisions():
    for arch, filename in _hub.WEIGHT_FILES.items():
        assert tvm.get_model_weights(arch).IMAGENET1K_V1.url.endswith("/" + filename)


# --- small course networks ---------------------------------------------------------------------


def test_lenet5_parameters_and_shape():
    for activation in ("relu", "tanh"):
        for pooling in ("max", "avg"):
            model = cm.lenet5(activation=activation, pooling=pooling)
            assert n_params(model) == 61_706
            assert model(torch.zeros(3, 1, 32, 32)).shape == (3, 10)
    with pytest.raises(ValueError, match="`activation`"):
        cm.lenet5(activation="sigmoid")


def test_lecture_cnn_shapes():
    model = cm.lecture_cnn()
    x = torch.zeros(2, 3, 100, 100)
    assert model.features[:3](x).shape == (2, 32, 32, 32)
    assert model.features(x).shape == (2, 64, 9, 9)
    assert model(x).shape == (2, 4)
    dense = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in dense] == [(5184, 512), (512, 512), (512, 4)]
    assert n_params(model) == 2_973_124


def _weighted_layers(model):
    return sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules())


@pytest.mark.parametrize("depth", [8, 20, 32])
def test_small_resnet_and_plain_twin(depth):
    torch.manual_seed(0)
    res, plain = cm.resnet_small(depth), cm.plain_small(depth)
    assert _weighted_layers(res) == _weighted_layers(plain) == depth
    assert n_params(res) == n_params(plain)
    plain.load_state_dict(res.state_dict(), strict=True)  # identical layers
    res.eval()
    plain.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert res(x).shape == plain(x).shape == (2, 10)
        assert not torch.allclose(res(x), plain(x))  # only the skips differ


def test_resnet20_size_matches_paper():
    assert 0.26e6 < n_params(cm.resnet_small(20)) < 0.28e6  # He et al. Table 6: 0.27M


def test_small_resnet_options_and_bad_depth():
    model = cm.resnet_small(14, num_classes=3, in_channels=1, width=8)
    assert model(torch.zeros(1, 1, 28, 28)).shape == (1, 3)
    for depth in (10, 5, 20.0):
        with pytest.raises(ValueError, match="`depth`"):
            cm.resnet_small(depth)


# --- the course's own networks ----------------------------------------------------------------


def test_deep_mlp_init_scales():
    torch.manual_seed(0)
    net = cm.deep_mlp(3, in_features=400, width=400, init="kaiming")
    assert net[1].weight.std().item() == pytest.approx((2 / 400) ** 0.5, rel=0.05)
    torch.manual_seed(0)
    small = cm.deep_mlp(3, in_features=400, width=400, init="small")
    assert small[1].weight.std().item() == pytest.approx(0.01, rel=0.05)
    torch.manual_seed(0)  # LeCun: sqrt(1/n_in); Glorot: sqrt(2/(n_in + n_out)) (wide -> narrow)
    lecun = cm.deep_mlp(2, in_features=900, width=100, init="lecun")
    glorot = cm.deep_mlp(2, in_features=900, width=100, init="xavier")
    assert lecun[1].weight.std().item() == pytest.approx((1 / 900) ** 0.5, rel=0.05)
    assert glorot[1].weight.std().item() == pytest.approx((2 / 1000) ** 0.5, rel=0.05)


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
        cm.deep_mlp(**kwargs)


def test_shapes_cnn_layers_match_course_cnn_except_the_pool():
    model, base = cm.ShapesCNN(), cm.CourseCNN(num_classes=3, in_channels=3)
    names = [n for n, _ in model.named_modules()]
    assert names == [n for n, _ in base.named_modules()]
    assert isinstance(model.features[10], nn.ReLU)  # the Grad-CAM layer of chapter 12
    assert isinstance(model.features[11], nn.AdaptiveMaxPool2d)


def test_shapes_cnn_forward_equals_course_cnn_on_centred_max_pooled_input():
    torch.manual_seed(0)
    model = cm.ShapesCNN().eval()
    x = torch.rand(4, 3, 16, 16)
    centred = x - x.mean(dim=(2, 3), keepdim=True)
    reference = model.head(model.features[:11](centred).amax(dim=(2, 3)))  # independent path
    assert torch.allclose(model(x), reference, atol=1e-6)
    shift = torch.rand(4, 3, 1, 1)  # per-image, per-channel constant shifts vanish
    assert torch.allclose(model(x), model(x + shift), atol=1e-5)


def test_course_cnn_shipped_weights_load_offline():
    model = cm.course_cnn(weights="digits-0-4")
    assert model.head.out_features == 5 and not model.training
    again = cm.course_cnn(weights="digits-0-4")
    assert all(
        torch.equal(p, q) for p, q in zip(model.parameters(), again.parameters(), strict=True)
    )
    assert cm.course_cnn().head.out_features == 10
    with pytest.raises(ValueError, match="weights"):
        cm.course_cnn(weights="imagenet")
    with pytest.raises(ValueError, match="num_classes=5"):
        cm.course_cnn(num_classes=10, weights="digits-0-4")


@pytest.mark.parametrize(
    "build",
    [cm.BoxRegressor, cm.ProposalClassifier, cm.fcn_small, cm.ShapesCNN],
    ids=lambda b: b.__name__,
)
def test_shapes_networks_ignore_a_uniform_colour_shift(build):
    """The networks reading the shapes data centre each image: a tint changes no output."""
    torch.manual_seed(0)
    model = build().eval()
    x = torch.rand(
        2,
        3,
        16 if build is cm.ProposalClassifier else 32,
        16 if build is cm.ProposalClassifier else 32,
    )
    out, shifted = model(x), model(x + torch.rand(2, 3, 1, 1))
    for a, b in zip(
        out if isinstance(out, tuple) else (out,),
        shifted if isinstance(shifted, tuple) else (shifted,),
        strict=True,
    ):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
