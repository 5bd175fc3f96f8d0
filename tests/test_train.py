"""Tests of cvlib.train: seeding, the training loop, evaluation against scikit-learn, silence."""

import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import confusion_matrix
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cvlib.data import digits
from cvlib.train import History, evaluate, fit, predict, resolve_device, set_seed


def _mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


@pytest.fixture(scope="module")
def loaders():
    train, test = digits(split="train"), digits(split="test")
    return DataLoader(train, batch_size=64, shuffle=True), DataLoader(test, batch_size=100)


def test_set_seed_repeats_python_numpy_and_torch():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()  # noqa: NPY002

    set_seed(3)
    first = draw()
    set_seed(3)
    assert draw() == first
    with pytest.raises(TypeError, match="`seed`"):
        set_seed("3")


def test_fit_reduces_the_loss_on_digits(loaders):
    train_loader, test_loader = loaders
    set_seed(0)
    model = _mlp()
    history = fit(model, train_loader, test_loader, epochs=4, lr=1e-2, progress=False)
    assert isinstance(history, History)
    assert len(history.train_loss) == len(history.val_acc) == len(history.epoch_time) == 4
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.val_acc[-1] > 0.9
    assert all(t > 0 for t in history.epoch_time)


def test_fit_with_a_given_optimizer_and_loss(loaders):
    train_loader, _ = loaders
    set_seed(0)
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    calls = []

    def loss_fn(logits, labels):
        calls.append(len(labels))
        return F.cross_entropy(logits, labels)

    history = fit(
        model, train_loader, epochs=2, optimizer=optimizer, loss_fn=loss_fn, progress=False
    )
    assert sum(calls) == 2 * 1437 and history.val_loss == []
    assert history.train_acc[-1] > history.train_acc[0]


def test_fit_steps_the_scheduler_once_per_epoch(loaders):
    train_loader, _ = loaders
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    fit(model, train_loader, epochs=3, optimizer=optimizer, scheduler=scheduler, progress=False)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**3)
    with pytest.raises(ValueError, match="`scheduler`"):
        fit(model, train_loader, epochs=1, scheduler=scheduler)


def test_evaluate_matches_sklearn_and_a_direct_computation(loaders):
    _, test_loader = loaders
    set_seed(1)
    model = _mlp()  # untrained: a confusion matrix with errors everywhere
    result = evaluate(model, test_loader)
    images, labels = test_loader.dataset.images, test_loader.dataset.labels
    with torch.no_grad():
        logits = model(images)
    predictions = logits.argmax(1)
    expected = confusion_matrix(labels.numpy(), predictions.numpy(), labels=range(10))
    assert result.confusion.shape == (10, 10) and result.confusion.dtype == np.int64
    np.testing.assert_array_equal(result.confusion, expected)
    assert result.confusion.sum() == len(labels)
    assert result.accuracy == pytest.approx((predictions == labels).float().mean().item())
    assert result.loss == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-5)
    assert torch.equal(predict(model, test_loader), predictions)
    assert torch.allclose(result.logits, logits, atol=1e-6)


def test_evaluate_num_classes_pads_the_confusion_matrix():
    x, y = torch.randn(8, 4), torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    result = evaluate(nn.Linear(4, 4), DataLoader(TensorDataset(x, y), batch_size=3), num_classes=6)
    assert result.confusion.shape == (6, 6) and result.confusion.sum() == 8


def test_progress_bars_write_to_stderr_unless_silenced(loaders, capfd, monkeypatch):
    train_loader, test_loader = loaders
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    fit(_mlp(), train_loader, test_loader, epochs=1, progress=True)
    assert capfd.readouterr().err != ""  # the bars exist, so silencing them is a real change
    fit(_mlp(), train_loader, test_loader, epochs=1, progress=False)
    assert capfd.readouterr().err == ""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    fit(_mlp(), train_loader, test_loader, epochs=1, progress=True)
    evaluate(_mlp(), test_loader, progress=True)
    predict(_mlp(), test_loader, progress=True)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_on_epoch_end_sees_every_epoch_after_validation(loaders):
    train_loader, test_loader = loaders
    seen = []
    set_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    fit(
        model,
        train_loader,
        test_loader,
        epochs=3,
        device="cpu",
        progress=False,
        on_epoch_end=lambda m, h: seen.append((m is model, len(h.train_loss), len(h.val_acc))),
    )
    assert seen == [(True, 1, 1), (True, 2, 2), (True, 3, 3)]


def test_eval_mode_and_torch_threads_restore_on_error():
    from cvlib.train import eval_mode, torch_threads

    model = nn.Dropout().train()
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="inside"):
        with eval_mode(model), torch_threads(1):
            assert not model.training and torch.get_num_threads() == 1
            raise RuntimeError("inside")
    assert model.training and torch.get_num_threads() == before
    with pytest.raises(ValueError, match="num_threads"):
        with torch_threads(0):
            pass
    with pytest.raises(TypeError, match="model"):
        with eval_mode("net"):
            pass


def test_deterministic_restores_the_callers_settings_even_on_error():
    from cvlib.train import deterministic

    before = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(False)
    try:
        with pytest.raises(RuntimeError, match="inside"):
            with deterministic(num_threads=1):
                assert torch.are_deterministic_algorithms_enabled()
                assert torch.get_num_threads() == 1
                raise RuntimeError("inside")
        assert not torch.are_deterministic_algorithms_enabled()
        assert torch.get_num_threads() == before[0]
        torch.use_deterministic_algorithms(True, warn_only=True)
        with deterministic():
            assert not torch.is_deterministic_algorithms_warn_only_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
    finally:
        torch.use_deterministic_algorithms(before[1])


def test_device_auto_and_bad_arguments(loaders):
    train_loader, _ = loaders
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    with pytest.raises(TypeError, match="`model`"):
        fit("not a model", train_loader)
    with pytest.raises(ValueError, match="`epochs`"):
        fit(_mlp(), train_loader, epochs=0)
    with pytest.raises(ValueError, match="`lr`"):
        fit(_mlp(), train_loader, lr=-1.0)
    with pytest.raises(TypeError, match="`train_loader`"):
        fit(_mlp(), 3)
    with pytest.raises(ValueError, match="no batches"):
        fit(_mlp(), [])
    with pytest.raises(ValueError, match="no batches"):
        evaluate(_mlp(), [])
