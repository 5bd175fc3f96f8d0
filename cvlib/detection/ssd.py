"""How a one-stage detector learns (SSD; Liu et al., 2016): label the anchors, mine the hard
negatives, regress the offsets, decode and suppress.

1. **Anchors** (:func:`ssd_anchors`): fixed square boxes at every cell of two feature maps of
   :class:`cvlib.models.ssd.TinySSD`.
2. **Labelling** (:func:`label_anchors`): an anchor whose IoU with a ground-truth box is at least
   ``pos_iou`` takes the class of the box it overlaps most, and as regression target the offsets
   (:func:`~cvlib.detection.boxes.encode_boxes`) that move it onto that box; an anchor whose IoU
   with every box is below ``neg_iou`` is background; those in between are ignored. The best
   anchor of every box is made positive whatever its IoU, so that no object goes unlearnt.
3. **Loss** (:func:`ssd_loss`): cross-entropy over background and the classes on the positive
   anchors and on the hardest negatives only, three per positive (*hard-negative mining*), plus
   smooth L1 on the offsets of the positives, divided by the number of positives.
4. **Detection** (:func:`ssd_detect`): softmax, decode every anchor's offsets, and for each class
   keep the anchors scoring at least ``score_threshold`` and prune them by NMS.
"""

import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from cvlib.train import eval_mode, fit_one_cycle

from .anchors import anchor_boxes
from .boxes import box_iou, decode_boxes, encode_boxes, nms

__all__ = ["SSD_BOX_WEIGHTS", "label_anchors", "ssd_anchors", "ssd_detect", "ssd_loss", "train_ssd"]

#: SSD's "variances" (0.1, 0.1, 0.2, 0.2) written as :func:`encode_boxes` weights (their inverses),
#: the same as Faster R-CNN's (10, 10, 5, 5): a typical offset becomes a number of order 1.
SSD_BOX_WEIGHTS = (10.0, 10.0, 5.0, 5.0)


def ssd_anchors(anchor_spec, image_size):
    """The anchors of a :class:`~cvlib.models.ssd.TinySSD` in the order of its outputs.

    Parameters
    ----------
    anchor_spec : tuple of (stride, sizes)
        ``model.anchor_spec``: the maps, fine first.
    image_size : int
        Side of the square input; a map of stride ``s`` has ``image_size / s`` cells a side.

    Returns
    -------
    Tensor, shape (P, 4)

    Examples
    --------
    >>> ssd_anchors(((2, (6.0,)), (4, (9.0, 12.0))), image_size=32).shape  # 16**2 + 8**2 * 2
    torch.Size([384, 4])
    """
    if image_size % 4:
        raise ValueError(f"`image_size` must be a multiple of 4, got {image_size}")
    return torch.cat(
        [
            anchor_boxes(image_size // stride, stride, sizes=sizes, aspect_ratios=(1.0,))
            for stride, sizes in anchor_spec
        ]
    )


def label_anchors(anchors, gt_boxes, gt_labels, pos_iou=0.5, neg_iou=0.4, weights=SSD_BOX_WEIGHTS):
    """Class and regression target of every anchor of one image.

    Parameters
    ----------
    anchors : Tensor, shape (P, 4)
    gt_boxes : Tensor, shape (G, 4)
        The image's true boxes (``xyxy``).
    gt_labels : Tensor, shape (G,), int64
        Their classes, from 0.
    pos_iou, neg_iou : float
        IoU ``>= pos_iou``: positive; ``< neg_iou`` with every box: background; else ignored.
    weights : tuple of 4 floats
        Of :func:`encode_boxes`.

    Returns
    -------
    labels : Tensor, shape (P,), int64
        ``-1`` ignored, ``0`` background, ``c + 1`` an object of class ``c``.
    targets : Tensor, shape (P, 4)
        The encoded offsets of each positive anchor to its box, 0 elsewhere.

    Examples
    --------
    >>> anchors = torch.tensor([[0.0, 0, 10, 10], [0, 0, 10, 25], [20, 20, 30, 30]])
    >>> labels, _ = label_anchors(anchors, torch.tensor([[0.0, 0, 10, 11]]), torch.tensor([2]))
    >>> labels  # IoU 10/11: class 2 + 1; 11/25: ignored; 0: background
    tensor([ 3, -1,  0])
    """
    if not 0.0 <= neg_iou <= pos_iou <= 1.0:
        raise ValueError(f"need 0 <= `neg_iou` <= `pos_iou` <= 1, got {neg_iou}, {pos_iou}")
    if len(gt_boxes) != len(gt_labels):
        raise ValueError(f"`gt_boxes` has {len(gt_boxes)} rows but `gt_labels` {len(gt_labels)}")
    labels = torch.zeros(len(anchors), dtype=torch.int64)
    targets = torch.zeros(len(anchors), 4)
    if not len(gt_boxes):
        return labels, targets  # nothing to find: every anchor is background
    iou = box_iou(anchors, gt_boxes.float())  # (P, G)
    best, match = iou.max(dim=1)  # (P,): each anchor's best box
    labels[(best >= neg_iou) & (best < pos_iou)] = -1
    positive = best >= pos_iou
    for g, a in enumerate(iou.argmax(dim=0).tolist()):  # each box's best anchor, forced
        match[a], positive[a] = g, True
    labels[positive] = gt_labels[match[positive]] + 1
    targets[positive] = encode_boxes(gt_boxes[match[positive]].float(), anchors[positive], weights)
    return labels, targets


def _mine_negatives(ce, labels, neg_ratio):
    """(N, P) bool: per image the ``neg_ratio * positives`` background anchors of highest loss."""
    background = labels == 0
    loss = torch.where(background, ce.detach(), -torch.inf)  # only background anchors compete
    order = torch.sort(loss, dim=1, descending=True, stable=True).indices  # (N, P)
    rank = torch.empty_like(order).scatter_(
        1, order, torch.arange(labels.shape[1]).expand_as(order)
    )  # rank[n, p]: place of anchor p in image n's order
    quota = neg_ratio * (labels > 0).sum(dim=1, keepdim=True)  # (N, 1)
    return background & (rank < quota)


def ssd_loss(logits, deltas, labels, targets, neg_ratio=3, beta=1.0):
    """SSD's loss of a batch, with hard-negative mining.

    ``L = (sum of cross-entropy over positives and mined negatives + sum of smooth L1 over the
    offsets of the positives) / number of positives``. The mined negatives of an image are its
    ``neg_ratio`` times as many background anchors as it has positives (or all of them, if
    fewer), those with the highest cross-entropy: the background the network finds hardest.
    Ignored anchors (label ``-1``) and the other negatives add nothing.

    Parameters
    ----------
    logits : Tensor, shape (N, P, K + 1)
    deltas : Tensor, shape (N, P, 4)
        Predicted offsets.
    labels : Tensor, shape (N, P), int64
        From :func:`label_anchors`.
    targets : Tensor, shape (N, P, 4)
    neg_ratio : int
    beta : float
        Of :func:`torch.nn.functional.smooth_l1_loss` (SSD: 1).

    Returns
    -------
    dict
        ``"loss"`` (the scalar to minimise), ``"classification"``, ``"box"`` (its two terms, each
        divided by the positives), ``"positives"`` and ``"negatives"`` (counts).
    """
    if logits.ndim != 3 or labels.shape != logits.shape[:2] or deltas.shape != targets.shape:
        raise ValueError(
            f"need `logits` (N, P, K+1), `labels` (N, P), `deltas` and `targets` (N, P, 4); got "
            f"{tuple(logits.shape)}, {tuple(labels.shape)}, {tuple(deltas.shape)}, "
            f"{tuple(targets.shape)}"
        )
    if neg_ratio < 0:
        raise ValueError(f"`neg_ratio` must be non-negative, got {neg_ratio}")
    ce = F.cross_entropy(logits.transpose(1, 2), labels.clamp(min=0), reduction="none")  # (N, P)
    positive = labels > 0
    negative = _mine_negatives(ce, labels, neg_ratio)
    n_pos = int(positive.sum())
    classification = ce[positive | negative].sum() / max(n_pos, 1)
    box = F.smooth_l1_loss(deltas[positive], targets[positive], beta=beta, reduction="sum")
    box = box / max(n_pos, 1)
    return {
        "loss": classification + box,
        "classification": classification,
        "box": box,
        "positives": n_pos,
        "negatives": int(negative.sum()),
    }


def train_ssd(
    model,
    dataset,
    epochs=30,
    lr=1e-2,
    batch_size=32,
    pos_iou=0.5,
    neg_iou=0.4,
    neg_ratio=3,
    seed=0,
    progress=True,
):
    """Train a :class:`~cvlib.models.ssd.TinySSD` on a detection :class:`ShapesDataset`.

    Every image's anchors are labelled once (:func:`label_anchors`), then Adam under a one-cycle
    learning rate minimises :func:`ssd_loss`. Returns the mean of the loss and of its two terms
    over each epoch: ``{"loss": [...], "classification": [...], "box": [...]}``.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive integer, got {epochs!r}")
    anchors = ssd_anchors(model.anchor_spec, dataset.images.shape[-1])
    pairs = [
        label_anchors(anchors, boxes, labels, pos_iou, neg_iou)
        for boxes, labels in zip(dataset.boxes, dataset.box_labels, strict=True)
    ]
    labels = torch.stack([p[0] for p in pairs])  # (N, P)
    targets = torch.stack([p[1] for p in pairs])  # (N, P, 4)
    parts = []  # (classification, box, images) of every batch

    def batch_loss(model, images, labels, targets):
        logits, deltas = model(images)
        out = ssd_loss(logits, deltas, labels, targets, neg_ratio)
        parts.append((out["classification"].item(), out["box"].item(), len(images)))
        return out["loss"]

    data = TensorDataset(dataset.images, labels, targets)
    losses = fit_one_cycle(
        model, data, batch_loss, epochs, lr, batch_size, seed=seed, desc="SSD",
        progress=progress, channels_last=True,
    )  # fmt: skip
    per_epoch = torch.tensor(parts).reshape(epochs, -1, 3)  # (epochs, batches, 3)
    weights = per_epoch[..., 2] / len(data)
    history = {"loss": [float(v) for v in losses]}
    for k, name in enumerate(("classification", "box")):
        history[name] = (per_epoch[..., k] * weights).sum(dim=1).tolist()
    return history


@torch.no_grad()
def ssd_detect(
    model,
    images,
    score_threshold=0.05,
    iou_threshold=0.45,
    max_detections=100,
    weights=SSD_BOX_WEIGHTS,
):
    """Detections in a batch ``(N, C, H, W)``: one ``{"boxes", "labels", "scores"}`` per image.

    Softmax over background and classes; every anchor's offsets decoded onto it and clipped to
    the image; then, class by class, the anchors whose score is at least ``score_threshold``
    pruned by NMS at ``iou_threshold`` (SSD's 0.45). The best ``max_detections`` remain, by
    decreasing score.
    """
    if images.ndim != 4:
        raise ValueError(f"`images` must have shape (N, C, H, W), got {tuple(images.shape)}")
    anchors = ssd_anchors(model.anchor_spec, images.shape[-1])
    with eval_mode(model):
        logits, deltas = model(images)  # (N, P, K + 1), (N, P, 4)
    probs = logits.softmax(dim=-1)
    found = []
    for prob, delta in zip(probs, deltas, strict=True):
        boxes = decode_boxes(delta, anchors, weights).clamp(0, images.shape[-1])  # (P, 4)
        out = {"boxes": [], "labels": [], "scores": []}
        for c in range(1, prob.shape[1]):
            keep = torch.nonzero(prob[:, c] >= score_threshold).flatten()
            keep = keep[nms(boxes[keep], prob[keep, c], iou_threshold)]
            out["boxes"].append(boxes[keep])
            out["scores"].append(prob[keep, c])
            out["labels"].append(torch.full((len(keep),), c - 1, dtype=torch.int64))
        out = {k: torch.cat(v) for k, v in out.items()}
        order = torch.sort(out["scores"], descending=True, stable=True).indices[:max_detections]
        found.append({k: v[order] for k, v in out.items()})
    return found
