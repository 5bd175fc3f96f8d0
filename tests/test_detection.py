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
    torch.testing.assert_close(encode_boxes(target, reference, (10, 10, 5, 5)),
                               expected * torch.tensor([10, 10, 5, 5]))


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
