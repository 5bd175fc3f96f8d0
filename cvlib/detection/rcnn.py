"""A small R-CNN (Girshick et al., 2014): propose regions, crop and warp, classify, refine, NMS.

1. Proposals: square sliding windows at a few scales (:mod:`cvlib.detection.proposals`).
2. Each proposal is cropped and warped to a fixed ``crop_size`` (:func:`crop_and_warp`).
3. A small CNN (:class:`cvlib.models.ProposalClassifier`) scores every crop for background + each
   class, and regresses offsets (:func:`~cvlib.detection.boxes.encode_boxes`) that refine the
   proposal.
4. Overlapping detections are pruned by :func:`~cvlib.detection.boxes.nms` (across classes by
   default, within each class with ``per_class=True``).

Training crops: a proposal with IoU >= ``pos_iou`` with a ground-truth box takes that box's class,
one with IoU < ``neg_iou`` with every box is background, those in between are left out; the
ground-truth boxes themselves are added as positives, as in R-CNN.
"""

import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from cvlib.train import eval_mode, fit_one_cycle

from .boxes import box_iou, decode_boxes, encode_boxes, nms
from .proposals import crop_and_warp, label_proposals

__all__ = ["BOX_WEIGHTS", "detect", "evaluate_detector", "train_rcnn"]

BOX_WEIGHTS = (10.0, 10.0, 5.0, 5.0)  # Faster R-CNN's scaling of (dx, dy, dw, dh)


def _training_crops(dataset, proposals, crop_size, neg_per_pos, generator):
    """Crops, labels and regression targets sampled from every training image."""
    crops, labels, targets = [], [], []
    for image, gt, gt_labels in zip(dataset.images, dataset.boxes, dataset.box_labels, strict=True):
        props = torch.cat([proposals, gt])  # ground truth joins as positives
        lab, matched = label_proposals(props, gt, gt_labels)
        pos = torch.nonzero(lab > 0).flatten()
        neg = torch.nonzero(lab == 0).flatten()
        neg = neg[torch.randperm(len(neg), generator=generator)[: neg_per_pos * max(len(pos), 1)]]
        chosen = torch.cat([pos, neg])
        crops.append(crop_and_warp(image[None], [props[chosen]], crop_size))
        labels.append(lab[chosen])
        targets.append(encode_boxes(matched[chosen], props[chosen], BOX_WEIGHTS))
    return torch.cat(crops), torch.cat(labels), torch.cat(targets)


def train_rcnn(
    model,
    dataset,
    proposals,
    crop_size=16,
    epochs=8,
    lr=3e-3,
    batch_size=64,
    neg_per_pos=3,
    seed=0,
    progress=True,
):
    """Train ``model`` on crops of ``dataset`` (a detection :class:`ShapesDataset`).

    The loss is cross-entropy over background + classes plus smooth L1 on the box offsets of the
    positive crops, minimised by Adam with a one-cycle learning rate (warm-up to ``lr``, then
    annealing). Returns ``(losses per epoch, crop labels)``.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive integer, got {epochs!r}")
    generator = torch.Generator().manual_seed(seed)
    crops, labels, targets = _training_crops(dataset, proposals, crop_size, neg_per_pos, generator)

    def batch_loss(model, crops, labels, targets):
        logits, deltas = model(crops)
        positive = labels > 0
        loss = F.cross_entropy(logits, labels)
        if positive.any():
            loss = loss + F.smooth_l1_loss(deltas[positive], targets[positive], beta=0.1)
        return loss

    data = TensorDataset(crops, labels, targets)
    losses = fit_one_cycle(
        model,
        data,
        batch_loss,
        epochs,
        lr,
        batch_size,
        desc="R-CNN",
        progress=progress,
        channels_last=True,
        generator=generator,  # goes on from the draws of the negative crops
    )
    return losses, labels


@torch.no_grad()
def detect(
    model,
    image,
    proposals,
    crop_size=16,
    score_threshold=0.6,
    iou_threshold=0.3,
    refine=True,
    per_class=False,
):
    """Detections in one image ``(C, H, W)``: ``{"boxes" (D, 4), "labels" (D,), "scores" (D,)}``.

    Each proposal takes its best non-background class; those scoring at least
    ``score_threshold`` are refined (``refine``) and pruned by NMS. With ``per_class`` NMS runs
    within each class (objects of different classes may overlap); by default it runs across
    classes, so one object scored as two classes by neighbouring windows is reported once (in
    :func:`cvlib.data.shapes` objects never overlap).
    """
    with eval_mode(model):
        logits, deltas = model(crop_and_warp(image[None], [proposals], crop_size))
    probs = logits.softmax(dim=1)  # (P, K + 1)
    scores, labels = probs[:, 1:].max(dim=1)  # best object class, (P,)
    boxes = decode_boxes(deltas, proposals, BOX_WEIGHTS) if refine else proposals
    boxes = boxes.clamp(0, image.shape[-1])
    keep = scores >= score_threshold
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    if per_class:
        groups = [torch.nonzero(labels == c).flatten() for c in labels.unique()]
    else:
        groups = [torch.arange(len(boxes))]
    kept = [idx[nms(boxes[idx], scores[idx], iou_threshold)] for idx in groups]
    kept = torch.cat(kept) if kept else torch.zeros(0, dtype=torch.int64)
    kept = kept[scores[kept].argsort(descending=True)]
    return {"boxes": boxes[kept], "labels": labels[kept], "scores": scores[kept]}


def _scoring_at_least(found, threshold):
    keep = found["scores"] >= threshold
    return {k: v[keep] for k, v in found.items()}


def evaluate_detector(
    model, dataset, proposals, crop_size=16, match_iou=0.5, detections=None, **kwargs
):
    """Precision and recall of :func:`detect` on a detection data set, and crop accuracy.

    ``detections`` (one :func:`detect` output per image, made with the same settings but a
    lower ``score_threshold``) saves detecting again: the ones scoring at least
    ``score_threshold`` are exactly what :func:`detect` would return at that threshold, since
    NMS visits boxes by decreasing score and a box below the threshold never suppresses one above.

    A detection is correct when it has the class of a not-yet-matched ground-truth box with IoU at
    least ``match_iou`` (matched greedily by score). ``precision`` = correct / detections,
    ``recall`` = correct / ground-truth objects, ``image_accuracy`` = share of images whose
    detections are exactly right (every object found, nothing else), and ``crop_accuracy`` =
    accuracy of the crop classifier on held-out proposals labelled as in training.
    """
    correct = n_det = n_gt = exact = 0
    crop_hits = crop_total = 0
    threshold = kwargs.get("score_threshold", 0.6)
    for i, (image, gt, gt_labels) in enumerate(
        zip(dataset.images, dataset.boxes, dataset.box_labels, strict=True)
    ):
        if detections is None:
            found = detect(model, image, proposals, crop_size, **kwargs)
        else:
            found = _scoring_at_least(detections[i], threshold)
        matched = torch.zeros(len(gt), dtype=torch.bool)
        hits = 0
        if len(found["boxes"]):
            iou = box_iou(found["boxes"], gt)  # (D, G)
            for d in range(len(found["boxes"])):
                ok = (iou[d] >= match_iou) & (gt_labels == found["labels"][d]) & ~matched
                if ok.any():
                    matched[torch.nonzero(ok).flatten()[iou[d][ok].argmax()]] = True
                    hits += 1
        correct, n_det, n_gt = correct + hits, n_det + len(found["boxes"]), n_gt + len(gt)
        exact += int(hits == len(gt) == len(found["boxes"]))
        lab, _ = label_proposals(proposals, gt, gt_labels)
        use = lab >= 0
        with eval_mode(model), torch.no_grad():
            logits, _ = model(crop_and_warp(image[None], [proposals[use]], crop_size))
        crop_hits += int((logits.argmax(dim=1) == lab[use]).sum())
        crop_total += int(use.sum())
    return {
        "precision": correct / max(n_det, 1),
        "recall": correct / max(n_gt, 1),
        "image_accuracy": exact / len(dataset),
        "crop_accuracy": crop_hits / max(crop_total, 1),
    }
