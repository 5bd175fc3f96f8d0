"""Tests of cvlib.models.mini: the classic families at 28x28 and their shipped Fashion-MNIST
weights."""

import re

import pytest
import torch

from cvlib.models import FAMILIES, fashion_net, lenet5, pretrained_families
from cvlib.models.mini import DenseLayer, mini_densenet, mini_nin
from cvlib.probes import summary


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_family_reads_28x28_greyscale_and_its_docstring_counts_are_true(name):
    model = fashion_net(name).eval()
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    info = summary(model, (1, 28, 28))
    doc = " ".join((FAMILIES[name].__doc__ or "").split())
    macs = re.search(r"([\d.]+) M multiply-adds", doc)
    params = re.search(r"([\d,]+) parameters", doc)
    if name != "lenet":  # the docstring's figures are what cvlib.summary counts
        assert float(macs.group(1)) == round(info.total_macs / 1e6, 1), name
        assert int(params.group(1).replace(",", "")) == info.total_params, name
    assert info.total_params < 1_000_000  # small enough to ship and to train on a CPU


def test_lenet_with_padding_2_reads_28x28_as_if_padded_to_32():
    torch.manual_seed(0)
    padded = lenet5(padding=2).eval()
    plain = lenet5().eval()
    plain.load_state_dict(padded.state_dict())  # same parameters, same names
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        expected = plain(torch.nn.functional.pad(x, (2, 2, 2, 2)))
        torch.testing.assert_close(padded(x), expected)


def test_dense_layers_concatenate_and_nin_has_no_dense_layer():
    layer = DenseLayer(8, growth=4)
    x = torch.rand(2, 8, 5, 5)
    out = layer(x)
    assert out.shape == (2, 12, 5, 5) and torch.equal(out[:, :8], x)  # the input passes on
    assert not any(isinstance(m, torch.nn.Linear) for m in mini_nin().modules())
    assert mini_densenet(growth=6, layers=(2, 2))(torch.zeros(1, 1, 28, 28)).shape == (1, 10)


def test_bad_names_and_weights_are_refused():
    with pytest.raises(ValueError, match="`name`"):
        fashion_net("inception")
    with pytest.raises(ValueError, match="`weights`"):
        fashion_net("lenet", weights="imagenet")


@pytest.mark.parametrize("name", pretrained_families())
def test_shipped_weights_load_with_their_history_and_figures(name):
    model = fashion_net(name, weights="fashion-mnist")
    meta, history = model.pretrain_meta, model.pretrain_history
    assert not model.training
    epochs = meta["settings"]["epochs"]
    assert len(history["val_acc"]) == len(history["train_loss"]) == epochs
    assert 0.7 < meta["test_accuracy"] < 1.0  # trained: chance is 0.1
    assert meta["params"] == sum(p.numel() for p in model.parameters())
    assert sum(map(sum, meta["confusion"])) == 10_000


def test_all_checkpoints_together_stay_under_20_mb():
    from cvlib.experiments.pretrain import DEFAULT_OUT, FAMILY_DIR

    files = [DEFAULT_OUT, *FAMILY_DIR.glob("*.pt")]
    assert len(files) == 1 + len(pretrained_families())
    assert all(f.with_suffix(".md").exists() for f in files[1:])  # each with its model card
    assert sum(f.stat().st_size for f in files) < 20 * 2**20


def test_the_first_families_ship_their_weights():
    assert {"lenet", "vgg"} <= set(pretrained_families())
