"""cvlib.transfer: freezing really freezes, heads are replaced, BatchNorm does not drift."""

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cvlib.models import CourseCNN, alexnet, lecture_cnn, lenet5, resnet18, vgg11
from cvlib.train import transfer as T


def _snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _train_steps(model, optimizer, x, y, steps=5):
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    return torch.rand(8, 1, 16, 16, generator=g), torch.randint(0, 3, (8,), generator=g)


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-2),
        lambda ps: torch.optim.Adam(ps, lr=1e-2, weight_decay=1e-2),
    ],
)
def test_frozen_parameters_bit_identical_while_head_moves(make_optimizer, batch):
    torch.manual_seed(0)
    model = CourseCNN(num_classes=3)
    # Train everything once so every parameter holds a stale gradient, then freeze the base:
    # with weight decay and momentum a stale gradient alone would move a frozen parameter.
    _train_steps(model, torch.optim.SGD(model.parameters(), lr=0.1), *batch, steps=1)
    T.freeze(model.features)
    base_before, head_before = _snapshot(model.features), _snapshot(model.head)
    # Give the optimizer every parameter, frozen or not, as careless code would.
    _train_steps(model, make_optimizer(model.parameters()), *batch)
    params_after = dict(model.features.named_parameters())
    for name, p in params_after.items():
        assert torch.equal(p, base_before[name]), name
    assert not torch.equal(model.head.weight, head_before["weight"])


def test_frozen_base_keeps_batchnorm_statistics_in_train_mode(batch):
    torch.manual_seed(0)
    base = CourseCNN(num_classes=3).features
    model = T.with_frozen_base(base, nn.Linear(64, 3))
    before = _snapshot(model.base)
    model.train()
    assert model.training and model.head.training
    assert not model.base.training and not any(m.training for m in model.base.modules())
    _train_steps(model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), *batch)
    after = model.base.state_dict()
    assert set(before) == set(after)
    for name, value in before.items():  # running_mean, running_var, num_batches_tracked, weights
        assert torch.equal(after[name], value), name


def test_plain_freeze_does_not_stop_batchnorm_drift(batch):
    """Why FrozenBase exists: requires_grad=False alone leaves running statistics moving."""
    torch.manual_seed(0)
    model = CourseCNN(num_classes=3)
    T.freeze(model.features)
    before = model.features[1].running_mean.clone()
    _train_steps(model, torch.optim.SGD(model.head.parameters(), lr=0.1), *batch, steps=1)
    assert not torch.equal(model.features[1].running_mean, before)


def test_unfreeze_last_trains_exactly_those_layers(batch):
    torch.manual_seed(0)
    model = CourseCNN(num_classes=3)
    names = T.unfreeze_last(model, 3)
    assert names == ["features.8", "features.9", "head"]  # conv 3, its BatchNorm, the head
    before = _snapshot(model)
    _train_steps(model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), *batch)
    for name, p in model.named_parameters():
        moved = not torch.equal(p, before[name])
        assert moved == any(name.startswith(n + ".") for n in names), name
    summary = T.trainable_summary(model)
    assert [r[0] for r in summary.rows if r[3]] == names
    assert summary.trainable_params == 32 * 64 * 9 + 2 * 64 + 65 * 3


def test_unfreeze_last_zero_and_all():
    model = lenet5()
    assert T.unfreeze_last(model, 0) == []
    assert T.trainable_summary(model).trainable_params == 0
    assert len(T.unfreeze_last(model, 5)) == 5
    assert T.trainable_summary(model).trainable_params == 61706
    with pytest.raises(ValueError, match="`n`"):
        T.unfreeze_last(model, 6)


@pytest.mark.parametrize(
    "build, shape, attr",
    [
        (lambda: resnet18(num_classes=1000), (1, 3, 64, 64), "fc"),
        (lambda: vgg11(num_classes=1000), (1, 3, 32, 32), "classifier"),
        (lambda: alexnet(num_classes=1000), (1, 3, 64, 64), "classifier"),
        (lambda: lenet5(num_classes=10), (1, 1, 32, 32), "classifier"),
        (lambda: lecture_cnn(num_classes=4), (1, 3, 100, 100), "classifier"),
        (lambda: CourseCNN(num_classes=10), (1, 1, 28, 28), "head"),
    ],
)
def test_replace_head(build, shape, attr):
    torch.manual_seed(0)
    model = T.freeze(build()).eval()
    kept = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith(attr)}
    assert T.replace_head(model, 7) is model
    assert model(torch.zeros(shape)).shape == (1, 7)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all(n.startswith(attr) for n in trainable)
    assert len(trainable) == 2  # the new head's weight and bias only
    for k, v in kept.items():
        assert torch.equal(model.state_dict()[k], v)


def test_replace_head_rejects_unknown_models_and_bad_classes():
    with pytest.raises(ValueError, match="`model`"):
        T.replace_head(nn.Sequential(nn.Linear(3, 2)), 4)
    with pytest.raises(ValueError, match="`num_classes`"):
        T.replace_head(lenet5(), 0)
    with pytest.raises(TypeError, match="`model`"):
        T.freeze("resnet")


def test_extract_features_stores_eval_mode_outputs(batch):
    torch.manual_seed(0)
    base = CourseCNN(num_classes=3).features
    base.train()
    x, y = batch
    loader = DataLoader(TensorDataset(x, y), batch_size=3)
    feats = T.extract_features(base, loader)
    assert base.training  # mode restored
    assert feats.tensors[0].shape == (8, 64) and torch.equal(feats.tensors[1], y)
    base.eval()
    with torch.no_grad():
        expected = base(x)
    torch.testing.assert_close(feats.tensors[0], expected)
    assert not feats.tensors[0].requires_grad


def test_trainable_summary_prints_a_table():
    model = T.with_frozen_base(CourseCNN().features, nn.Linear(64, 2))
    text = str(T.trainable_summary(model))
    assert "head" in text and "trainable 130 of" in text


def test_load_pretrained_offline_from_package_data():
    from importlib import resources

    path = resources.files("cvlib.models") / "weights" / "course_cnn.pt"
    assert path.is_file() and path.stat().st_size <= 5 * 1024 * 1024
    assert (resources.files("cvlib.models") / "weights" / "MODEL_CARD.md").is_file()
    source = T.load_pretrained()
    assert isinstance(source, CourseCNN) and source.head.out_features == 5
    assert not source.training
    fresh = T.load_pretrained(num_classes=3)
    assert fresh.head.out_features == 3
    for (name, p), q in zip(
        fresh.features.named_parameters(), source.features.parameters(), strict=True
    ):
        assert torch.equal(p, q), name  # the base carries the pretrained weights


def test_pretrained_weights_classify_source_digits():
    from cvlib.data import class_subset, digits
    from cvlib.experiments.pretrain import SOURCE_CLASSES

    test = class_subset(digits(size=28, split="test"), SOURCE_CLASSES)
    with torch.no_grad():
        predicted = T.load_pretrained()(test.tensors[0]).argmax(1)
    accuracy = (predicted == test.tensors[1]).float().mean().item()
    assert accuracy > 0.95  # an untrained CourseCNN scores about 0.2 on these five classes


def test_few_shot_and_class_subset():
    from cvlib.data import class_subset, digits, few_shot

    pool = class_subset(digits(size=8, split="train"), (5, 6, 7, 8, 9))
    assert set(pool.tensors[1].tolist()) == {0, 1, 2, 3, 4}
    picked = few_shot(pool, 7, seed=0)
    assert torch.bincount(picked.tensors[1]).tolist() == [7] * 5
    assert torch.equal(few_shot(pool, 7, seed=0).tensors[0], picked.tensors[0])
    with pytest.raises(ValueError, match="`per_class`"):
        few_shot(pool, 10_000, seed=0)


def test_perturbed_test_set_is_one_fixed_draw():
    from cvlib.augment import perturbed

    x = torch.zeros(6, 1, 28, 28)
    x[:, :, 10:18, 10:18] = 1.0
    moved = perturbed(TensorDataset(x, torch.arange(6)))
    assert torch.equal(moved.tensors[1], torch.arange(6))
    assert moved.tensors[0].shape == x.shape
    assert not torch.equal(moved.tensors[0], x)
    assert torch.equal(perturbed(TensorDataset(x, torch.arange(6))).tensors[0], moved.tensors[0])
