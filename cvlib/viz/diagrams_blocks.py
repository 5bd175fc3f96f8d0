"""Diagrams of network building blocks: the Inception module, residual blocks, normalisations.

The residual diagrams are read off the block objects themselves (their convolutions' channels,
kernels and strides, and whether the shortcut is a projection), and the Inception diagram off
the same configuration tuple the module is built from, so the numbers on a diagram are the
numbers of the code beside it.
"""

from matplotlib.patches import Circle, Polygon
from torch import nn

from ._draw import COLOURS, FONT, arrow, box, canvas, lighter

__all__ = ["block_diagram", "inception_diagram", "norm_axes_diagram"]


def inception_diagram(config, size=28, kernel5=5):
    """An Inception module: four parallel branches whose outputs are stacked along channels.

    Parameters
    ----------
    config : tuple of 7 ints
        ``(in_channels, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)``, as in
        ``cvlib.models.googlenet.INCEPTION_CFG``.
    size : int
        Side of the input feature map (28 for ``inception3a``).
    kernel5 : int
        Kernel of the third branch: 5 in the paper (torchvision's port uses 3).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = inception_diagram((192, 64, 96, 128, 16, 32, 32))
    >>> [t.get_text() for t in fig.axes[0].texts][-1]
    'output 256 x 28 x 28'
    """
    if len(config) != 7:
        raise ValueError(f"`config` must have 7 numbers (see INCEPTION_CFG), got {config!r}")
    c_in, c1, r3, c3, r5, c5, proj = (int(v) for v in config)
    fig, ax = canvas(9.0, 5.0, (-0.2, 12.2), (-0.4, 7.2))
    box(ax, 4.1, 6.2, 3.8, 0.8, f"input {c_in} x {size} x {size}", "data")
    branches = [
        [("conv", f"1x1 conv, {c1}")],
        [("conv", f"1x1 conv, {r3}"), ("conv", f"3x3 conv, {c3}")],
        [("conv", f"1x1 conv, {r5}"), ("conv", f"{kernel5}x{kernel5} conv, {c5}")],
        [("pool", "3x3 max pool"), ("conv", f"1x1 conv, {proj}")],
    ]
    width, xs = 2.6, [0.1, 3.15, 6.2, 9.25]
    centres = [x + width / 2 for x in xs]
    line = {"color": "#404040", "lw": 1.2}
    ax.plot([6.0, 6.0], [6.2, 5.6], **line)  # the input goes to every branch along one bus
    ax.plot([centres[0], centres[-1]], [5.6, 5.6], **line)
    ax.plot([centres[0], centres[-1]], [2.05, 2.05], **line)  # and the outputs come back on one
    for x, steps, channels in zip(xs, branches, (c1, c3, c5, proj), strict=True):
        ys = [4.2, 2.7][-len(steps) :]  # every branch ends on the same row
        arrow(ax, (x + width / 2, 5.6), (x + width / 2, ys[0] + 0.85))
        for (role, text), y in zip(steps, ys, strict=True):
            box(ax, x, y, width, 0.85, text, role)
        if len(steps) == 2:
            arrow(ax, (x + width / 2, 4.2), (x + width / 2, 2.7 + 0.85))
        ax.plot([x + width / 2, x + width / 2], [2.7, 2.05], **line)
        ax.text(
            x + width / 2 + 0.08,
            2.38,
            f"{channels} x {size} x {size}",
            va="center",
            fontsize=FONT - 1,
            color=COLOURS["link"],
        )
    arrow(ax, (6.0, 2.05), (6.0, 1.85))
    box(ax, 3.6, 1.0, 4.8, 0.85, f"concatenate: {c1} + {c3} + {c5} + {proj} channels", "join")
    arrow(ax, (6.0, 1.0), (6.0, 0.55))
    ax.text(
        6.0,
        0.25,
        f"output {c1 + c3 + c5 + proj} x {size} x {size}",
        ha="center",
        va="center",
        fontsize=FONT,
        bbox={"fc": COLOURS["data"], "ec": "#404040", "boxstyle": "round"},
    )
    return fig


def _conv_text(conv):
    k = conv.kernel_size[0]
    text = f"{k}x{k} conv\n{conv.in_channels}→{conv.out_channels}"
    return text + (f", stride {conv.stride[0]}" if conv.stride[0] > 1 else "")


def _steps(block):
    """The main path of a residual block, in order: ``[(role, text), ...]``, and the shortcut."""
    convs = [getattr(block, f"conv{i}") for i in (1, 2, 3) if hasattr(block, f"conv{i}")]
    preact = getattr(block, "preactivation", False)
    steps = []
    for i, conv in enumerate(convs):
        if preact:
            steps += [("norm", "batch norm"), ("act", "ReLU"), ("conv", _conv_text(conv))]
        else:
            steps += [("conv", _conv_text(conv)), ("norm", "batch norm")]
            if i < len(convs) - 1:
                steps.append(("act", "ReLU"))
    projection = getattr(block, "downsample", None) or getattr(block, "shortcut", None)
    if isinstance(projection, nn.Module):
        conv = next(m for m in projection.modules() if isinstance(m, nn.Conv2d))
        norm = any(isinstance(m, nn.BatchNorm2d) for m in projection.modules())
        shortcut = "projection\n" + _conv_text(conv) + ("\n+ batch norm" if norm else "")
    elif getattr(block, "extra_channels", 0) or getattr(block, "stride", 1) > 1:
        shortcut = "subsample by 2,\npad channels\nwith zeros"  # option A of He et al.
    else:
        shortcut = "identity"
    return steps, shortcut, preact


PITCH, BOX_W, BOX_H, GAP = 5.8, 2.8, 0.8, 0.3


def _draw_block(ax, x0, block, title):
    steps, shortcut, preact = _steps(block)
    mid_x, side = x0 + BOX_W / 2, x0 + 4.3  # the main path, and the shortcut to its right
    y = 11.0
    ax.text(x0 + 2.2, y + 1.0, title, ha="center", va="center", fontsize=FONT + 1)
    ax.text(mid_x, y + 0.35, "x", ha="center", va="center", fontsize=FONT + 1)
    for role, text in steps:
        arrow(ax, (mid_x, y + 0.15), (mid_x, y - GAP))
        y -= GAP + BOX_H
        box(ax, x0, y, BOX_W, BOX_H, text, role, fontsize=FONT - 1)
    y_add = y - GAP - 0.45
    arrow(ax, (mid_x, y), (mid_x, y_add + 0.22))
    ax.add_patch(Circle((mid_x, y_add), 0.22, fc=COLOURS["join"], ec="#404040"))
    ax.text(mid_x, y_add, "+", ha="center", va="center", fontsize=FONT + 2)
    ax.plot([mid_x, side, side], [11.25, 11.25, y_add], color=COLOURS["link"], lw=1.4)
    arrow(ax, (side, y_add), (mid_x + 0.22, y_add), colour=COLOURS["link"])
    fill = "white" if shortcut == "identity" else lighter(COLOURS["link"], 0.8)
    ax.text(
        side,
        (11.25 + y_add) / 2,
        shortcut,
        ha="center",
        va="center",
        fontsize=FONT - 1,
        bbox={"fc": fill, "ec": COLOURS["link"], "boxstyle": "round,pad=0.3"},
    )
    y_out = y_add - 0.3
    if not preact:
        arrow(ax, (mid_x, y_out), (mid_x, y_out - GAP))
        y_out -= GAP + BOX_H
        box(ax, x0, y_out, BOX_W, BOX_H, "ReLU", "act", fontsize=FONT - 1)
    arrow(ax, (mid_x, y_out), (mid_x, y_out - 0.45))
    ax.text(mid_x, y_out - 0.7, "output", ha="center", va="center", fontsize=FONT)


def block_diagram(blocks, titles=None):
    """Residual blocks side by side, each drawn from the block object itself.

    Understands the blocks of :mod:`cvlib.models` (``BasicBlock``, ``Bottleneck``,
    ``PreActBlock``, the small networks' blocks): the convolutions ``conv1``, ``conv2`` (and
    ``conv3``), batch norm after each convolution (before it in a pre-activation block), and
    the shortcut: identity, zero-padding, or a projection (``downsample`` / ``shortcut``).

    Parameters
    ----------
    blocks : list of nn.Module
    titles : list of str, optional

    Returns
    -------
    matplotlib.figure.Figure
        One axes; each block's convolutions are written as ``kxk conv`` over ``C_in→C_out``.

    Examples
    --------
    >>> from cvlib.models import Bottleneck
    >>> fig = block_diagram([Bottleneck(256, 64)], ["bottleneck"])
    >>> [" ".join(t.get_text().split()) for t in fig.axes[0].texts if "conv" in t.get_text()]
    ['1x1 conv 256→64', '3x3 conv 64→64', '1x1 conv 64→256']
    """
    blocks = list(blocks)
    titles = titles or [type(b).__name__ for b in blocks]
    if len(titles) != len(blocks):
        raise ValueError(f"`titles` has {len(titles)} entries for {len(blocks)} blocks")
    longest = max(len(_steps(b)[0]) for b in blocks)
    bottom = 11.0 - longest * (GAP + BOX_H) - 2.9
    width = PITCH * len(blocks) - 0.4
    fig, ax = canvas(0.5 * width, 0.5 * (12.4 - bottom), (-0.2, width), (bottom, 12.4))
    for i, (block, title) in enumerate(zip(blocks, titles, strict=True)):
        _draw_block(ax, PITCH * i, block, title)
    return fig


def _face(ax, corners, colour, alpha=1.0):
    ax.add_patch(Polygon(corners, closed=True, fc=colour, ec="#404040", lw=0.8, alpha=alpha))


def _norm_cube(ax, x0, name, n, c, select, groups):
    """One (N, C, H*W) block: N down the front, C across it, H, W going back; ``select`` shades."""
    cw, ch, depth = 2.2 / c, 2.2 / n, 1.3
    dx, dy = depth * 0.6, depth * 0.5
    for i in range(n):
        for j in range(c):
            shaded = select(i, j)
            colour = COLOURS["highlight"] if shaded else COLOURS["data"]
            x, y = x0 + j * cw, 2.2 - (i + 1) * ch
            _face(
                ax,
                [(x, y), (x + cw, y), (x + cw, y + ch), (x, y + ch)],
                lighter(colour, 0.2 if shaded else 0),
            )
            if i == 0:  # the top face shows the channel's depth (H, W)
                _face(
                    ax,
                    [(x, 2.2), (x + cw, 2.2), (x + cw + dx, 2.2 + dy), (x + dx, 2.2 + dy)],
                    lighter(colour, 0.35),
                )
            if j == c - 1:  # the side face shows each sample's depth
                _face(
                    ax,
                    [
                        (x + cw, y),
                        (x + cw + dx, y + dy),
                        (x + cw + dx, y + ch + dy),
                        (x + cw, y + ch),
                    ],
                    lighter(colour, 0.45),
                )
    ax.text(x0 + 1.4, 3.55, name, ha="center", fontsize=FONT + 1)
    ax.text(x0 + 1.1, -0.35, "C (channels)", ha="center", fontsize=FONT - 1)
    ax.text(x0 - 0.2, 1.1, "N", ha="right", va="center", fontsize=FONT - 1)
    ax.text(x0 + 2.2 + dx + 0.05, 2.9, "H, W", fontsize=FONT - 1)


def norm_axes_diagram(batch=4, channels=6, groups=2):
    """Which values each normalisation averages over, for activations of shape ``(N, C, H, W)``.

    Batch norm: one channel over the whole batch and all positions (``N, H, W``); layer norm:
    one sample over everything (``C, H, W``); instance norm: one sample, one channel
    (``H, W``); group norm: one sample, one group of ``C / groups`` channels. The shaded
    values share one mean and one variance (after Wu and He, 2018, Fig. 2).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> [t.get_text() for t in norm_axes_diagram().axes[0].texts][::4]
    ['batch norm', 'layer norm', 'instance norm', 'group norm (2 groups)']
    """
    if channels % groups:
        raise ValueError(f"`channels` ({channels}) must be a multiple of `groups` ({groups})")
    per = channels // groups
    kinds = [
        ("batch norm", lambda i, j: j == 0),
        ("layer norm", lambda i, j: i == 0),
        ("instance norm", lambda i, j: i == 0 and j == 0),
        (f"group norm ({groups} groups)", lambda i, j: i == 0 and j < per),
    ]
    fig, ax = canvas(8.8, 2.7, (-0.8, 16.2), (-0.8, 4.0))
    for k, (name, select) in enumerate(kinds):
        _norm_cube(ax, 4.1 * k, name, batch, channels, select, groups)
    return fig
