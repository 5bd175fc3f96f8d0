"""Diagrams of the tasks beyond classification: the FCN, the R-CNN pipeline, RoI pooling, and
captioning / question answering.

The FCN diagram reads its shapes from :func:`cvlib.summary` of the real model; the R-CNN diagram
draws a real image with its proposals, warped crops and detections; the RoI-pooling diagram
draws the bins of :func:`cvlib.detection.roi_bins` and the values of
:func:`cvlib.detection.roi_pool`.
"""

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.patches import Rectangle

from cvlib.detection import roi_bins, roi_pool
from cvlib.probes import summary

from ._draw import COLOURS, EDGE, FONT, arrow, box, canvas, canvas_row, grid, outline
from ._figure import to_image

__all__ = ["captioning_diagram", "fcn_diagram", "rcnn_diagram", "roi_pool_diagram"]


def _block_shape(rows, prefix):
    """Output shape of the last row whose name is ``prefix`` or lies inside it."""
    shapes = [r.output_shape for r in rows if r.name == prefix or r.name.startswith(prefix + ".")]
    if not shapes:
        raise ValueError(f"the model has no layer {prefix!r}")
    return tuple(shapes[-1])


def fcn_diagram(model, input_size=(3, 32, 32)):
    """The FCN's path: encoder stages shrink the map, transposed convolutions grow it back.

    Each bar is a feature map, as tall as its side and labelled ``C x H x W`` (from
    :func:`cvlib.summary` of ``model``); the arcs are the skip connections.

    Parameters
    ----------
    model : cvlib.models.FCN
    input_size : tuple
        ``(C, H, W)`` of one input image.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from cvlib.models import fcn_small
    >>> fig = fcn_diagram(fcn_small())
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("4 x")]
    ['4 x 32 x 32']
    """
    rows = summary(model, input_size).rows
    names = ["stage1", "stage2", "stage3", "up2", "mix2", "up1", "mix1", "classifier"]
    shapes = [tuple(input_size)] + [_block_shape(rows, n) for n in names]
    links = [
        "two 3x3 convs",
        "pool, 2 convs",
        "pool, 2 convs",
        "2x2 transposed\nconv, stride 2",
        "concat skip,\n3x3 conv",
        "2x2 transposed\nconv, stride 2",
        "concat skip,\n3x3 conv",
        "1x1 conv",
    ]
    full = input_size[-1]
    fig, ax = canvas(9.2, 3.5, (-0.6, 27.0), (-1.8, 8.6))
    xs = [i * 3.0 for i in range(len(shapes))]
    widths = [0.35 + 0.012 * shape[0] for shape in shapes]
    for i, (x, shape, w) in enumerate(zip(xs, shapes, widths, strict=True)):
        h = 5.0 * shape[-1] / full
        role = "conv" if i == len(shapes) - 1 else ("norm" if i > 3 else "data")
        ax.add_patch(Rectangle((x, 0), w, h, fc=COLOURS[role], ec=EDGE))
        label = "image" if i == 0 else ("class scores" if i == len(shapes) - 1 else names[i - 1])
        ax.text(x + w / 2, h + 0.2, " x ".join(map(str, shape)), ha="center", fontsize=FONT - 1)
        ax.text(x + w / 2, -0.3, label, ha="center", va="top", fontsize=FONT - 1)
        if i:
            arrow(ax, (xs[i - 1] + widths[i - 1] + 0.1, 0.4), (x - 0.1, 0.4))
            ax.text(
                (xs[i - 1] + x) / 2 + 0.3,
                -1.2,
                links[i - 1],
                ha="center",
                va="center",
                fontsize=FONT - 2,
                color=COLOURS["link"],
            )
    for src, dst in ((2, 5), (1, 7)):  # stage2 -> mix2, stage1 -> mix1
        top = 5.0 * shapes[src][-1] / full + 0.75
        ax.annotate(
            "",
            xy=(xs[dst] + widths[dst] / 2, top),
            xytext=(xs[src] + widths[src] / 2, top),
            arrowprops={
                "arrowstyle": "-|>",
                "color": COLOURS["highlight"],
                "lw": 1.4,
                "connectionstyle": "arc3,rad=-0.2",
            },
        )
    ax.text(
        xs[4],
        8.2,
        "skip connections (concatenated)",
        ha="center",
        fontsize=FONT - 1,
        color=COLOURS["highlight"],
    )
    return fig


def _inset(ax, x, y, w, h):
    sub = ax.inset_axes((x, y, w, h), transform=ax.transData)
    sub.set_xticks([])
    sub.set_yticks([])
    return sub


def _draw_image(sub, image, boxes, colours, lw=1.5, ls="-"):
    sub.imshow(to_image(image))
    for (x1, y1, x2, y2), c in zip(boxes, colours, strict=True):
        sub.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, ec=c, lw=lw, ls=ls))


def rcnn_diagram(image, proposals, crops, detections, class_names, num_proposals=None):
    """The R-CNN pipeline on a real image: proposals, crop and warp, CNN, scores, NMS.

    Parameters
    ----------
    image : Tensor, shape (C, H, W)
    proposals : Tensor, shape (k, 4)
        A few proposals to draw (their crops are ``crops``).
    crops : Tensor, shape (k, C, s, s)
        The proposals cropped and warped (:func:`cvlib.detection.crop_and_warp`).
    detections : dict
        ``{"boxes", "labels"}`` after NMS (:func:`cvlib.detection.detect`).
    class_names : sequence of str
    num_proposals : int, optional
        How many proposals the detector scores in all (written on the diagram).

    Returns
    -------
    matplotlib.figure.Figure
    """
    k, s = len(crops), crops.shape[-1]
    fig, ax = canvas(9.6, 2.9, (0, 24.4), (-1.6, 5.6))
    tab = [colormaps["tab10"](i) for i in range(10)]
    _draw_image(
        _inset(ax, 0.0, 0.4, 4.2, 4.2), image, proposals.tolist(), [tab[i % 10] for i in range(k)]
    )
    total = f"{num_proposals} proposals" if num_proposals else "proposals"
    ax.text(
        2.1,
        -0.3,
        f"1. image and {total}\n(sliding windows)",
        ha="center",
        va="top",
        fontsize=FONT - 1,
    )
    arrow(ax, (4.5, 2.5), (5.6, 2.5))
    for i in range(min(k, 4)):
        sub = _inset(ax, 5.9 + 0.45 * i, 3.1 - 0.85 * i, 1.5, 1.5)
        sub.imshow(to_image(crops[i]))
        for spine in sub.spines.values():
            spine.set_edgecolor(tab[i % 10])
            spine.set_linewidth(2)
    ax.text(
        7.3, -0.3, f"2. crop and warp each\nto {s} x {s}", ha="center", va="top", fontsize=FONT - 1
    )
    arrow(ax, (9.4, 2.5), (10.3, 2.5))
    box(ax, 10.2, 1.4, 3.4, 2.2, "CNN\n(the same\nfor every crop)", "conv")
    ax.text(11.9, -0.3, "3. features", ha="center", va="top", fontsize=FONT - 1)
    arrow(ax, (13.5, 3.0), (14.5, 3.6))
    arrow(ax, (13.5, 2.0), (14.5, 1.4))
    box(ax, 14.6, 3.0, 3.4, 1.1, f"class scores:\nbackground + {len(class_names)}", "dense")
    box(ax, 14.6, 0.9, 3.4, 1.1, "box offsets\n(dx, dy, dw, dh)", "dense")
    ax.text(16.3, -0.3, "4. classify, refine", ha="center", va="top", fontsize=FONT - 1)
    arrow(ax, (18.1, 2.5), (19.3, 2.5), text="NMS", offset=(0, 0.35))
    labels = detections["labels"].tolist()
    _draw_image(
        _inset(ax, 19.6, 0.4, 4.2, 4.2),
        image,
        detections["boxes"].tolist(),
        [tab[c % 10] for c in labels],
        lw=2,
    )
    names = ", ".join(class_names[c] for c in labels) or "nothing"
    ax.text(21.7, -0.3, f"5. detections:\n{names}", ha="center", va="top", fontsize=FONT - 1)
    return fig


def roi_pool_diagram(features, box, output_size=2, spatial_scale=1.0):
    """RoI pooling of one box on one feature map: the snapped box, its bins, each bin's max.

    Parameters
    ----------
    features : array or Tensor, shape (H, W)
        One channel, small enough to write its values (about 8 x 8).
    box : sequence of 4 floats
        ``(x1, y1, x2, y2)`` in image pixels.
    output_size : int or (int, int)
    spatial_scale : float
        Feature cells per image pixel.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the feature map with the box (dashed, as given; solid, snapped to cells) and
        its bins, and the pooled ``output_size`` grid (:func:`cvlib.detection.roi_pool`).

    Examples
    --------
    >>> fig = roi_pool_diagram(np.arange(36.0).reshape(6, 6), (1, 0, 4, 5), 2)
    >>> [t.get_text() for t in fig.axes[1].texts]
    ['14', '16', '32', '34']
    """
    f = torch.as_tensor(np.asarray(features, dtype=np.float32))
    if f.ndim != 2:
        raise ValueError(f"`features` must be one channel (H, W), got shape {tuple(f.shape)}")
    h, w = f.shape
    bins = roi_bins(box, output_size, spatial_scale, h, w)
    pooled = roi_pool(
        f[None, None], [torch.tensor([list(map(float, box))])], output_size, spatial_scale
    )[0, 0]
    oh, ow = pooled.shape
    fig, (ax_f, ax_o) = canvas_row((w, max(ow, 3)), h)
    tab = [colormaps["tab10"](i) for i in range(10)]
    fills = [[None] * w for _ in range(h)]
    for i, row in enumerate(bins):
        for j, ((r0, r1), (c0, c1)) in enumerate(row):
            for r in range(r0, r1):
                for c in range(c0, c1):
                    fills[r][c] = (*tab[(i * ow + j) % 10][:3], 0.3)
    grid(ax_f, 0, h, h, w, values=f.numpy(), fills=fills, fmt=".3g")
    for i, row in enumerate(bins):
        for j, ((r0, r1), (c0, c1)) in enumerate(row):
            outline(
                ax_f,
                c0 + 0.06,
                h - r1 + 0.06,
                c1 - c0 - 0.12,
                r1 - r0 - 0.12,
                tab[(i * ow + j) % 10],
            )
    x1, y1, x2, y2 = (v * spatial_scale for v in box)
    outline(ax_f, x1, h - y2, x2 - x1, y2 - y1, "black", lw=1.5, ls="--")
    ax_f.set_title(
        "feature map: the box (dashed), snapped\nto whole cells and cut into bins", fontsize=FONT
    )
    out_fills = [[(*tab[(i * ow + j) % 10][:3], 0.3) for j in range(ow)] for i in range(oh)]
    grid(ax_o, 0, (h + oh) / 2, oh, ow, values=pooled.numpy(), fills=out_fills, fmt=".3g")
    ax_o.set_title(f"pooled {oh} x {ow}:\nmax per bin", fontsize=FONT)
    return fig


def captioning_diagram(
    caption=("a", "red", "circle", "<end>"), question=("what", "shape", "?"), answer="circle"
):
    """Where CNN features meet language: an LSTM writes a caption, or answers a question.

    Top row: captioning (Show and Tell): the CNN's feature vector starts an LSTM that emits one
    word per step, each fed back as the next input. Bottom row: visual question answering: an
    LSTM reads the question, its vector is multiplied element-wise with the image vector, and a
    classifier picks the answer.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = captioning_diagram(caption=("two", "squares", "<end>"))
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_text() in ("two", "squares")]
    ['two', 'two', 'squares', 'squares']

    (each word is written once as an output and once as the next step's input)
    """
    caption, question = list(caption), list(question)
    steps = max(len(caption), len(question))
    right = 9.4 + 2.3 * steps
    fig, ax = canvas(min(9.4, 0.5 * right), 4.2, (-0.3, right), (-0.4, 8.4))
    box(ax, 0.0, 4.8, 2.0, 1.6, "image", "data")
    arrow(ax, (2.05, 5.6), (2.8, 5.6))
    box(ax, 2.9, 4.8, 2.0, 1.6, "CNN", "conv")
    arrow(ax, (4.95, 5.6), (6.35, 5.6), text="feature\nvector", offset=(0, 0.55))
    previous = "<start>"
    for t, word in enumerate(caption):
        x = 6.4 + 2.3 * t
        box(ax, x, 5.0, 1.7, 1.2, "LSTM", "norm")
        if t:
            arrow(ax, (x - 0.6, 5.6), (x - 0.05, 5.6))
        ax.text(x + 0.85, 4.3, previous, ha="center", va="center", fontsize=FONT - 1)
        arrow(ax, (x + 0.85, 4.5), (x + 0.85, 4.95))
        arrow(ax, (x + 0.85, 6.25), (x + 0.85, 6.9))
        ax.text(
            x + 0.85, 7.2, word, ha="center", va="center", fontsize=FONT, color=COLOURS["highlight"]
        )
        previous = word
    ax.text(0.0, 8.1, "captioning: each word is fed back as the next input", fontsize=FONT)
    box(ax, 0.0, 0.4, 2.0, 1.6, "image", "data")
    arrow(ax, (2.05, 1.2), (2.8, 1.2))
    box(ax, 2.9, 0.4, 2.0, 1.6, "CNN", "conv")
    for t, word in enumerate(question):
        x = 6.4 + 2.3 * t
        box(ax, x, 2.6, 1.7, 1.0, "LSTM", "norm")
        ax.text(x + 0.85, 1.95, word, ha="center", va="center", fontsize=FONT - 1)
        arrow(ax, (x + 0.85, 2.15), (x + 0.85, 2.55))
        if t:
            arrow(ax, (x - 0.6, 3.1), (x - 0.05, 3.1))
    join_x = 6.4 + 2.3 * len(question) + 0.2
    arrow(ax, (join_x - 0.7, 3.1), (join_x + 0.25, 1.5))
    arrow(ax, (4.95, 1.2), (join_x - 0.05, 1.2))
    ax.text(join_x + 0.3, 1.2, "⊙", ha="center", va="center", fontsize=FONT + 6)
    arrow(ax, (join_x + 0.65, 1.2), (join_x + 1.3, 1.2))
    box(ax, join_x + 1.4, 0.6, 2.2, 1.2, "classifier", "dense")
    ax.text(
        join_x + 2.5,
        0.2,
        f"answer: {answer}",
        ha="center",
        va="center",
        fontsize=FONT,
        color=COLOURS["highlight"],
    )
    ax.text(0.0, 3.9, "question answering: question vector ⊙ image vector -> answer", fontsize=FONT)
    return fig
