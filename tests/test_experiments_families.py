"""Tests of the families' recipe on Fashion-MNIST (cvlib.experiments.families, family_card) and
of the command that runs it (python -m cvlib.experiments.pretrain NAME)."""

import pytest
import torch

from cvlib.experiments import families, pretrain
from cvlib.experiments.common import made_here
from cvlib.experiments.family_card import save_family
from cvlib.models import FAMILIES


def test_splits_are_disjoint_and_fixed_by_the_seed():
    train, val = families.splits(300, 100, seed=0)
    again, _ = families.splits(300, 100, seed=0)
    other, _ = families.splits(300, 100, seed=1)
    assert torch.equal(train.tensors[0], again.tensors[0])
    assert not torch.equal(train.tensors[0], other.tensors[0])
    seen = {row.numpy().tobytes() for row in train.tensors[0].flatten(1)}
    assert not any(row.numpy().tobytes() in seen for row in val.tensors[0].flatten(1))
    with pytest.raises(ValueError, match="`n_train`"):
        families.splits(60_000, 1, seed=0)


def test_a_tiny_run_writes_weights_history_and_a_card(tmp_path):
    result = families.run(name="lenet", n_train=256, n_val=64, epochs=2, progress=False)
    again = families.run(name="lenet", n_train=256, n_val=64, epochs=2, progress=False)
    for key, value in result.model.state_dict().items():  # deterministic, one thread
        assert torch.equal(value, again.model.state_dict()[key]), key
    pt, card = save_family(result, tmp_path)
    checkpoint = torch.load(pt, weights_only=True)
    assert set(checkpoint) == {"config", "state_dict", "history", "meta"}
    assert len(checkpoint["history"]["val_acc"]) == 2
    meta = checkpoint["meta"]
    assert meta["settings"]["n_train"] == 256 and meta["params"] == 61_706
    text = card.read_text()
    assert "256 images" in text and "seed 0" in text and "| 2 |" in text
    assert f"{result.test_accuracy:.1%}" in text


@pytest.mark.parametrize(
    ("overrides", "name"), [({"name": "inception"}, "`name`"), ({"epochs": 0}, "`epochs`")]
)
def test_bad_settings_are_named(overrides, name):
    with pytest.raises(ValueError, match=name):
        families.run(progress=False, **overrides)


def test_the_command_knows_every_family():
    assert set(FAMILIES) < set(pretrain.NAMES) and "course_cnn" in pretrain.NAMES
    with pytest.raises(SystemExit):
        pretrain.main(["inception"])


@pytest.mark.slow
def test_recipe_reproduces_the_shipped_lenet(tmp_path):
    """The model card's claim for the cheapest family: the recipe gives the shipped file again,
    to the bit on the kind of machine and torch version that made it."""
    shipped = torch.load(pretrain.FAMILY_DIR / "lenet.pt", weights_only=True)
    result = families.run(name="lenet", progress=False)
    assert result.test_accuracy == pytest.approx(shipped["meta"]["test_accuracy"], abs=0.01)
    if made_here(shipped["meta"]):
        for key, value in shipped["state_dict"].items():
            assert torch.equal(value, result.model.state_dict()[key]), key
