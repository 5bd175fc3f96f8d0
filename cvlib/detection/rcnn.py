"""A small R-CNN (Girshick et al., 2014): propose regions, crop and warp, classify, refine, NMS.

1. Proposals: square sliding windows at a few scales (R-CNN used selective search; windows keep
   the idea and the code small).
2. Each proposal is cropped and warped to a fixed ``crop_size`` with
   :func:`torchvision.ops.roi_align` (bilinear sampling inside the box).
3. A small CNN scores every crop for background + each class, and regresses offsets
   (:func:`~cvlib.detection.boxes.encode_boxes`) that refine the proposal.
4. Overlapping detections are pruned by :func:`~cvlib.detection.boxes.nms` (across classes by
   default, within each class with ``per_class=True``).

Training crops: a proposal with IoU >= ``pos_iou`` with a ground-truth box takes that box's class,
one with IoU < ``neg_iou`` with every box is background, those in between are left out; the
ground-truth boxes themselves are added as positives, as in R-CNN.
"""

import os
import time

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import roi_align
from tqdm.auto import tqdm

from ._threads import torch_threads
from .boxes import box_iou, decode_boxes, encode_boxes, nms
from .regressor import conv_bn_relu

__all__ = [
    "ProposalClassifier",
    "crop_and_warp",
    "detect",
    "evaluate_detector",
    "label_proposals",
    "rcnn_experiment",
    "sliding_window_proposals",
    "train_rcnn",
]

BOX_WEIGHTS = (10.0, 10.0, 5.0, 5.0)  # Faster R-CNN's scaling of (dx, dy, dw, dh)


def sliding_window_proposals(image_size, sizes=(6, 9, 12, 16), stride=3):
    """Square windows of each side in ``sizes`` every ``stride`` pixels, inside the image.

    Returns
    -------
    Tensor, shape (P, 4)
        ``P = sum_s ((image_size - s) // stride + 1) ** 2`` boxes in ``xyxy``.

    Examples
    --------
    >>> sliding_window_proposals(32).shape  # 9*9 + 8*8 + 7*7 + 6*6
    torch.Size([230, 4])
    """
    if any(s > image_size or s < 1 for s in sizes) or stride < 1:
        raise ValueError(f"`sizes` must lie in [1, {image_size}] and `stride` be positive")
    boxes = []
    for s in sizes:
        starts = torch.arange(0, image_size - s + 1, stride, dtype=torch.float32)
        y, x = torch.meshgrid(starts, starts, indexing="ij")
        boxes.append(torch.stack([x, y, x + s, y + s], dim=-1).reshape(-1, 4))
    return torch.cat(boxes)  # (P, 4)


def crop_and_warp(images, boxes, crop_size=16):
    """Crop ``boxes[i]`` out of ``images[i]`` and resize each crop to ``crop_size``.

    Parameters
    ----------
    images : Tensor, shape (N, C, H, W)
    boxes : list of N tensors (k_i, 4)
        Pixel ``xyxy`` boxes per image.
    crop_size : int

    Returns
    -------
    Tensor, shape (sum k_i, C, crop_size, crop_size)

    Examples
    --------
    >>> crop_and_warp(torch.rand(2, 3, 32, 32), [torch.tensor([[0.0, 0, 8, 8]])] * 2).shape
    torch.Size([2, 3, 16, 16])
    """
    if len(boxes) != len(images):
        raise ValueError(f"`boxes` has {len(boxes)} entries for {len(images)} images")
    return roi_align(
        images.float(),
        [b.float() for b in boxes],
        output_size=crop_size,
        spatial_scale=1.0,
        sampling_ratio=2,
        aligned=True,
    )


def label_proposals(proposals, gt_boxes, gt_labels, pos_iou=0.5, neg_iou=0.3):
    """Class (``0`` background, ``label + 1`` object, ``-1`` ignored) and matched box per proposal.

    Returns
    -------
    labels : Tensor, shape (P,), int64
    matched : Tensor, shape (P, 4)
        The ground-truth box of highest IoU with each proposal.

    Examples
    --------
    >>> props = torch.tensor([[0.0, 0, 8, 8], [1, 1, 9, 9], [20, 20, 28, 28]])
    >>> label_proposals(props, torch.tensor([[0.0, 0, 8, 8]]), torch.tensor([2]))[0]
    tensor([3, 3, 0])
    """
    if not 0.0 <= neg_iou <= pos_iou <= 1.0:
        raise ValueError(f"need 0 <= `neg_iou` <= `pos_iou` <= 1, got {neg_iou}, {pos_iou}")
    iou = box_iou(proposals, gt_boxes)  # (P, G)
    best, index = iou.max(dim=1)  # (P,)
    labels = torch.full((len(proposals),), -1, dtype=torch.int64)
    labels[best < neg_iou] = 0
    labels[best >= pos_iou] = gt_labels[index[best >= pos_iou]] + 1
    return labels, gt_boxes[index]


class ProposalClassifier(nn.Module):
    """Scores a warped crop for ``num_classes + 1`` classes (0 is background), plus box offsets.

    As in :class:`~cvlib.detection.regressor.BoxRegressor`, each crop is centred (its mean colour
    subtracted), the class is read from the global max of the feature maps and the offsets from
    the flattened maps.

    Shape
    -----
    - Input: ``(P, C, crop_size, crop_size)``, ``crop_size`` a multiple of 4.
    - Output: ``(logits (P, num_classes + 1), deltas (P, 4))``.

    Examples
    --------
    >>> logits, deltas = ProposalClassifier()(torch.zeros(5, 3, 16, 16))
    >>> logits.shape, deltas.shape
    (torch.Size([5, 4]), torch.Size([5, 4]))
    """

    def __init__(self, num_classes=3, in_channels=3, crop_size=16):
        super().__init__()
        if crop_size % 4:
            raise ValueError(f"`crop_size` must be a multiple of 4, got {crop_size}")
        self.features = nn.Sequential(
            conv_bn_relu(in_channels, 16),
            conv_bn_relu(16, 16),
            nn.MaxPool2d(2),  # (P, 16, s/2, .)
            conv_bn_relu(16, 32),
            conv_bn_relu(32, 32),
            nn.MaxPool2d(2),  # (P, 32, s/4, .)
        )
        self.classifier = nn.Linear(32, num_classes + 1)
        self.box_head = nn.Sequential(
            nn.Flatten(), nn.Linear(32 * (crop_size // 4) ** 2, 64), nn.ReLU(), nn.Linear(64, 4)
        )

    def forward(self, crops):
        crops = crops - crops.mean(dim=(2, 3), keepdim=True)  # (P, C, s, s), each crop centred
        f = self.features(crops)  # (P, 32, s/4, s/4)
        return self.classifier(f.amax(dim=(2, 3))), self.box_head(f)  # (P, K + 1), (P, 4)


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
    crops = crops.contiguous(memory_format=torch.channels_last)  # faster CPU kernels
    model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = (len(crops) + batch_size - 1) // batch_size
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch
    )
    silent = not progress or bool(os.environ.get("NBGRADER_EXECUTION"))
    losses = []
    model.train()
    for _ in tqdm(range(epochs), desc="R-CNN", disable=silent):
        order, total = torch.randperm(len(crops), generator=generator), 0.0
        for i in range(0, len(crops), batch_size):
            idx = order[i : i + batch_size]
            logits, deltas = model(crops[idx])
            positive = labels[idx] > 0
            loss = F.cross_entropy(logits, labels[idx])
            if positive.any():
                loss = loss + F.smooth_l1_loss(deltas[positive], targets[idx][positive], beta=0.1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(idx)
        losses.append(total / len(crops))
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
    was_training = model.training
    model.eval()
    logits, deltas = model(crop_and_warp(image[None], [proposals], crop_size))
    model.train(was_training)
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


def evaluate_detector(model, dataset, proposals, crop_size=16, match_iou=0.5, **kwargs):
    """Precision and recall of :func:`detect` on a detection data set, and crop accuracy.

    A detection is correct when it has the class of a not-yet-matched ground-truth box with IoU at
    least ``match_iou`` (matched greedily by score). ``precision`` = correct / detections,
    ``recall`` = correct / ground-truth objects, ``image_accuracy`` = share of images whose
    detections are exactly right (every object found, nothing else), and ``crop_accuracy`` =
    accuracy of the crop classifier on held-out proposals labelled as in training.
    """
    correct = n_det = n_gt = exact = 0
    crop_hits = crop_total = 0
    for image, gt, gt_labels in zip(dataset.images, dataset.boxes, dataset.box_labels, strict=True):
        found = detect(model, image, proposals, crop_size, **kwargs)
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
        was_training = model.training
        with torch.no_grad():
            logits, _ = model.eval()(crop_and_warp(image[None], [proposals[use]], crop_size))
        model.train(was_training)
        crop_hits += int((logits.argmax(dim=1) == lab[use]).sum())
        crop_total += int(use.sum())
    return {
        "precision": correct / max(n_det, 1),
        "recall": correct / max(n_gt, 1),
        "image_accuracy": exact / len(dataset),
        "crop_accuracy": crop_hits / max(crop_total, 1),
    }


def rcnn_experiment(
    n_train=600, n_test=100, size=32, max_objects=2, epochs=6, seed=0, progress=False, num_threads=1
):
    """Train the R-CNN-style pipeline on shapes and evaluate it on held-out shapes.

    ``num_threads`` torch threads are used meanwhile (``None``: leave the setting alone).

    Returns
    -------
    dict
        ``precision``, ``recall``, ``image_accuracy``, ``crop_accuracy`` (see
        :func:`evaluate_detector`), ``num_proposals``, ``num_crops``, ``losses``, ``seconds``,
        ``model``, ``proposals``.
    """
    from cvlib.data import shapes

    torch.manual_seed(seed)
    train = shapes(n_train, size=size, max_objects=max_objects, seed=seed, task="detect")
    test = shapes(n_test, size=size, max_objects=max_objects, seed=seed + 1000, task="detect")
    proposals = sliding_window_proposals(size)
    model = ProposalClassifier()
    with torch_threads(num_threads):  # small networks: one thread is faster
        start = time.perf_counter()
        losses, crop_labels = train_rcnn(
            model, train, proposals, epochs=epochs, seed=seed, progress=progress
        )
        scores = evaluate_detector(model, test, proposals)
    return {
        **scores,
        "num_proposals": len(proposals),
        "num_crops": len(crop_labels),
        "losses": losses,
        "seconds": time.perf_counter() - start,
        "model": model,
        "proposals": proposals,
    }
