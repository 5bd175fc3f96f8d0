"""Average precision against torchmetrics (pycocotools), RoI pooling against torchvision.ops,
anchors against torchvision's AnchorGenerator, and hand-computed cases of each."""

import warnings

import numpy as np
import pytest
import torch
import torchvision.ops as tvops
from torchmetrics.detection import MeanAveragePrecision
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList

from cvlib.detection import (
    COCO_IOU_THRESHOLDS,
    anchor_boxes,
    average_precision,
    best_anchor_iou,
    box_iou,
    mean_average_precision,
    precision_recall_curve,
    roi_bins,
    roi_pool,
)


def fake_detector(n_images, n_classes, seed):
    """Ground truth and detections that are jittered copies, misses and false alarms."""
    g = torch.Generator().manual_seed(seed)
    detections, targets = [], []
    for _ in range(n_images):
        n_true = int(torch.randint(0, 5, (1,), generator=g))
        xy = torch.rand(n_true, 2, generator=g) * 80
        truth = torch.cat([xy, xy + 5 + torch.rand(n_true, 2, generator=g) * 30], dim=1)
        labels = torch.randint(0, n_classes, (n_true,), generator=g)
        keep = torch.rand(n_true, generator=g) > 0.2  # some objects are missed
        found = truth[keep] + torch.randn(int(keep.sum()), 4, generator=g) * 1.5
        n_false = int(torch.randint(0, 4, (1,), generator=g))
        xy = torch.rand(n_false, 2, generator=g) * 80
        false = torch.cat([xy, xy + 5 + torch.rand(n_false, 2, generator=g) * 30], dim=1)
        boxes = torch.cat([found, false])
        boxes = torch.cat([boxes[:, :2], torch.maximum(boxes[:, 2:], boxes[:, :2] + 1)], dim=1)
        det_labels = torch.cat([labels[keep], torch.randint(0, n_classes, (n_false,), generator=g)])
        flip = torch.rand(len(det_labels), generator=g) < 0.1  # a few wrong classes
        det_labels[flip] = (det_labels[flip] + 1) % n_classes
        detections.append(
            {"boxes": boxes, "scores": torch.rand(len(boxes), generator=g), "labels": det_labels}
        )
        targets.append({"boxes": truth, "labels": labels})
    return detections, targets


def torchmetrics_map(detections, targets, thresholds):
    """torchmetrics with COCO's thresholds in float64: its defaults are float32 (0.6 becomes
    0.6000000238), which moves a recall of exactly 3/5 below the 0.6 recall point."""
    metric = MeanAveragePrecision(
        iou_type="bbox",
        iou_thresholds=list(thresholds),
        rec_thresholds=np.linspace(0.0, 1.0, 101).tolist(),
        class_metrics=True,
        backend="pycocotools",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric.update(detections, targets)
        return metric.compute()


@pytest.mark.parametrize("seed", range(4))
def test_map_equals_torchmetrics_pycocotools(seed):
    detections, targets = fake_detector(n_images=25, n_classes=3, seed=seed)
    ours = mean_average_precision(detections, targets)
    theirs = torchmetrics_map(detections, targets, COCO_IOU_THRESHOLDS)
    assert ours["map"] == pytest.approx(theirs["map"].item(), abs=1e-6)
    assert ours["map_50"] == pytest.approx(theirs["map_50"].item(), abs=1e-6)
    assert ours["map_75"] == pytest.approx(theirs["map_75"].item(), abs=1e-6)
    per_class = dict(zip(theirs["classes"].tolist(), theirs["map_per_class"].tolist(), strict=True))
    for label, values in ours["ap"].items():
        assert np.mean(values) == pytest.approx(per_class[label], abs=1e-6)
    assert 0.05 < ours["map"] < 0.95  # a case with misses, false alarms and near misses


def test_map_at_one_threshold_equals_torchmetrics():
    detections, targets = fake_detector(n_images=30, n_classes=2, seed=7)
    ours = mean_average_precision(detections, targets, iou_thresholds=[0.3])
    theirs = torchmetrics_map(detections, targets, [0.3])
    assert ours["map"] == pytest.approx(theirs["map"].item(), abs=1e-6)


def test_precision_recall_by_hand():
    # one image, three true boxes; detections in score order: hit, miss, hit, duplicate
    truth = torch.tensor([[0.0, 0, 10, 10], [20, 20, 30, 30], [40, 40, 50, 50]])
    boxes = torch.tensor([[0.0, 0, 10, 10], [60, 60, 70, 70], [20, 20, 30, 31], [0, 0, 10, 11]])
    det = [{"boxes": boxes, "scores": torch.tensor([0.9, 0.8, 0.7, 0.6]), "labels": torch.zeros(4)}]
    tgt = [{"boxes": truth, "labels": torch.zeros(3)}]
    precision, recall, scores, n_true = precision_recall_curve(det, tgt, label=0)
    np.testing.assert_allclose(precision, [1, 1 / 2, 2 / 3, 2 / 4], atol=1e-12)
    np.testing.assert_allclose(recall, [1 / 3, 1 / 3, 2 / 3, 2 / 3])
    assert n_true == 3 and scores.tolist() == pytest.approx([0.9, 0.8, 0.7, 0.6])
    # envelope: 1 up to recall 1/3 (34 points), 2/3 up to 2/3 (33 points), 0 beyond
    expected = (34 * 1.0 + 33 * 2 / 3) / 101
    assert average_precision(precision, recall) == pytest.approx(expected, abs=1e-12)


def coco_ap_by_definition(precision, recall):
    """COCO's 101-point interpolated AP read literally, independent of cvlib's vectorised one:
    at each recall point t = 0, 0.01, ..., 1 (pycocotools' own grid, np.linspace) take the best
    precision of any point whose recall is at least t (0 when none reaches t), and average the
    101 values."""
    total = 0.0
    for t in np.linspace(0.0, 1.0, 101):
        reached = [p for p, r in zip(precision, recall, strict=True) if r >= t]
        total += max(reached) if reached else 0.0
    return total / 101


@pytest.mark.parametrize(
    "precision, recall, expected",
    [
        ([1.0, 0.5], [0.5, 0.5], 51 / 101),  # recalls 0 to 0.5 (51 points) at precision 1
        ([1.0, 0.5, 2 / 3], [0.5, 0.5, 1.0], (51 + 50 * 2 / 3) / 101),  # then 2/3 up to recall 1
        ([0.0, 0.5, 2 / 3], [0.0, 0.5, 1.0], (51 * 2 / 3 + 50 * 2 / 3) / 101),  # envelope lifts
        ([1.0, 1.0, 1.0, 1.0], [0.25, 0.5, 0.75, 1.0], 1.0),  # every box, no false alarm
        ([0.0, 0.0], [0.0, 0.0], 0.0),  # false alarms only
        ([], [], 0.0),  # no detection at all
    ],
)
def test_average_precision_is_coco_101_point_by_hand(precision, recall, expected):
    assert coco_ap_by_definition(precision, recall) == pytest.approx(expected, abs=1e-12)
    assert average_precision(precision, recall) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_average_precision_equals_the_definition_on_random_curves(seed):
    rng = np.random.default_rng(seed)
    hits = rng.random(rng.integers(1, 40)) < rng.random()  # TP or FP, in score order
    n_true = int(hits.sum()) + int(rng.integers(0, 5))  # some objects are never found
    tp = np.cumsum(hits)
    precision = tp / np.arange(1, len(hits) + 1)
    recall = tp / max(n_true, 1)
    expected = coco_ap_by_definition(precision.tolist(), recall.tolist())
    assert average_precision(precision, recall) == pytest.approx(expected, abs=1e-12)


def test_iou_of_exactly_the_threshold_counts_as_a_hit_as_in_coco():
    truth = [{"boxes": torch.tensor([[0.0, 0, 10, 10]]), "labels": torch.tensor([0])}]

    def ap_of(box):
        det = [{"boxes": torch.tensor([box]), "scores": torch.ones(1), "labels": torch.tensor([0])}]
        return mean_average_precision(det, truth, iou_thresholds=[0.5])["map_50"]

    assert box_iou(torch.tensor([[0.0, 0, 10, 20]]), truth[0]["boxes"]).item() == 0.5
    assert ap_of([0.0, 0, 10, 20]) == pytest.approx(1.0)  # IoU 100/200 = 0.5 >= 0.5: a hit
    assert ap_of([0.0, 0, 10, 20.5]) == 0.0  # IoU 100/205 < 0.5: a false alarm


def test_a_perfect_detector_scores_one_and_classes_without_truth_are_left_out():
    _, targets = fake_detector(n_images=10, n_classes=3, seed=1)
    perfect = [
        {"boxes": t["boxes"], "scores": torch.ones(len(t["boxes"])), "labels": t["labels"]}
        for t in targets
    ]
    perfect[0] = {  # plus a detection of a class that never occurs
        "boxes": torch.cat([perfect[0]["boxes"], torch.tensor([[0.0, 0, 5, 5]])]),
        "scores": torch.cat([perfect[0]["scores"], torch.tensor([0.01])]),
        "labels": torch.cat([perfect[0]["labels"], torch.tensor([9])]),
    }
    result = mean_average_precision(perfect, targets)
    assert result["map"] == pytest.approx(1.0, abs=1e-12) and 9 not in result["ap"]


def test_a_class_never_detected_scores_zero_as_in_torchmetrics():
    detections, targets = fake_detector(n_images=12, n_classes=3, seed=5)
    for d in detections:  # the detector never says class 2
        keep = d["labels"] != 2
        d.update({k: v[keep] for k, v in d.items()})
    ours = mean_average_precision(detections, targets)
    assert ours["ap"][2] == [0.0] * 10
    theirs = torchmetrics_map(detections, targets, COCO_IOU_THRESHOLDS)
    assert ours["map"] == pytest.approx(theirs["map"].item(), abs=1e-6)


def test_metrics_name_bad_input():
    with pytest.raises(ValueError, match="detections"):
        mean_average_precision([{}], [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0)}])
    with pytest.raises(ValueError, match="images"):
        mean_average_precision([], [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0)}])
    with pytest.raises(ValueError, match="iou_thresholds"):
        mean_average_precision([], [], iou_thresholds=[1.5])


@pytest.mark.parametrize("scale", [1.0, 0.5, 0.25, 1 / 16])
@pytest.mark.parametrize("output_size", [1, 2, (3, 2), 7])
def test_roi_pool_equals_torchvision(scale, output_size):
    g = torch.Generator().manual_seed(int(scale * 100) + 7)
    features = torch.randn(2, 3, 20, 24, generator=g)
    size = 24 / scale
    xy = torch.rand(12, 2, generator=g) * size * 0.8
    boxes = torch.cat([xy, xy + torch.rand(12, 2, generator=g) * size * 0.6], dim=1)
    boxes[0] = torch.tensor([0.5, 1.5, 2.5, 3.5]) / scale  # halves: C rounds them away from zero
    boxes[1] = torch.tensor([3.0, 3.0, 1.0, 1.0]) / scale  # malformed (x2 < x1): one cell
    boxes[2] = torch.tensor([20.0, 15.0, 40.0, 40.0]) / scale  # past the map's edge
    per_image = [boxes[:7], boxes[7:]]
    ours = roi_pool(features, per_image, output_size, spatial_scale=scale)
    theirs = tvops.roi_pool(features, per_image, output_size, spatial_scale=scale)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def test_roi_pool_by_hand_and_row_format():
    f = torch.arange(36.0).reshape(1, 1, 6, 6)  # value = 6 * row + column
    # box columns 1..4, rows 0..5 (ends included): 2 x 2 bins of rows 0-2 / 3-5, columns 1-2 / 3-4
    out = roi_pool(f, torch.tensor([[0.0, 1, 0, 4, 5]]), 2)
    assert out[0, 0].tolist() == [[14.0, 16.0], [32.0, 34.0]]
    assert roi_bins((1, 0, 4, 5), 2) == [
        [((0, 3), (1, 3)), ((0, 3), (3, 5))],
        [((3, 6), (1, 3)), ((3, 6), (3, 5))],
    ]
    with pytest.raises(ValueError, match="boxes"):
        roi_pool(f, torch.zeros(2, 4), 2)
    with pytest.raises(ValueError, match="features"):
        roi_pool(f[0], torch.zeros(1, 5), 2)


@pytest.mark.parametrize("feature_size", [(4, 4), (3, 5)])
def test_anchors_equal_torchvision_anchor_generator(feature_size):
    sizes, ratios, stride = (8.0, 16.0), (0.25, 1.0, 4.0), 8  # half-sides are integers
    generator = AnchorGenerator(sizes=(sizes,), aspect_ratios=(ratios,))
    h, w = feature_size[0] * stride, feature_size[1] * stride
    images = ImageList(torch.zeros(1, 3, h, w), [(h, w)])
    (theirs,) = generator(images, [torch.zeros(1, 8, *feature_size)])
    ours = anchor_boxes(feature_size, stride, sizes, ratios, offset=0.0)  # torchvision: corners
    torch.testing.assert_close(ours, theirs)


def test_anchor_shapes_and_best_match():
    anchors = anchor_boxes(4, stride=8, sizes=(8.0, 16.0), aspect_ratios=(0.5, 1.0, 2.0))
    assert anchors.shape == (4 * 4 * 6, 4)
    w, h = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    torch.testing.assert_close(w * h, torch.tensor([64.0, 256.0] * 3 * 16))  # area = size^2
    torch.testing.assert_close((h / w)[:6], torch.tensor([0.5, 0.5, 1.0, 1.0, 2.0, 2.0]))
    centres = (anchors[:, :2] + anchors[:, 2:]) / 2
    assert centres[:6].tolist() == [[4.0, 4.0]] * 6  # cell (0, 0) is centred at (4, 4)
    truth = torch.tensor([[4.0, 4.0, 20.0, 20.0], [0.0, 0.0, 5.0, 11.0]])
    iou, index = best_anchor_iou(anchors, truth)
    torch.testing.assert_close(iou, box_iou(truth, anchors).max(dim=1).values)
    assert iou[0].item() == 1.0  # the 16 x 16 square anchor of cell (1, 1), centred at (12, 12)
    assert anchors[index[0]].tolist() == [4.0, 4.0, 20.0, 20.0]
    with pytest.raises(ValueError, match="sizes"):
        anchor_boxes(2, 8, sizes=())
