"""RoI pooling by hand (Fast R-CNN; Girshick, 2015): a fixed-size feature grid for any box.

R-CNN ran the CNN once per proposal. Fast R-CNN runs it once per image and cuts each proposal
out of the shared feature map instead. The box, given in image pixels, is scaled to the map
(``spatial_scale`` = map size / image size) and **snapped** to whole cells (rounded); the
snapped box, ``h x w`` cells, is split into ``output_size`` bins of about ``h / oh`` by
``w / ow`` cells (bin ``i`` covers rows ``floor(i h / oh)`` to ``ceil((i + 1) h / oh)``), and
each bin keeps the **maximum** of every channel. The rounding is what RoIAlign (Mask R-CNN; He
et al., 2017) later removed: :func:`torchvision.ops.roi_align` samples the unrounded box
bilinearly instead.

:func:`roi_pool` follows ``torchvision.ops.roi_pool``'s CPU kernel line by line (its rounding
and bin edges included), so the two agree exactly (``tests/test_detection_roi.py``).
"""

import math

import numpy as np
import torch

__all__ = ["roi_bins", "roi_pool"]


def _round_half_away(x):
    """C's ``round``: halves go away from zero (numpy and torch round them to even)."""
    r = math.trunc(x)
    return int(r + math.copysign(1, x)) if abs(x - r) >= 0.5 else int(r)


def roi_bins(box, output_size, spatial_scale=1.0, height=None, width=None, dtype=torch.float32):
    """The feature-map window of every output bin of one box: ``(rows, cols)`` ranges.

    Parameters
    ----------
    box : sequence of 4 floats
        ``(x1, y1, x2, y2)`` in image pixels.
    output_size : int or (int, int)
        ``(oh, ow)`` bins.
    spatial_scale : float
        Feature-map cells per image pixel (1/16 for a stride-16 backbone).
    height, width : int, optional
        The feature map's size; bins are clipped to it.
    dtype : torch.dtype
        Precision of the bin arithmetic (torchvision computes in the features' dtype).

    Returns
    -------
    list of list of ((int, int), (int, int))
        ``bins[i][j] = ((row_start, row_end), (col_start, col_end))``, ends exclusive; an empty
        range (start == end) is an empty bin, which pools to 0.

    Examples
    --------
    >>> roi_bins((0, 0, 4, 6), 2)  # 7 rows by 5 columns of cells (ends included), 2 x 2 bins
    [[((0, 4), (0, 3)), ((0, 4), (2, 5))], [((3, 7), (0, 3)), ((3, 7), (2, 5))]]
    """
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    real = np.float32 if dtype == torch.float32 else np.float64
    scale = real(spatial_scale)
    x1, y1, x2, y2 = (_round_half_away(float(real(v) * scale)) for v in box)
    roi_h, roi_w = max(y2 - y1 + 1, 1), max(x2 - x1 + 1, 1)  # malformed boxes become 1 x 1
    bin_h, bin_w = real(roi_h) / real(oh), real(roi_w) / real(ow)

    def span(i, size, start, limit):
        lo = int(np.floor(real(i) * size)) + start
        hi = int(np.ceil(real(i + 1) * size)) + start
        limit = hi if limit is None else limit
        return min(max(lo, 0), limit), min(max(hi, 0), limit)

    return [
        [(span(i, bin_h, y1, height), span(j, bin_w, x1, width)) for j in range(ow)]
        for i in range(oh)
    ]


def roi_pool(features, boxes, output_size, spatial_scale=1.0):
    """Max-pool each box of ``boxes`` on ``features`` into an ``output_size`` grid.

    Parameters
    ----------
    features : Tensor, shape (N, C, H, W)
        Feature maps of a batch of images.
    boxes : Tensor (K, 5) or list of N Tensors (k_i, 4)
        ``(batch_index, x1, y1, x2, y2)`` rows, or one ``xyxy`` tensor per image (as in
        torchvision), in image pixels.
    output_size : int or (int, int)
    spatial_scale : float
        Feature cells per image pixel.

    Returns
    -------
    Tensor, shape (K, C, oh, ow)

    Examples
    --------
    >>> f = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> roi_pool(f, [torch.tensor([[0.0, 0.0, 3.0, 3.0]])], 2)[0, 0]  # each bin's max
    tensor([[ 5.,  7.],
            [13., 15.]])
    """
    if not isinstance(features, torch.Tensor) or features.ndim != 4:
        raise ValueError("`features` must be a tensor of shape (N, C, H, W)")
    if isinstance(boxes, (list, tuple)):
        if len(boxes) != len(features):
            raise ValueError(f"`boxes` has {len(boxes)} entries for {len(features)} images")
        rows = [torch.cat([torch.full((len(b), 1), i), b.double()], 1) for i, b in enumerate(boxes)]
        boxes = torch.cat(rows) if rows else torch.zeros(0, 5)
    if boxes.ndim != 2 or boxes.shape[1] != 5:
        raise ValueError(f"`boxes` must be (K, 5) or a list of (k, 4), got {tuple(boxes.shape)}")
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    _, c, h, w = features.shape
    out = features.new_zeros((len(boxes), c, oh, ow))  # (K, C, oh, ow); empty bins stay 0
    for k, (index, *box) in enumerate(boxes.tolist()):
        bins = roi_bins(box, (oh, ow), spatial_scale, h, w, features.dtype)
        for i, row in enumerate(bins):
            for j, ((r0, r1), (c0, c1)) in enumerate(row):
                if r1 > r0 and c1 > c0:
                    window = features[int(index), :, r0:r1, c0:c1]  # (C, bin rows, bin cols)
                    out[k, :, i, j] = window.amax(dim=(1, 2))
    return out
