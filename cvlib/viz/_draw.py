"""Drawing primitives of the diagrams: one palette, boxes, arrows, cuboids, on a blank canvas.

Every diagram is drawn in data coordinates on an axes without ticks (``canvas``), on an opaque
white figure so that it reads the same in the site's light and dark themes. Colours name roles,
not layers, so the same kind of thing looks the same in every chapter: data (tensors) in blue,
convolutions in orange, pooling in green, normalisation in purple, additions and joins in grey.
"""

import matplotlib.patches as mpatches
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Polygon

from ._figure import new_figure

#: Fill colours by role (light enough for black text).
COLOURS = {
    "data": "#c6dbef",
    "conv": "#fdd0a2",
    "pool": "#c7e9c0",
    "norm": "#dadaeb",
    "act": "#fee391",
    "join": "#e0e0e0",
    "dense": "#fcbba1",
    "text": "#ffffff",
    "highlight": "#e6550d",
    "link": "#3182bd",
}
EDGE = "#404040"
FONT = 10


def canvas(width, height, xlim, ylim, title=None):
    """A white figure of ``width x height`` inches with one axes spanning ``xlim x ylim``."""
    fig, (ax,) = new_figure()
    fig.set_size_inches(width, height)
    fig.set_facecolor("white")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=FONT + 1)
    return fig, ax


def canvas_row(widths, height, scale=0.42):
    """Blank panels side by side at one scale: panel ``i`` spans ``widths[i] x height`` units."""
    fig, axes = plt.subplots(
        1,
        len(widths),
        figsize=(scale * sum(widths) + 1.2 * len(widths), scale * height + 1.3),
        gridspec_kw={"width_ratios": list(widths)},
        layout="constrained",
    )
    plt.close(fig)
    fig.set_facecolor("white")
    for ax, w in zip(axes, widths, strict=True):
        ax.set_xlim(-0.3, w + 0.3)
        ax.set_ylim(-0.3, height + 0.3)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
    return fig, list(axes)


def box(ax, x, y, w, h, text="", role="data", fontsize=FONT, **kwargs):
    """A rounded box with its lower-left corner at ``(x, y)`` and centred text; returns it."""
    patch = FancyBboxPatch(
        (x, y),
        w,
        h,
        boxstyle="round,pad=0.02,rounding_size=0.08",
        fc=COLOURS.get(role, role),
        ec=kwargs.pop("ec", EDGE),
        lw=kwargs.pop("lw", 1.0),
        **kwargs,
    )
    ax.add_patch(patch)
    if text:
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize)
    return patch


def arrow(ax, start, end, text=None, colour=EDGE, offset=(0.0, 0.0), **kwargs):
    """An arrow from ``start`` to ``end`` (data coordinates), optionally labelled at its middle."""
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle=kwargs.pop("arrowstyle", "-|>"),
            mutation_scale=kwargs.pop("mutation_scale", 12),
            color=colour,
            lw=kwargs.pop("lw", 1.2),
            shrinkA=kwargs.pop("shrinkA", 0),
            shrinkB=kwargs.pop("shrinkB", 0),
            zorder=kwargs.pop("zorder", 3),  # above the slices of a volume
            **kwargs,
        )
    )
    if text:
        mid = ((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1])
        ax.text(*mid, text, ha="center", va="center", fontsize=FONT - 1, color=colour)


def cuboid(ax, x, y, w, h, d, role="data", label=None, depth_angle=0.5, alpha=1.0, ec=EDGE):
    """A box in oblique projection: front face ``w x h`` at ``(x, y)``, depth ``d`` going up-right.

    Returns the front-face corners ``(x, y, w, h)`` so that a caller can draw on it.
    """
    dx, dy = d * np.cos(depth_angle), d * np.sin(depth_angle)
    fill = COLOURS.get(role, role)
    faces = [
        [(x, y), (x + w, y), (x + w, y + h), (x, y + h)],  # front
        [(x, y + h), (x + w, y + h), (x + w + dx, y + h + dy), (x + dx, y + h + dy)],  # top
        [(x + w, y), (x + w + dx, y + dy), (x + w + dx, y + h + dy), (x + w, y + h)],  # side
    ]
    for face, shade in zip(faces, (1.0, 0.88, 0.76), strict=True):
        colour = np.array(mpatches.Patch(color=fill).get_facecolor()[:3]) * shade
        ax.add_patch(Polygon(face, closed=True, fc=colour, ec=ec, lw=1.0, alpha=alpha))
    if label:
        ax.text(x + (w + dx) / 2, y - 0.25, label, ha="center", va="top", fontsize=FONT - 1)
    return x, y, w, h


def slices(ax, x, y, side, n, colour, step=(0.32, 0.26), cells=None, alpha=1.0, zorder=1.0):
    """``n`` square slices of a volume, front one at ``(x, y)``, the rest stepping up-right.

    ``cells`` draws that many grid lines per side on every slice. Returns the front slice's
    ``(x, y)``.
    """
    fill = COLOURS.get(colour, colour)
    for c in reversed(range(n)):  # back to front; each slice hides the lines of those behind
        sx, sy, z = x + c * step[0], y + c * step[1], zorder - 1 + slice_zorder(c, n)
        rect = mpatches.Rectangle((sx, sy), side, side, fc=fill, ec=EDGE, lw=0.9, alpha=alpha)
        rect.set_zorder(z)
        ax.add_patch(rect)
        for t in range(1, cells or 0):
            u = t * side / cells
            ax.plot([sx + u, sx + u], [sy, sy + side], color="#7f7f7f", lw=0.4, zorder=z + 0.001)
            ax.plot([sx, sx + side], [sy + u, sy + u], color="#7f7f7f", lw=0.4, zorder=z + 0.001)
    return x, y


def slice_zorder(c, n):
    """Drawing order of slice ``c`` of ``n`` (0 is the front): what lies on it goes at +0.002."""
    return 1 + 0.01 * (n - c)


def lighter(colour, amount=0.55):
    """``colour`` mixed with white (0: unchanged, 1: white)."""
    rgb = np.array(mpatches.Patch(color=colour).get_facecolor()[:3])
    return tuple(rgb + (1 - rgb) * amount)


def grid(ax, x, y, rows, cols, cell=1.0, values=None, fills=None, fontsize=FONT - 2, fmt="g"):
    """A ``rows x cols`` grid of square cells, top-left at ``(x, y)``, y growing downwards.

    ``values`` (rows, cols) are written in the cells; ``fills`` (rows, cols) of colours fill
    them (``None`` entries stay white). Returns ``cell_xy(i, j)``, the lower-left corner of a
    cell, for callers that outline a few cells.
    """

    def cell_xy(i, j):
        return x + j * cell, y - (i + 1) * cell

    for i in range(rows):
        for j in range(cols):
            fc = "white" if fills is None or fills[i][j] is None else fills[i][j]
            cx, cy = cell_xy(i, j)
            ax.add_patch(mpatches.Rectangle((cx, cy), cell, cell, fc=fc, ec="#909090", lw=0.6))
            if values is not None:
                ax.text(
                    cx + cell / 2,
                    cy + cell / 2,
                    format(values[i][j], fmt),
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                )
    return cell_xy


def outline(ax, x, y, w, h, colour, lw=2.0, ls="-", zorder=None):
    """An unfilled rectangle (a window, a region) with lower-left corner ``(x, y)``."""
    rect = mpatches.Rectangle((x, y), w, h, fill=False, ec=colour, lw=lw, ls=ls)
    if zorder is not None:
        rect.set_zorder(zorder)
    ax.add_patch(rect)
