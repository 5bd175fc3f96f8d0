"""ShapesCNN and its experiment: centring, max pooling, a short run that learns, the target."""

import pytest
import torch
from torch import nn

from cvlib.data import shapes
from cvlib.models.course_cnn import CourseCNN
from cvlib.shapes_classifier import ShapesCNN, shapes_classifier_experiment, train_shapes_classifier


def test_layers_match_course_cnn_except_the_pool():
    model, base = ShapesCNN(), CourseCNN(num_classes=3, in_channels=3)
    names = [n for n, _ in model.named_modules()]
    assert names == [n for n, _ in base.named_modules()]
    assert isinstance(model.features[10], nn.ReLU)  # the Grad-CAM layer of chapter 12
    assert isinstance(model.features[11], nn.AdaptiveMaxPool2d)


def test_forward_equals_course_cnn_on_centred_max_pooled_input():
    torch.manual_seed(0)
    model = ShapesCNN().eval()
    x = torch.rand(4, 3, 16, 16)
    centred = x - x.mean(dim=(2, 3), keepdim=True)
    reference = model.head(model.features[:11](centred).amax(dim=(2, 3)))  # independent path
    assert torch.allclose(model(x), reference, atol=1e-6)
    # per-image, per-channel constant shifts vanish
    shift = torch.rand(4, 3, 1, 1)
    assert torch.allclose(model(x), model(x + shift), atol=1e-5)


def test_short_training_lowers_the_loss_and_validates():
    data = shapes(96, size=16, seed=0)
    torch.manual_seed(0)
    model = ShapesCNN()
    losses = train_shapes_classifier(model, data.images, data.labels, epochs=3, progress=False)
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert not model.training
    with pytest.raises(ValueError, match="epochs"):
        train_shapes_classifier(model, data.images, data.labels, epochs=0)
    with pytest.raises(ValueError, match="labels"):
        train_shapes_classifier(model, data.images, data.labels[:5])


def test_experiment_restores_threads_and_reports():
    before = torch.get_num_threads()
    r = shapes_classifier_experiment(n_train=64, n_test=32, size=16, epochs=1)
    assert torch.get_num_threads() == before
    assert len(r["predictions"]) == 32 and 0.0 <= r["accuracy"] <= 1.0
    expected = (r["predictions"] == r["test"].labels).double().mean().item()
    assert r["accuracy"] == pytest.approx(expected)


@pytest.mark.slow
def test_default_experiment_reaches_95_percent():
    r = shapes_classifier_experiment()
    assert r["accuracy"] >= 0.95
