"""Tests for cvlib.segmentation: metrics by hand and against scikit-learn, FCN shapes, learning."""

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix as sk_confusion

from cvlib.data import shapes
from cvlib.models import FCN
from cvlib.segmentation import (
    confusion_matrix,
    evaluate_segmenter,
    iou_per_class,
    mean_iou,
    pixel_accuracy,
    train_segmenter,
)

TARGET = torch.tensor([[0, 0, 1], [0, 1, 1], [2, 2, 2]])
PRED = torch.tensor([[0, 1, 1], [0, 1, 0], [2, 2, 0]])


def test_hand_computed_metrics():
    # 6 of 9 pixels right.
    assert pixel_accuracy(PRED, TARGET) == pytest.approx(6 / 9)
    # class 0: TP 2 (0,0),(1,0); FP 2 (1,2),(2,2); FN 1 (0,1) -> 2 / 5
    # class 1: TP 2 (0,2),(1,1); FP 1 (0,1); FN 1 (1,2)       -> 2 / 4
    # class 2: TP 2; FP 0; FN 1 (2,2)                          -> 2 / 3
    expected = torch.tensor([2 / 5, 2 / 4, 2 / 3], dtype=torch.float64)
    torch.testing.assert_close(iou_per_class(PRED, TARGET, 3), expected)
    assert mean_iou(PRED, TARGET, 3) == pytest.approx(expected.mean().item())


def test_mean_iou_ignores_classes_absent_from_both():
    # Class 3 appears nowhere: left out. With num_classes=5, class 4 too.
    assert mean_iou(PRED, TARGET, 5) == pytest.approx(mean_iou(PRED, TARGET, 3))
    # A class predicted but absent from the target counts with IoU 0.
    pred = TARGET.clone()
    pred[0, 0] = 3
    ious = iou_per_class(pred, TARGET, 4)
    assert ious[3].item() == 0.0
    assert mean_iou(pred, TARGET, 4) == pytest.approx(torch.nanmean(ious).item())
    assert mean_iou(TARGET, TARGET, 4) == 1.0


def test_scores_are_argmaxed_and_confusion_matches_sklearn():
    g = torch.Generator().manual_seed(0)
    target = torch.randint(0, 4, (3, 10, 12), generator=g)
    scores = torch.randn(3, 4, 10, 12, generator=g)
    pred = scores.argmax(dim=1)
    assert pixel_accuracy(scores, target) == pixel_accuracy(pred, target)
    assert mean_iou(scores, target, 4) == mean_iou(pred, target, 4)
    expected = sk_confusion(target.flatten().numpy(), pred.flatten().numpy(), labels=range(4))
    np.testing.assert_array_equal(confusion_matrix(pred, target, 4).numpy(), expected)


def test_metrics_validate():
    with pytest.raises(ValueError, match="same shape"):
        pixel_accuracy(PRED[:2], TARGET)
    with pytest.raises(ValueError, match="target"):
        mean_iou(TARGET.clamp(max=1), TARGET, 2)  # target label 2 outside [0, 2)
    with pytest.raises(TypeError):
        pixel_accuracy(PRED.numpy(), TARGET)


@pytest.mark.parametrize("size", [(4, 4), (16, 16), (30, 37), (17, 64), (33, 9)])
@pytest.mark.parametrize("skip", [True, False])
def test_fcn_output_matches_input_size(size, skip):
    model = FCN(num_classes=5, in_channels=3, width=4, skip=skip)
    assert model(torch.zeros(2, 3, *size)).shape == (2, 5, *size)


def test_fcn_uses_transposed_convolutions():
    model = FCN()
    assert sum(isinstance(m, torch.nn.ConvTranspose2d) for m in model.modules()) == 2
    with pytest.raises(ValueError, match="x"):
        model(torch.zeros(3, 16, 16))


@pytest.mark.slow
def test_tiny_fcn_learns_a_few_shapes():
    torch.manual_seed(0)
    data = shapes(24, size=24, max_objects=1, seed=3, task="segment")
    model = FCN(width=8)
    before = evaluate_segmenter(model, data)["mean_iou"]
    losses = train_segmenter(
        model, data, epochs=40, lr=1e-2, batch_size=8, progress=False, class_weights=[0.3, 1, 1, 1]
    )
    after = evaluate_segmenter(model, data)
    assert losses[-1] < 0.5 * losses[0]
    assert after["mean_iou"] > max(before, 0.5)
