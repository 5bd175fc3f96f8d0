"""The one-stage detector of chapter 11 (cvlib.detection.ssd, cvlib.models.ssd.TinySSD): anchor
labelling and the loss against hand computations, hard-negative mining against a brute-force
reference, the offsets against torchvision's box coder, decoding with per-class NMS, and the
shipped checkpoint against its recipe and its model card."""

import math

import pytest
import torch
from torch import nn
from torchvision.models.detection._utils import BoxCoder

from cvlib.data import TEST_SEED_OFFSET, shapes
from cvlib.detection import (
    SSD_BOX_WEIGHTS,
    decode_boxes,
    encode_boxes,
    label_anchors,
    ssd_anchors,
    ssd_detect,
    ssd_loss,
    train_ssd,
)
from cvlib.experiments import pretrain, pretrain_ssd, ssd
from cvlib.experiments.common import made_here
from cvlib.models.ssd import TinySSD

# --- labelling ---------------------------------------------------------------------------------

ANCHORS = torch.tensor(
    [
        [0.0, 0, 10, 10],  # IoU 1 with the first box
        [0, 0, 10, 20],  # IoU 100/200 = 0.5 exactly: positive (>= 0.5)
        [0, 0, 10, 22],  # IoU 100/220 = 0.45: ignored
        [0, 0, 10, 26],  # IoU 100/260 = 0.38: background
        [40, 40, 50, 50],  # IoU 16/100 with the small box, its best anchor: forced positive
        [60, 60, 70, 70],  # overlaps nothing: background
    ]
)
GT = torch.tensor([[0.0, 0, 10, 10], [44, 44, 48, 48]])
GT_LABELS = torch.tensor([2, 0])


def test_anchor_labels_of_a_hand_made_case():
    labels, targets = label_anchors(ANCHORS, GT, GT_LABELS, pos_iou=0.5, neg_iou=0.4)
    assert labels.tolist() == [3, 3, -1, 0, 1, 0]
    log2, log04 = math.log(2.0), math.log(0.4)
    expected = torch.tensor(
        [
            [0.0, 0, 0, 0],  # the box itself
            [0, 10 * (5 - 10) / 20, 0, 5 * -log2],  # centre (5, 10) -> (5, 5), height 20 -> 10
            [0, 0, 0, 0],
            [0, 0, 0, 0],
            [10 * 1 / 10, 10 * 1 / 10, 5 * log04, 5 * log04],  # (45, 45) 10 x 10 -> (46, 46) 4 x 4
            [0, 0, 0, 0],
        ]
    )
    torch.testing.assert_close(targets, expected)


def test_without_the_forced_anchor_the_small_box_would_have_no_positive():
    labels, _ = label_anchors(ANCHORS[:4], GT[:1], GT_LABELS[:1])
    assert labels.tolist() == [3, 3, -1, 0]
    labels, _ = label_anchors(ANCHORS, GT, GT_LABELS, pos_iou=0.9, neg_iou=0.1)
    assert labels.tolist() == [3, -1, -1, -1, 1, 0]  # the best anchor of each box, only


def test_an_image_without_objects_is_all_background():
    labels, targets = label_anchors(ANCHORS, torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64))
    assert labels.tolist() == [0] * 6 and not targets.any()


def test_label_anchors_rejects_bad_thresholds_and_mismatched_labels():
    with pytest.raises(ValueError, match="neg_iou"):
        label_anchors(ANCHORS, GT, GT_LABELS, pos_iou=0.3, neg_iou=0.4)
    with pytest.raises(ValueError, match="gt_labels"):
        label_anchors(ANCHORS, GT, GT_LABELS[:1])


# --- offsets -----------------------------------------------------------------------------------


def test_offsets_match_torchvision_and_decode_back():
    g = torch.Generator().manual_seed(0)
    anchors = ssd_anchors(TinySSD.anchor_spec, 32)
    xy = torch.rand(len(anchors), 2, generator=g) * 28
    boxes = torch.cat([xy, xy + 1 + torch.rand(len(anchors), 2, generator=g) * 12], dim=1)
    ours = encode_boxes(boxes, anchors, SSD_BOX_WEIGHTS)
    coder = BoxCoder(weights=SSD_BOX_WEIGHTS)
    torch.testing.assert_close(ours, coder.encode_single(boxes, anchors))
    torch.testing.assert_close(decode_boxes(ours, anchors, SSD_BOX_WEIGHTS), boxes)
    torch.testing.assert_close(coder.decode_single(ours, anchors), boxes)


def test_every_positive_anchor_decodes_onto_its_box():
    data = shapes(20, size=32, max_objects=2, seed=5, task="detect")
    anchors = ssd_anchors(TinySSD.anchor_spec, 32)
    for boxes, labels in zip(data.boxes, data.box_labels, strict=True):
        lab, targets = label_anchors(anchors, boxes, labels)
        pos = lab > 0
        decoded = decode_boxes(targets[pos], anchors[pos], SSD_BOX_WEIGHTS)
        hits = (decoded[:, None, :] - boxes[None]).abs().amax(dim=2) < 1e-4  # (positives, G)
        assert hits.any(dim=1).all()  # each one lands on a true box
        assert torch.equal(lab[pos] - 1, labels[hits.float().argmax(dim=1)])  # of its class
        assert hits.any(dim=0).all()  # and every box has one


def test_ssd_anchors_follow_the_model_outputs():
    """Anchor p and output p belong to the same cell: read the heads' maps by hand."""
    model = TinySSD().eval()
    seen = []
    for head in model.heads:
        head.register_forward_hook(lambda m, i, out: seen.append(out))
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        logits, deltas = model(x)
    anchors = ssd_anchors(model.anchor_spec, 32)
    assert logits.shape == (1, len(anchors), 4) and deltas.shape == (1, len(anchors), 4)
    start = 0
    for out, (stride, sizes) in zip(seen, model.anchor_spec, strict=True):
        side = 32 // stride
        for p in (0, 7, side * len(sizes) + 1, side * side * len(sizes) - 1):
            cell, a = divmod(p, len(sizes))
            i, j = divmod(cell, side)
            box = anchors[start + p]
            centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
            assert centre == ((j + 0.5) * stride, (i + 0.5) * stride)
            assert (box[2] - box[0]).item() == sizes[a]
            torch.testing.assert_close(logits[0, start + p], out[0, 8 * a : 8 * a + 4, i, j])
            torch.testing.assert_close(deltas[0, start + p], out[0, 8 * a + 4 : 8 * a + 8, i, j])
        start += side * side * len(sizes)


def test_tiny_ssd_rejects_what_it_cannot_run():
    with pytest.raises(ValueError, match="anchor_spec"):
        TinySSD(anchor_spec=((4, (9.0,)), (8, (12.0,))))
    with pytest.raises(ValueError, match="divisible by 4"):
        TinySSD()(torch.zeros(1, 3, 30, 30))


# --- the loss ----------------------------------------------------------------------------------


def test_the_loss_of_a_tiny_case_by_hand():
    """One positive (class 1 of 1), four background anchors, one ignored; 3 negatives mined."""
    z = [-1.0, 0.0, 1.0, 2.0]  # background anchors' class-1 logit (background logit 0)
    logits = torch.tensor([[[0.0, 0.0]] + [[0.0, v] for v in z] + [[0.0, 5.0]]])  # (1, 6, 2)
    labels = torch.tensor([[1, 0, 0, 0, 0, -1]])
    deltas = torch.zeros(1, 6, 4)
    deltas[0, 0] = torch.tensor([0.5, -2.0, 0.0, 0.25])
    deltas[0, 1:] = 9.0  # the offsets of non-positive anchors must not count
    targets = torch.zeros(1, 6, 4)
    out = ssd_loss(logits, deltas, labels, targets, neg_ratio=3)
    positive = math.log(2.0)  # softmax (1/2, 1/2)
    mined = sum(math.log(1 + math.exp(v)) for v in (2.0, 1.0, 0.0))  # the three hardest
    box = 0.5 * 0.5**2 + (2.0 - 0.5) + 0.0 + 0.5 * 0.25**2  # smooth L1, beta 1
    assert out["positives"] == 1 and out["negatives"] == 3
    assert out["classification"].item() == pytest.approx(positive + mined, rel=1e-6)
    assert out["box"].item() == pytest.approx(box, rel=1e-6)
    assert out["loss"].item() == pytest.approx(positive + mined + box, rel=1e-6)


def _brute_force_loss(logits, deltas, labels, targets, neg_ratio):
    total_cls, total_box, n_pos = 0.0, 0.0, 0
    for lg, dl, lb, tg in zip(logits, deltas, labels, targets, strict=True):
        ce = [-torch.log_softmax(lg[p], 0)[max(int(lb[p]), 0)].item() for p in range(len(lb))]
        pos = [p for p in range(len(lb)) if lb[p] > 0]
        neg = sorted((p for p in range(len(lb)) if lb[p] == 0), key=lambda p: -ce[p])
        chosen = pos + neg[: neg_ratio * len(pos)]
        total_cls += sum(ce[p] for p in chosen)
        for p in pos:
            for d in (dl[p] - tg[p]).abs().tolist():
                total_box += 0.5 * d * d if d < 1 else d - 0.5
        n_pos += len(pos)
    return total_cls / max(n_pos, 1), total_box / max(n_pos, 1)


@pytest.mark.parametrize("neg_ratio", [0, 1, 3, 50])
def test_hard_negative_mining_matches_a_brute_force_reference(neg_ratio):
    g = torch.Generator().manual_seed(neg_ratio)
    logits = torch.randn(3, 40, 4, generator=g) * 2
    deltas, targets = torch.randn(3, 40, 4, generator=g), torch.randn(3, 40, 4, generator=g)
    labels = torch.randint(-1, 1, (3, 40), generator=g)  # ignored or background
    labels[0, :6] = torch.tensor([1, 3, 2, 2, 1, 3])  # six positives, 34 others
    labels[2] = -1  # more positives than background anchors: every one of them is used
    labels[2, :5] = torch.tensor([1, 2, 3, 1, 2])
    labels[2, 5:8] = 0  # image 1 has no positive, so nothing of it counts
    out = ssd_loss(logits, deltas, labels, targets, neg_ratio=neg_ratio)
    cls, box = _brute_force_loss(logits, deltas, labels, targets, neg_ratio)
    assert out["classification"].item() == pytest.approx(cls, rel=1e-5)
    assert out["box"].item() == pytest.approx(box, rel=1e-5)


def test_ssd_loss_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="logits"):
        ssd_loss(torch.zeros(2, 5, 4), torch.zeros(2, 5, 4), torch.zeros(2, 4).long(),
                 torch.zeros(2, 5, 4))  # fmt: skip


# --- detection ---------------------------------------------------------------------------------


class _Fixed(nn.Module):
    """A stand-in network with TinySSD's anchors and chosen outputs for one image."""

    anchor_spec = TinySSD.anchor_spec

    def __init__(self, logits, deltas):
        super().__init__()
        self.logits, self.deltas = logits, deltas

    def forward(self, x):
        return self.logits[None].expand(len(x), -1, -1), self.deltas[None].expand(len(x), -1, -1)


def test_detection_decodes_thresholds_and_suppresses_per_class():
    anchors = ssd_anchors(TinySSD.anchor_spec, 32)
    logits = torch.full((len(anchors), 4), -10.0)
    logits[:, 0] = 10.0  # background everywhere, except:
    a, b = 16 * 5 + 5, 16 * 5 + 6  # neighbouring fine anchors, IoU 24 / 48
    logits[a] = torch.tensor([0.0, 3.0, 0.0, 0.0])  # circle, probability about 0.87
    logits[b] = torch.tensor([0.0, 2.0, 2.5, 0.0])  # circle 0.34 (suppressed by a), square 0.56
    deltas = torch.zeros(len(anchors), 4)
    deltas[a] = torch.tensor([1.0, 0.0, 0.0, 0.0])  # a moves right by a tenth of its width
    found = ssd_detect(_Fixed(logits, deltas), torch.zeros(2, 3, 32, 32), score_threshold=0.05)
    assert len(found) == 2
    f = found[0]
    assert f["labels"].tolist() == [0, 1]  # the circle at a, the square at b; b's circle is gone
    probs = logits.softmax(dim=1)
    torch.testing.assert_close(f["scores"], torch.stack([probs[a, 1], probs[b, 2]]))
    expected = torch.stack([anchors[a] + torch.tensor([0.6, 0, 0.6, 0]), anchors[b]])
    torch.testing.assert_close(f["boxes"], expected)
    none = ssd_detect(_Fixed(logits, deltas), torch.zeros(1, 3, 32, 32), score_threshold=0.9)
    assert len(none[0]["boxes"]) == 0


# --- training and the shipped checkpoint --------------------------------------------------------


def test_training_records_the_loss_and_its_two_terms():
    data = shapes(40, size=32, max_objects=2, seed=7, task="detect")
    history = train_ssd(TinySSD(), data, epochs=2, lr=1e-2, progress=False)
    assert len(history["loss"]) == 2
    for total, cls, box in zip(*history.values(), strict=True):
        assert total == pytest.approx(cls + box, rel=1e-5)


SHIPPED = torch.load(pretrain_ssd.OUT, weights_only=True)


def test_the_shipped_detector_scores_what_its_card_says():
    model, meta = pretrain_ssd.load()
    s = meta["settings"]
    test = shapes(
        s["n_test"], size=s["size"], max_objects=s["max_objects"], task="detect",
        seed=s["seed"] + TEST_SEED_OFFSET,
    )  # fmt: skip
    ap, _, _, _ = ssd.evaluate(model, test, s["score_threshold"])
    for key in ("map", "map_50", "map_75"):
        assert abs(ap[key] - meta["ap"][key]) <= (1e-9 if made_here(meta) else 0.01), key
    assert ap["map_50"] > 0.9  # a detector that works: the chapter's premise
    card = (pretrain_ssd.OUT.parent / pretrain_ssd.CARD_NAME).read_text()
    assert f"**AP50 {meta['ap']['map_50']:.3f}**" in card
    history = meta["history"]
    assert len(history["loss"]) == s["epochs"] and history["loss"][-1] < history["loss"][0] / 10
    assert "ssd_shapes" in pretrain.NAMES
    assert pretrain_ssd.OUT.stat().st_size < 1_000_000


@pytest.mark.slow
def test_the_recipe_gives_the_shipped_file_again(tmp_path):
    """To the bit where machine, torch and CPU kernels are those that made it (about 30 s)."""
    assert pretrain.main(["ssd_shapes", "--out", str(tmp_path / "again.pt")]) == 0
    again = torch.load(tmp_path / "again.pt", weights_only=True)
    meta = SHIPPED["meta"]
    assert again["meta"]["settings"] == meta["settings"]
    for key in ("map", "map_50", "map_75"):
        assert abs(again["meta"]["ap"][key] - meta["ap"][key]) <= 0.01, key
    assert (tmp_path / pretrain_ssd.CARD_NAME).exists()
    if made_here(meta):
        assert again["meta"]["history"] == meta["history"]
        assert again["meta"]["ap"] == meta["ap"]
        for key, value in SHIPPED["state_dict"].items():
            assert torch.equal(value, again["state_dict"][key]), key


def test_the_model_anchors_by_hand():
    """Fine map: cells of 2 pixels, centres 1, 3, ..., 31; coarse: cells of 4, centres 2, .., 30."""
    anchors = ssd_anchors(TinySSD.anchor_spec, 32)
    assert len(anchors) == 16 * 16 + 8 * 8 * 2
    expected = {
        0: [-2.0, -2, 4, 4],  # fine cell (0, 0), centre (1, 1), 6 x 6
        17: [0.0, 0, 6, 6],  # fine cell (1, 1), centre (3, 3)
        255: [28.0, 28, 34, 34],  # fine cell (15, 15), centre (31, 31)
        256: [-2.5, -2.5, 6.5, 6.5],  # coarse cell (0, 0), centre (2, 2), 9 x 9
        257: [-4.0, -4, 8, 8],  # the same cell's 12 x 12 anchor
        383: [24.0, 24, 36, 36],  # coarse cell (7, 7), centre (30, 30), 12 x 12
    }
    for index, box in expected.items():
        assert anchors[index].tolist() == box, index
