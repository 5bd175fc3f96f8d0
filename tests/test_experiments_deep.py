"""The deep-training chapter's data and recorded runs (cvlib.experiments.deep_data, depth on
Fashion-MNIST, pretrain_deep), and the augmentation chapter's mixing and test-time runs."""

from dataclasses import asdict, replace

import pytest
import torch
from torch.utils.data import DataLoader

from cvlib.experiments import augmentation, deep_data, depth, norm_runs, pretrain, pretrain_deep
from cvlib.experiments.common import digit_splits, made_here
from cvlib.models import plain_small, resnet_small
from cvlib.train import evaluate
from cvlib.train.mixed import fit_mixed

TINY = dict(n_train=20, seeds=(0, 1), epochs=2, n_test=100)


# --- data -------------------------------------------------------------------------------------


def test_fashion_splits_are_stratified_disjoint_and_fixed():
    train, val = deep_data.fashion_splits(12, 5)
    assert torch.bincount(train.tensors[1]).tolist() == [12] * 10
    assert torch.bincount(val.tensors[1]).tolist() == [5] * 10
    flat_train, flat_val = train.tensors[0].flatten(1), val.tensors[0].flatten(1)
    assert torch.cdist(flat_val, flat_train).min() > 0  # no validation image is a training one
    again, _ = deep_data.fashion_splits(12, 5, seed=0)
    assert torch.equal(again.tensors[0], train.tensors[0])
    other, _ = deep_data.fashion_splits(12, 5, seed=1)
    assert not torch.equal(other.tensors[0], train.tensors[0])


def test_fashion_at_14_averages_each_2x2_block():
    full, full_val = deep_data.fashion_splits(6, 3)
    small, small_val = deep_data.fashion_splits(6, 3, size=14)
    for big, little in ((full, small), (full_val, small_val)):
        x = big.tensors[0]  # (N, 1, 28, 28)
        by_hand = (x[..., 0::2, 0::2] + x[..., 0::2, 1::2] + x[..., 1::2, 0::2]
                   + x[..., 1::2, 1::2]) / 4  # fmt: skip
        assert little.tensors[0].shape == (len(x), 1, 14, 14)
        assert torch.allclose(little.tensors[0], by_hand, atol=1e-7)
        assert torch.equal(little.tensors[1], big.tensors[1])
    train, _ = deep_data.splits("fashion", 14, 6, 3)
    assert torch.equal(train.tensors[0], small.tensors[0])
    assert deep_data.splits("fashion", None, 6, 3)[0].tensors[0].shape[-1] == 28
    for bad in (10, 0, 14.0, True):
        with pytest.raises(ValueError, match="size"):
            deep_data.fashion_splits(6, 3, size=bad)


def test_splits_name_the_data_and_keep_the_digits():
    train, val = deep_data.splits("digits", 8)
    ref_train, ref_val, _ = digit_splits(8)
    assert torch.equal(train.images, ref_train.images) and len(val) == len(ref_val) == 360
    with pytest.raises(ValueError, match="data"):
        deep_data.splits("cifar")
    with pytest.raises(ValueError, match="per_class"):
        deep_data.fashion_splits(0, 5)


# --- depth and normalisation runs on Fashion-MNIST --------------------------------------------


def test_depth_on_fashion_keeps_weights_that_score_what_was_recorded():
    runs = depth.run(data="fashion", depths=(8,), epochs=2, per_class=8, val_per_class=4,
                     keep_weights=True)  # fmt: skip
    assert [(r.name, r.depth) for r in runs] == [("resnet_small", 8), ("plain_small", 8)]
    _, val = deep_data.fashion_splits(8, 4)
    for r, build in zip(runs, (resnet_small, plain_small), strict=True):
        assert len(r.val_acc) == 2 and len(r.grad_norm) == 3
        model = build(8, num_classes=10, in_channels=1)
        model.load_state_dict(r.state)
        score = evaluate(model, DataLoader(val, batch_size=len(val)), device="cpu").accuracy
        assert score == pytest.approx(r.val_acc[-1], abs=1e-6)
    assert depth.run(depths=(8,), epochs=1)[0].state is None  # only when asked


def test_norm_run_trains_on_fashion():
    acc, loss = norm_runs.train_one("batch", 0, 1, 32, 1e-3)  # Fashion-MNIST by default
    assert 0.2 < acc <= 1 and 0 < loss < 2.3  # one epoch of 1,000 photographs: above chance


# --- the recorded runs --------------------------------------------------------------------------


def fake_record():
    run = depth.DepthRun("resnet_small", 8, [2.0, 1.0], [0.3, 0.6], [0.4, 0.5], [1.0, 2.0, 3.0])
    weights = {"resnet_small": resnet_small(8, in_channels=1).state_dict()}
    rates = {("none", 0.01): 0.2, ("batch", 1.0): 0.7}
    batches = {("batch", 1): 0.1, ("group", 32): 0.6}
    meta = {"settings": {"seeds": (0,), "depths": (8,), "epochs": 2, "lr_epochs": 3},
            "seconds": 1.0, "machine": "x", "torch": "t", "cpu_capability": "c"}  # fmt: skip
    from cvlib.experiments.norm_runs import NormResult

    return pretrain_deep.Record(
        {0: [run]}, {0: NormResult(rates, {}, 1.0, None)}, {0: NormResult(batches, {}, 1.0, None)},
        weights, meta)  # fmt: skip


def test_record_survives_save_and_load(tmp_path):
    record = fake_record()
    out = pretrain_deep.save(record, tmp_path / "deep.pt")
    back = pretrain_deep.load(out)
    assert back.depth[0][0].val_acc == [0.4, 0.5] and back.depth[0][0].name == "resnet_small"
    assert back.rates[0] == {("none", 0.01): 0.2, ("batch", 1.0): 0.7}
    assert back.batches[0] == {("batch", 1): 0.1, ("group", 32): 0.6}
    for key, value in record.weights["resnet_small"].items():
        assert torch.allclose(back.weights["resnet_small"][key].float(), value.float(), atol=1e-2)
    card = (tmp_path / "deep.md").read_text()
    assert "resnet_small-8 50.0%" in card and "SGD momentum 0.9" in card
    assert "`deep.pt`" in card and "kept in half precision" in card


def test_a_depth_only_record_has_its_own_card(tmp_path):
    record = fake_record()
    record.rates, record.batches, record.weights = {}, {}, {}
    record.meta["settings"].update(image_size=14, grids=False, keep_weights=False)
    out = pretrain_deep.save(record, tmp_path / "depth.pt")
    card = pretrain_deep.card_path(out).read_text()
    assert "at 14x14" in card and "no weights kept" in card and "resnet_small-8 50.0%" in card
    assert "Learning-rate runs" not in card and "skip connections" in card
    assert pretrain_deep.load(out).rates == {}
    with pytest.raises(ValueError, match="nothing to run"):
        pretrain_deep.run(depths=(), grids=False)


def test_the_shipped_record_repeats_live():
    record = pretrain_deep.load()
    s = record.meta["settings"]
    assert len(s["seeds"]) == 3 and s["depths"] == () and record.weights == {}
    for seed in s["seeds"]:
        assert len(record.rates[seed]) == 12 and len(record.batches[seed]) == 9
    acc, _ = norm_runs.train_one("group", 0, 1, 32, 1e-3)  # seed 0 of the record, again
    assert acc == pytest.approx(record.batches[0][("group", 32)], abs=0.02)
    card = (pretrain_deep.OUT.parent / pretrain_deep.CARD_NAME).read_text()
    assert "Seeds**: 0, 1, 2" in card and "none (`depths=()`)" in card


def test_the_shipped_depth_record_is_what_its_recipe_gives():
    """The recipe's first two epochs of seed 0's plain-20 again: to the bit where machine, torch
    and CPU kernels are those that made the record, within the seeds' spread elsewhere (about
    10 s)."""
    settings, out = pretrain_deep.RECORDS["deep_fashion_depth"]
    assert "deep_fashion_depth" in pretrain.NAMES and out.stat().st_size < 1_000_000
    record = pretrain_deep.load(out)
    assert record.meta["settings"] == asdict(settings) and record.weights == {}
    assert record.rates == {} and record.batches == {}
    expected = {(n, d) for d in settings.depths for n in ("resnet_small", "plain_small")}
    if settings.preact:
        expected.add(("preact_small", max(settings.depths)))
    for seed in settings.seeds:
        runs = record.depth[seed]
        assert {(r.name, r.depth) for r in runs} == expected
        assert all(len(r.val_acc) == settings.epochs == len(r.grad_norm) - 1 for r in runs)
    shipped = next(r for r in record.depth[settings.seeds[0]] if (r.name, r.depth) == (
        "plain_small", 20))  # fmt: skip
    ds = replace(pretrain_deep.depth_settings(settings, settings.seeds[0]), epochs=2)
    again = depth.run_one("plain_small", 20, ds)
    if made_here(record.meta):
        assert again.val_acc == shipped.val_acc[:2] and again.grad_norm == shipped.grad_norm[:3]
    else:  # other float rounding makes it another draw: within the seeds' spread, widened
        # (a plain-20's early epochs are chaotic: the record's seeds give 10-20% after epoch 1
        # and 49-57% after epoch 2; another processor gave seed 0 24% and 60%)
        plain20 = [r for seed in settings.seeds for r in record.depth[seed]
                   if (r.name, r.depth) == ("plain_small", 20)]  # fmt: skip
        for epoch, acc in enumerate(again.val_acc):
            seen = [r.val_acc[epoch] for r in plain20]
            assert min(seen) - 0.1 <= acc <= max(seen) + 0.1, (epoch, acc, seen)
    card = pretrain_deep.card_path(out).read_text()
    assert "pretrain deep_fashion_depth" in card and "at 14x14" in card


# --- mixing and test-time augmentation ------------------------------------------------------


def test_mixing_methods_run_alone_as_in_the_full_experiment():
    full = augmentation.run(**TINY, methods=("none", "mixup", "cutmix"))
    only = augmentation.run(**TINY, methods=("cutmix",))
    assert list(full.accuracies)[:3] == ["none, clean test", "mixup, clean test",
                                         "cutmix, clean test"]  # fmt: skip
    assert only.accuracies["cutmix, clean test"] == full.accuracies["cutmix, clean test"]


def test_fit_mixed_learns_from_soft_labels_and_checks_its_mix():
    torch.manual_seed(0)
    images = torch.rand(64, 1, 4, 4)
    labels = (images.mean(dim=(1, 2, 3)) > 0.5).long()  # a learnable rule
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2))
    loader = DataLoader(torch.utils.data.TensorDataset(images, labels), batch_size=16)
    losses = fit_mixed(model, loader, 30, 0.05, "mixup", 2, seed=0)
    assert losses[-1] < losses[0]
    with pytest.raises(ValueError, match="mix"):
        fit_mixed(model, loader, 1, 0.05, "mixout", 2)


def test_tta_scores_are_extra_and_leave_the_plain_scores_alone():
    plain = augmentation.run(**TINY, methods=("augmented",))
    with_tta = augmentation.run(**TINY, methods=("augmented",), tta=True)
    assert with_tta.accuracies == plain.accuracies
    assert plain.extra == {}
    tta = with_tta.extra["tta"]["augmented, clean test"]
    assert len(tta) == 2 and all(0 <= a <= 1 for a in tta)
