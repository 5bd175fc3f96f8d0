"""Diagrams of the convolution itself: over a volume, receptive fields through layers, im2col.

Every shape and count written on these diagrams is computed from the arguments with the
library's own formulas (:func:`cvlib.conv.conv_output_size`, :func:`cvlib.conv.im2col`, the
receptive-field rule of :func:`cvlib.summary`), so a diagram and the code beside it cannot
disagree.
"""

import numpy as np
from matplotlib import colormaps
from matplotlib.patches import Rectangle

from cvlib.conv import conv_output_size, im2col

from ._draw import (
    COLOURS,
    FONT,
    arrow,
    canvas,
    canvas_row,
    grid,
    lighter,
    outline,
    slice_zorder,
    slices,
)

__all__ = ["conv_volume_diagram", "im2col_diagram", "receptive_field_diagram"]


def conv_volume_diagram(in_channels=3, size=6, kernel_size=3, out_channels=2, stride=1, padding=0):
    """A convolution layer on a volume: ``C_in x H x W`` in, ``C_out`` filters, ``C_out`` maps out.

    Each filter is ``C_in x k x k`` (as deep as the input); at one position it meets a
    ``C_in x k x k`` block of the input and gives one number; slid everywhere it gives one
    ``H_out x W_out`` map, and the ``C_out`` maps stack into the output volume.

    Parameters
    ----------
    in_channels, size, kernel_size, out_channels, stride, padding : int
        The layer: a square ``size x size`` input, square kernels.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; its texts give the input, filter and output shapes.

    Examples
    --------
    >>> fig = conv_volume_diagram(3, 6, 3, 2)
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("output")]
    ['output 2 x 4 x 4']
    """
    out = conv_output_size(size, kernel_size, stride=stride, padding=padding)
    fig, ax = canvas(9.5, 4.4, (-0.6, 13.4), (-1.9, 5.3))
    window = _input_volume(ax, in_channels, size, kernel_size)
    colours = [lighter(colormaps["tab10"](f % 10), 0.45) for f in range(out_channels)]
    f_left, f_right, f_mid = _filters(ax, in_channels, kernel_size, out_channels, colours)
    cell, step = 3.0 / size, (0.3, 0.24)
    ox, oy = 9.3, 0.3 + (size - out) * cell / 2
    for f in reversed(range(out_channels)):  # one map per filter, in the filter's colour
        z = 1 + 0.1 * (out_channels - f)
        slices(
            ax, ox + f * step[0], oy + f * step[1], out * cell, 1, colours[f], cells=out, zorder=z
        )
    outline(ax, ox, oy + (out - 1) * cell, cell, cell, COLOURS["highlight"], lw=2.2, zorder=3)
    label = f"output {out_channels} x {out} x {out}"
    ax.text(ox + 1.6, -0.35, label, ha="center", va="top", fontsize=FONT)
    arrow(ax, window, (f_left, f_mid), colour=COLOURS["highlight"])
    arrow(ax, (f_right, f_mid), (ox + 0.05, oy + (out - 0.5) * cell), colour=COLOURS["highlight"])
    products = in_channels * kernel_size**2
    text = f"at one position: {products} products, summed over all {in_channels} channels"
    ax.text(6.3, 5.0, text + " = one number of one map", ha="center", va="center", fontsize=FONT)
    return fig


def _input_volume(ax, channels, size, kernel_size):
    """The input as ``channels`` slices with the window outlined; returns the window's right."""
    cell, step = 3.0 / size, (0.3, 0.24)
    slices(ax, 0.0, 0.3, size * cell, channels, "data", step, cells=size)
    k = kernel_size * cell
    top = 0.3 + size * cell - k  # the window sits at the top-left of every slice
    for c in reversed(range(channels)):
        front = c == 0
        outline(
            ax,
            c * step[0],
            top + c * step[1],
            k,
            k,
            COLOURS["highlight"],
            lw=2.0 if front else 1.2,
            ls="-" if front else "--",
            zorder=slice_zorder(c, channels) + 0.002,
        )
    label = f"input {channels} x {size} x {size}"
    ax.text(1.9, -0.35, label, ha="center", va="top", fontsize=FONT)
    return k + 0.1, top + k / 2


def _filters(ax, channels, kernel_size, count, colours):
    """Up to three filters, stacked; returns the first one's left, right and middle height."""
    fcell, shown = 0.36, min(count, 3)
    for f in range(shown):
        fy = 3.1 - f * 1.75
        slices(
            ax, 5.4, fy, kernel_size * fcell, channels, colours[f], (0.2, 0.16), cells=kernel_size
        )
        ax.text(5.4, fy - 0.08, f"filter {f + 1}", va="top", fontsize=FONT - 1)
    if count > shown:
        ax.text(6.0, 3.1 - shown * 1.75 + 0.9, "...", ha="center", fontsize=FONT + 2)
    weights = channels * kernel_size**2
    text = f"{count} filters, each {channels} x {kernel_size} x {kernel_size}"
    ax.text(
        6.1, -0.75, text + f"\n= {weights} weights + 1 bias", ha="center", va="top", fontsize=FONT
    )
    side = kernel_size * fcell
    return 5.3, 5.4 + side + 0.55, 3.1 + side / 2


def _rows(layers, input_size):
    """Per row (input first): units, centre of unit 0 and jump (input cells), top unit's range."""
    rows = [(input_size, 0.5, 1)]  # cell i of the input spans [i, i + 1]
    for _, k, s in layers:
        n, start, jump = rows[-1]
        rows.append(((n - k) // s + 1, start + (k - 1) / 2 * jump, jump * s))
    if rows[-1][0] < 1:
        raise ValueError(f"`input_size` {input_size} is too small for these layers")
    ranges = [(rows[-1][0] // 2, rows[-1][0] // 2)]  # the middle unit of the top row
    for _, k, s in reversed(layers):
        lo, hi = ranges[0]
        ranges.insert(0, (lo * s, hi * s + k - 1))
    return rows, ranges


def receptive_field_diagram(layers=(("conv 3x3", 3, 1),) * 3, input_size=None):
    """How one unit's view of the input grows through stacked layers, drawn in one dimension.

    Each row holds a layer's units, drawn above the centre of the input cells they look at
    (so a stride spreads them out); the input is at the bottom. The highlighted cells are those
    the middle unit of the top row depends on, and the lines join each of them to the ``k``
    units below it. The receptive field after each layer, ``r' = r + (k - 1) j`` with
    ``j' = j s`` (the rule of :func:`cvlib.summary`), is written at the right of its row and
    equals the number of highlighted input cells.

    Parameters
    ----------
    layers : sequence of (str, int, int)
        ``(name, kernel_size, stride)`` of each layer, input side first (no padding drawn).
    input_size : int, optional
        Input cells (default: the final receptive field plus four).

    Returns
    -------
    matplotlib.figure.Figure
        One axes; ``fig.receptive_fields`` holds the field after each layer.

    Examples
    --------
    >>> fig = receptive_field_diagram([("conv 3x3", 3, 1), ("pool 2", 2, 2), ("conv 3x3", 3, 1)])
    >>> fig.receptive_fields
    [3, 4, 8]
    """
    layers = [(str(n), int(k), int(s)) for n, k, s in layers]
    if not layers or any(k < 1 or s < 1 for _, k, s in layers):
        raise ValueError("`layers` must be a non-empty list of (name, kernel_size, stride >= 1)")
    fields, r, j = [], 1, 1
    for _, k, s in layers:
        r, j = r + (k - 1) * j, j * s
        fields.append(r)
    width = int(input_size or fields[-1] + 4)
    rows, ranges = _rows(layers, width)
    gap = 1.7
    height = gap * (len(rows) - 1) + 1
    fig, ax = canvas(
        0.36 * width + 3.4, 0.5 * height + 1.1, (-3.2, width + 2.2), (-1.0, height + 0.2)
    )
    for level, ((n, start, jump), (lo, hi)) in enumerate(zip(rows, ranges, strict=True)):
        y = level * gap
        for i in range(n):
            role = "highlight" if lo <= i <= hi else "data"
            fill = COLOURS["highlight"] if role == "highlight" else COLOURS["data"]
            ax.add_patch(
                Rectangle((start + i * jump - 0.45, y), 0.9, 0.9, fc=fill, ec="#606060", lw=0.6)
            )
        name = "input" if level == 0 else layers[level - 1][0]
        ax.text(-0.5, y + 0.45, name, ha="right", va="center", fontsize=FONT)
        if level:
            text = f"RF {fields[level - 1]}, jump {jump}"
            ax.text(
                width + 0.3, y + 0.45, text, va="center", fontsize=FONT, color=COLOURS["highlight"]
            )
            _, k, s = layers[level - 1]
            below = rows[level - 1]
            for i in range(lo, hi + 1):
                for t in range(k):
                    x_below = below[1] + (i * s + t) * below[2]
                    ax.plot(
                        [start + i * jump, x_below],
                        [y, y - gap + 0.9],
                        color=COLOURS["link"],
                        lw=0.8,
                    )
    ax.text(
        width / 2,
        -0.5,
        f"{fields[-1]} input cells can reach the top unit",
        ha="center",
        va="center",
        fontsize=FONT,
    )
    fig.receptive_fields = fields
    return fig


def im2col_diagram(x, kernel_size=3, stride=1, show=None):
    """An image with its windows outlined, and the im2col matrix with one column per window.

    Parameters
    ----------
    x : array, shape (H, W)
        A small one-channel image; its values are written in the cells.
    kernel_size, stride : int
    show : int, optional
        Windows to colour (default: all, at most 10); the rest of the matrix stays white.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the image, the matrix (:func:`cvlib.conv.im2col` of ``x``), titled with its
        shape.

    Examples
    --------
    >>> fig = im2col_diagram(np.arange(16.0).reshape(4, 4), 3)
    >>> fig.axes[1].get_title().splitlines()[0]
    'im2col matrix, 9 x 4:'
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"`x` must be one channel (H, W), got shape {x.shape}")
    cols = im2col(x, kernel_size, stride=stride)  # (k*k, H_out*W_out)
    h_out = conv_output_size(x.shape[0], kernel_size, stride=stride)
    w_out = conv_output_size(x.shape[1], kernel_size, stride=stride)
    show = min(cols.shape[1], 10) if show is None else int(show)
    colours = [colormaps["tab10"](i) for i in range(10)]
    light = [(*c[:3], 0.35) for c in colours]
    h, w = x.shape
    fig, (ax_img, ax_mat) = canvas_row((w, cols.shape[1]), max(h, cols.shape[0]))
    height = max(h, cols.shape[0])
    top = (height + h) / 2  # the image centred beside the taller matrix
    grid(ax_img, 0, top, h, w, values=x)
    for p in range(show):
        i, j = divmod(p, w_out)
        inset = 0.06 * (p % 4)
        outline(
            ax_img,
            j * stride + inset,
            top - i * stride - kernel_size + inset,
            kernel_size - 2 * inset,
            kernel_size - 2 * inset,
            colours[p],
            lw=2.0,
        )
    ax_img.set_title(
        f"image {h} x {w}:\n{h_out * w_out} windows of {kernel_size} x {kernel_size}", fontsize=FONT
    )
    fills = [
        [light[p] if p < show else None for p in range(cols.shape[1])] for _ in range(cols.shape[0])
    ]
    grid(ax_mat, 0, cols.shape[0], cols.shape[0], cols.shape[1], values=cols, fills=fills)
    ax_mat.set_title(
        f"im2col matrix, {cols.shape[0]} x {cols.shape[1]}:\n"
        f"(1 x {kernel_size} x {kernel_size}) rows, ({h_out} x {w_out}) columns",
        fontsize=FONT,
    )
    for ax, xlabel, ylabel in (
        (ax_img, "column", "row"),
        (ax_mat, "window (one per column)", "pixel of the window"),
    ):
        ax.set_xlabel(xlabel, fontsize=FONT - 1)
        ax.set_ylabel(ylabel, fontsize=FONT - 1)
    return fig
