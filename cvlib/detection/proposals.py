"""Region proposals for an R-CNN-style detector: windows, their labels, and warped crops.

1. Proposals: square sliding windows at a few scales (R-CNN used selective search; windows keep
   the idea and the code small).
2. Each proposal is labelled by its IoU with the ground-truth boxes (:func:`label_proposals`).
3. Each proposal is cropped and warped to a fixed size with :func:`torchvision.ops.roi_align`
   (bilinear sampling inside the box).
"""

import torch

from .boxes import box_iou

__all__ = ["crop_and_warp", "label_proposals", "sliding_window_proposals"]


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
    from torchvision.ops import roi_align  # here: importing torchvision costs 2-5 s

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
