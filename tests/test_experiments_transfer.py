"""The transfer chapter's experiment on Fashion-MNIST (cvlib.experiments.transfer) and the recipe
of its pretrained base (cvlib.experiments.pretrain_fashion, course_cnn_fashion.pt)."""

import pytest
import torch
from torch.utils.data import DataLoader

from cvlib.data import class_subset, fashion_mnist
from cvlib.experiments import pretrain, pretrain_fashion, transfer
from cvlib.experiments.common import made_here
from cvlib.models import course_cnn
from cvlib.train import evaluate

SHIPPED = torch.load(pretrain_fashion.OUT, weights_only=True)


def test_source_and_target_split_the_ten_classes():
    assert set(transfer.SOURCE_CLASSES).isdisjoint(transfer.TARGET_CLASSES)
    assert set(transfer.SOURCE_CLASSES) | set(transfer.TARGET_CLASSES) == set(range(10))
    assert SHIPPED["meta"]["source_classes"] == list(transfer.SOURCE_CLASSES)


def test_target_sets_hold_only_the_new_classes():
    pool, test = transfer.target_sets(100)
    train = fashion_mnist("train")
    assert len(pool) == int(torch.isin(train.labels, torch.tensor(transfer.TARGET_CLASSES)).sum())
    assert torch.bincount(test.tensors[1]).tolist() == [20] * 5
    first = transfer.TARGET_CLASSES[0]  # relabelled 0: its images are those of the file's label
    assert torch.equal(pool.tensors[0][pool.tensors[1] == 0], train.images[train.labels == first])


def test_shipped_base_scores_what_its_card_says():
    """Recomputed here: the accuracy on the source classes' test images that the checkpoint and
    the model card record."""
    model = course_cnn(weights="fashion-source")
    test = class_subset(fashion_mnist("test"), transfer.SOURCE_CLASSES)
    accuracy = evaluate(model, DataLoader(test, batch_size=1000), device="cpu").accuracy
    assert accuracy == pytest.approx(SHIPPED["meta"]["source_test_accuracy"], abs=1e-6)
    card = (pretrain_fashion.OUT.parent / pretrain_fashion.CARD_NAME).read_text()
    assert f"{accuracy:.1%}" in card and "Trouser, Sandal, Sneaker, Bag" in card
    assert pretrain_fashion.OUT.stat().st_size < 200 * 1024


def test_a_short_recipe_repeats_to_the_bit_and_writes_a_card(tmp_path):
    one = pretrain_fashion.run(n_train=300, epochs=1, progress=False)
    two = pretrain_fashion.run(n_train=300, epochs=1, progress=False)
    for key, value in one.model.state_dict().items():
        assert torch.equal(value, two.model.state_dict()[key]), key
    out = pretrain_fashion.save(one, tmp_path / "base.pt")
    assert torch.load(out, weights_only=True)["meta"]["n_train"] == 300
    assert f"{one.accuracy:.1%}" in (tmp_path / pretrain_fashion.CARD_NAME).read_text()


@pytest.mark.parametrize(
    ("overrides", "name"), [({"epochs": 0}, "`epochs`"), ({"n_train": 0}, "`n_train`")]
)
def test_bad_recipe_settings_are_named(overrides, name):
    with pytest.raises(ValueError, match=name):
        pretrain_fashion.run(progress=False, **overrides)


def test_the_command_knows_the_recipe():
    assert "course_cnn_fashion" in pretrain.NAMES


def test_a_tiny_comparison_reports_every_method():
    result = transfer.run(per_class=2, seeds=(0,), steps=4, n_test=50)
    assert list(result.accuracies) == list(transfer.METHODS)
    assert all(0.0 <= values[0] <= 1.0 for values in result.accuracies.values())
    with pytest.raises(ValueError, match="`per_class`"):
        transfer.run(per_class=0)


@pytest.mark.slow
def test_recipe_reproduces_the_shipped_base(tmp_path):
    """The model card's claim: the recipe gives the shipped file again, to the bit on the kind of
    machine, torch version and CPU kernels that made it (about two minutes)."""
    result = pretrain_fashion.run(progress=False)
    again = torch.load(pretrain_fashion.save(result, tmp_path / "base.pt"), weights_only=True)
    meta = SHIPPED["meta"]
    assert result.accuracy > 0.95
    if made_here(meta):
        for key, value in SHIPPED["state_dict"].items():
            assert torch.equal(value, again["state_dict"][key]), key


def test_submit_gives_what_run_gives():
    from cvlib.train import Workers

    settings = dict(per_class=2, seeds=(0, 1), steps=4, n_test=50)
    with Workers() as workers:
        pending = transfer.submit(workers, **settings).result()
    assert pending.accuracies == transfer.run(**settings).accuracies
    assert "pullover, dress, coat, shirt, ankle boot" in pending.setting
