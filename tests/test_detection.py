"""Tests for cvlib.detection: boxes against hand-computed cases and torchvision.ops."""

import math

import pytest
import torch
import torchvision.ops as tvops

from cvlib.detection import box_area, box_iou, decode_boxes, encode_boxes, nms


def random_boxes(n, generator, size=50.0):
    xy = torch.rand(n, 2, generator=generator) * size
    wh = torch.rand(n, 2, generator=generator) * size / 2 + 0.5
    return torch.cat([xy, xy + wh], dim=1)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([0, 0, 2, 2], [3, 3, 5, 5], 0.0),  # disjoint
        ([0, 0, 2, 2], [2, 0, 4, 2], 0.0),  # touching along an edge
        ([0, 0, 2, 2], [2, 2, 4, 4], 0.0),  # touching at a corner
        ([0, 0, 4, 4], [1, 1, 3, 3], 4 / 16),  # contained
        ([1, 2, 5, 7], [1, 2, 5, 7], 1.0),  # identical
        ([0, 0, 2, 2], [1, 1, 3, 3], 1 / 7),  # overlap 1, union 7
        ([0, 0, 4, 2], [2, 0, 6, 2], 4 / 12),  # half overlap, union 12
    ],
)
def test_box_iou_hand_computed(a, b, expected):
    iou = box_iou(torch.tensor([a], dtype=torch.float32), torch.tensor([b], dtype=torch.float32))
    assert iou.shape == (1, 1)
    assert iou.item() == pytest.approx(expected, abs=1e-6)


def test_box_iou_is_symmetric_and_zero_area_gives_zero():
    a = torch.tensor([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 2.0, 2.0]])
    iou = box_iou(a, a)
    assert torch.equal(iou, iou.T)
    assert iou[0, 0].item() == 0.0 and not torch.isnan(iou).any()


def test_box_iou_and_area_match_torchvision():
    g = torch.Generator().manual_seed(0)
    a, b = random_boxes(40, g), random_boxes(30, g)
    assert box_iou(a, b).shape == (40, 30)
    torch.testing.assert_close(box_iou(a, b), tvops.box_iou(a, b))
    torch.testing.assert_close(box_area(a), tvops.box_area(a))


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.7, 1.0])
@pytest.mark.parametrize("seed", range(5))
def test_nms_matches_torchvision(threshold, seed):
    g = torch.Generator().manual_seed(seed)
    boxes = random_boxes(60, g)
    scores = torch.rand(60, generator=g)
    assert torch.equal(nms(boxes, scores, threshold), tvops.nms(boxes, scores, threshold))


def test_nms_with_tied_scores_matches_torchvision():
    g = torch.Generator().manual_seed(1)
    boxes = random_boxes(80, g)
    scores = torch.randint(0, 4, (80,), generator=g).float()  # many ties
    for threshold in (0.1, 0.5):
        assert torch.equal(nms(boxes, scores, threshold), tvops.nms(boxes, scores, threshold))


def test_nms_hand_computed_and_sorted_by_score():
    boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10]])
    scores = torch.tensor([0.5, 0.9, 0.7, 0.1])
    # IoU([0,0,10,10], [1,1,11,11]) = 81 / 119 = 0.68: box 1 suppresses 0 and 3, box 2 stays.
    assert nms(boxes, scores, 0.5).tolist() == [1, 2]
    assert nms(boxes, scores, 0.7).tolist() == [1, 2, 0]  # box 3 duplicates box 0
    assert nms(boxes[:0], scores[:0], 0.5).tolist() == []


def test_encode_decode_round_trip():
    g = torch.Generator().manual_seed(2)
    boxes, reference = random_boxes(50, g), random_boxes(50, g)
    for weights in [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)]:
        deltas = encode_boxes(boxes, reference, weights)
        torch.testing.assert_close(decode_boxes(deltas, reference, weights), boxes)


def test_encode_hand_computed():
    reference = torch.tensor([[0.0, 0.0, 10.0, 20.0]])  # centre (5, 10), size (10, 20)
    target = torch.tensor([[2.0, 4.0, 22.0, 24.0]])  # centre (12, 14), size (20, 20)
    expected = torch.tensor([[0.7, 0.2, math.log(2.0), 0.0]])
    torch.testing.assert_close(encode_boxes(target, reference), expected)
    torch.testing.assert_close(
        encode_boxes(target, reference, (10, 10, 5, 5)), expected * torch.tensor([10, 10, 5, 5])
    )


def test_bad_input_is_named():
    good = torch.zeros(2, 4)
    with pytest.raises(ValueError, match="`a`"):
        box_iou(torch.zeros(2, 3), good)
    with pytest.raises(TypeError, match="`b`"):
        box_iou(good, [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="x2 >= x1"):
        box_area(torch.tensor([[2.0, 0.0, 1.0, 1.0]]))
    with pytest.raises(ValueError, match="iou_threshold"):
        nms(good, torch.zeros(2), 1.5)
    with pytest.raises(ValueError, match="scores"):
        nms(good, torch.zeros(3), 0.5)
    with pytest.raises(ValueError, match="rows"):
        encode_boxes(torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([[0.0, 0, 1, 1]] * 2))
    with pytest.raises(ValueError, match="weights"):
        encode_boxes(torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([[0.0, 0, 1, 1]]), (1, 1, 1))


# --- single-object box regressor --------------------------------------------------------------

from cvlib.detection import (  # noqa: E402
    crop_and_warp,
    detect,
    label_proposals,
    localisation_loss,
    predict_boxes,
    sliding_window_proposals,
)
from cvlib.models import BoxRegressor, ProposalClassifier  # noqa: E402


def test_localisation_loss_is_ce_plus_weighted_smooth_l1():
    g = torch.Generator().manual_seed(0)
    logits, labels = torch.randn(6, 3, generator=g), torch.tensor([0, 1, 2, 0, 1, 2])
    pred, true = torch.rand(6, 4, generator=g), torch.rand(6, 4, generator=g)
    total, ce, l1 = localisation_loss(logits, pred, labels, true, box_weight=2.0)
    diff = (pred - true).abs()
    smooth = torch.where(diff < 0.05, 0.5 * diff**2 / 0.05, diff - 0.025).mean()
    torch.testing.assert_close(ce, torch.nn.functional.cross_entropy(logits, labels))
    torch.testing.assert_close(l1, smooth)
    torch.testing.assert_close(total, ce + 2.0 * smooth)


def test_predicted_boxes_are_valid_pixel_boxes():
    torch.manual_seed(0)
    labels, boxes = predict_boxes(BoxRegressor(image_size=32), torch.rand(5, 3, 32, 32))
    assert labels.shape == (5,) and boxes.shape == (5, 4)
    assert (boxes[:, 2:] >= boxes[:, :2]).all() and boxes.min() >= 0 and boxes.max() <= 32
    with pytest.raises(ValueError, match="image_size"):
        BoxRegressor(image_size=30)


# --- R-CNN-style pipeline ---------------------------------------------------------------------


def test_sliding_windows_count_and_stay_inside():
    props = sliding_window_proposals(20, sizes=(5, 10), stride=5)
    assert props.shape == (4 * 4 + 3 * 3, 4)
    assert props.min() >= 0 and props.max() <= 20
    assert set((props[:, 2] - props[:, 0]).tolist()) == {5.0, 10.0}
    with pytest.raises(ValueError, match="sizes"):
        sliding_window_proposals(20, sizes=(30,))


def test_crop_and_warp_samples_inside_the_box():
    image = torch.zeros(1, 3, 16, 16)
    image[..., :8] = 1.0  # left half white
    crops = crop_and_warp(image, [torch.tensor([[0.0, 0, 8, 16], [8, 0, 16, 16]])], crop_size=4)
    assert crops.shape == (2, 3, 4, 4)
    torch.testing.assert_close(crops[0], torch.ones(3, 4, 4))
    torch.testing.assert_close(crops[1], torch.zeros(3, 4, 4))


def test_label_proposals_thresholds():
    gt = torch.tensor([[0.0, 0, 10, 10], [20, 20, 30, 30]])
    props = torch.tensor(
        [
            [0.0, 0, 10, 10],  # IoU 1 with box 0 -> class 1 + 1
            [0.0, 0, 10, 5],  # IoU 0.5 -> positive
            [0.0, 0, 10, 4],  # IoU 0.4 -> ignored
            [0.0, 0, 10, 2],  # IoU 0.2 -> background
            [21, 21, 30, 30],  # IoU 0.81 with box 1 -> class 0 + 1
        ]
    )
    labels, matched = label_proposals(props, gt, torch.tensor([1, 0]))
    assert labels.tolist() == [2, 2, -1, 0, 1]
    assert torch.equal(matched[4], gt[1])


def test_detect_output_is_sorted_and_suppressed():
    torch.manual_seed(0)
    props = sliding_window_proposals(32)
    out = detect(
        ProposalClassifier(), torch.rand(3, 32, 32), props, score_threshold=0.0, iou_threshold=0.3
    )
    assert out["boxes"].shape[1] == 4 and len(out["boxes"]) == len(out["scores"]) > 0
    assert (out["scores"][:-1] >= out["scores"][1:]).all()
    for c in out["labels"].unique():
        iou = box_iou(out["boxes"][out["labels"] == c], out["boxes"][out["labels"] == c])
        assert (iou.triu(diagonal=1) <= 0.3).all()


def test_evaluate_detector_reuses_lower_threshold_detections():
    from cvlib.data import shapes
    from cvlib.detection import detect, evaluate_detector, sliding_window_proposals
    from cvlib.models import ProposalClassifier

    torch.manual_seed(0)
    model = ProposalClassifier().eval()
    with torch.no_grad():
        model.classifier.bias.copy_(torch.tensor([0.0, 2.0, 1.0, 1.5]))  # many detections
    data = shapes(6, size=32, max_objects=2, task="detect", seed=3)
    proposals = sliding_window_proposals(32)
    low = [detect(model, image, proposals, score_threshold=0.2) for image in data.images]
    high = [detect(model, image, proposals, score_threshold=0.4) for image in data.images]
    for lo, hi in zip(low, high, strict=True):  # NMS in score order: a threshold is a filter
        keep = lo["scores"] >= 0.4
        assert all(torch.equal(lo[k][keep], hi[k]) for k in hi)
    assert sum(len(d["boxes"]) for d in high) > 0
    direct = evaluate_detector(model, data, proposals, score_threshold=0.4)
    reused = evaluate_detector(model, data, proposals, detections=low, score_threshold=0.4)
    assert direct == reused
