"""Chapter 12's shapes network is shipped, not trained on the page: the recipe
(``python -m cvlib.experiments.pretrain shapes_cnn``) must give the shipped file again, and the
file must score what its model card says on the held-out images."""

import torch

from cvlib.data import TEST_SEED_OFFSET, shapes
from cvlib.experiments import pretrain, pretrain_shapes
from cvlib.experiments.common import made_here

SHIPPED = torch.load(pretrain_shapes.OUT, weights_only=True)


def test_the_shipped_network_scores_what_its_card_says():
    model, meta = pretrain_shapes.load()
    s = meta["settings"]
    test = shapes(s["n_test"], size=s["size"], seed=s["seed"] + TEST_SEED_OFFSET)
    with torch.no_grad():
        accuracy = (model(test.images).argmax(dim=1) == test.labels).double().mean().item()
    assert abs(accuracy - meta["test_accuracy"]) <= 0.01
    assert accuracy > 0.9  # a network that works: the chapter's premise
    card = (pretrain_shapes.OUT.parent / pretrain_shapes.CARD_NAME).read_text()
    assert f"**{meta['test_accuracy']:.1%}**" in card
    assert len(meta["losses"]) == s["epochs"] and meta["losses"][-1] < meta["losses"][0]
    assert "shapes_cnn" in pretrain.NAMES


def test_the_recipe_gives_the_shipped_file_again(tmp_path):
    """To the bit where machine, torch and CPU kernels are those that made it (about 20 s)."""
    assert pretrain.main(["shapes_cnn", "--out", str(tmp_path / "again.pt")]) == 0
    again = torch.load(tmp_path / "again.pt", weights_only=True)
    meta = SHIPPED["meta"]
    assert again["meta"]["settings"] == meta["settings"]
    # Another processor rounds differently and 8 epochs carry that far: 281 instead of 290 of the
    # 300 held-out images on a CI machine. The network must still work as the chapter says.
    tolerance = 0.01 if made_here(meta) else 0.05
    assert abs(again["meta"]["test_accuracy"] - meta["test_accuracy"]) <= tolerance
    assert again["meta"]["test_accuracy"] > 0.9
    assert (tmp_path / pretrain_shapes.CARD_NAME).exists()
    if made_here(meta):
        for key, value in SHIPPED["state_dict"].items():
            assert torch.equal(value, again["state_dict"][key]), key
