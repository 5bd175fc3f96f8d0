"""A kernel sliding over a small image, step by step, with the output filling in.

The animation is a :class:`matplotlib.animation.FuncAnimation`; :func:`conv_animation_html` turns
it into self-contained HTML and JavaScript (``to_jshtml``), so a static site shows it without
ffmpeg or a running kernel.
"""

import html as html_text
import re
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.animation import FuncAnimation, HTMLWriter
from matplotlib.patches import Rectangle

from cvlib.conv import conv2d

from ._figure import new_figure, to_numpy

__all__ = ["conv_animation", "conv_animation_html", "describe_conv_animation"]


def _annotate(ax, image, values, fmt):
    """Write each finite value on its cell, white on dark cells and black on light ones."""
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            r, g, b, _ = image.cmap(image.norm(v))
            dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.45  # (relative luminance, roughly)
            ax.text(
                j,
                i,
                format(v, fmt),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if dark else "black",
            )


def _panel(ax, values, title, cmap, vmin, vmax):
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_title(title, fontsize=10)
    ax.set_xticks(range(values.shape[1]))
    ax.set_yticks(range(values.shape[0]))
    ax.tick_params(labelsize=7)
    return image


def _checked(image, kernel, stride, padding):
    """``(image, kernel, stride, padding)`` as float arrays and ints, or a clear error."""
    x = to_numpy(image, "image").astype(np.float64)
    k = to_numpy(kernel, "kernel").astype(np.float64)
    if x.ndim != 2:
        raise ValueError(f"`image` must be a 2-D array (H, W), got shape {x.shape}")
    if k.ndim != 2:
        raise ValueError(f"`kernel` must be a 2-D array (kH, kW), got shape {k.shape}")
    if int(stride) < 1:
        raise ValueError(f"`stride` must be a positive integer, got {stride}")
    if int(padding) < 0:
        raise ValueError(f"`padding` must be a non-negative integer, got {padding}")
    return x, k, int(stride), int(padding)


def conv_animation(image, kernel, stride=1, padding=0, interval=600, fmt="g"):
    """Animate a 2-D cross-correlation (what ``nn.Conv2d`` computes) one output value at a time.

    Frame ``t`` puts the kernel on the ``t``-th window (row-major), shows the window on the input,
    and writes ``out[i, j] = sum_{u, v} x[i*s + u, j*s + v] * k[u, v]`` into the output.

    Parameters
    ----------
    image : array or tensor, shape (H, W)
        A small single-channel image (say up to 10x10, so the numbers fit).
    kernel : array or tensor, shape (kH, kW)
    stride : int
    padding : int
        Zero padding on every side, drawn as part of the input.
    interval : int
        Milliseconds between frames.
    fmt : str
        Format of the numbers written in the cells.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        Its figure (``anim._fig``) has three axes: input, kernel, output. There are
        ``H_out * W_out`` frames, ``H_out = (H + 2*padding - kH) // stride + 1`` (``W_out``
        likewise).

    Examples
    --------
    >>> anim = conv_animation(np.arange(9.0).reshape(3, 3), np.ones((2, 2)))
    >>> len(anim._fig.axes)
    3
    >>> anim.to_jshtml().count("data:image/png")  # one frame per output value
    4
    """
    fig, update, init, frames = _frames(image, kernel, stride, padding, fmt)
    return FuncAnimation(
        fig,
        update,
        frames=frames,
        init_func=init,
        interval=interval,
        blit=False,
        repeat=True,
    )


def _frames(image, kernel, stride, padding, fmt):
    """The figure of :func:`conv_animation`, its ``update(t)``, ``init()`` and frame count."""
    x, k, s, p = _checked(image, kernel, stride, padding)
    full = conv2d(x, k, stride=s, padding=p)  # (H_out, W_out), the values the frames reveal
    x = np.pad(x, p)  # (H + 2p, W + 2p), drawn with its padding
    kh, kw = k.shape
    h_out, w_out = full.shape

    fig, (ax_x, ax_k, ax_out) = new_figure(1, 3, size=3.0)
    x_image = _panel(
        ax_x,
        x,
        f"input {x.shape[0]}x{x.shape[1]}" + (f" (padding {p})" if p else ""),
        "Greys",
        x.min(),
        x.max() + 1e-9,
    )
    _annotate(ax_x, x_image, x, fmt)
    limit = max(float(np.abs(k).max()), 1e-9)
    k_image = _panel(ax_k, k, f"kernel {kh}x{kw}", "RdBu_r", -limit, limit)
    _annotate(ax_k, k_image, k, fmt)
    out = np.full_like(full, np.nan)
    out_image = _panel(
        ax_out, out, f"output {h_out}x{w_out}", "viridis", full.min(), full.max() + 1e-9
    )
    window = Rectangle((-0.5, -0.5), kw, kh, fill=False, ec="red", lw=2.5)
    ax_x.add_patch(window)
    cell = Rectangle((-0.5, -0.5), 1, 1, fill=False, ec="red", lw=2.5)
    ax_out.add_patch(cell)

    def update(t):
        i, j = divmod(t, w_out)
        window.set_xy((j * s - 0.5, i * s - 0.5))
        cell.set_xy((j - 0.5, i - 0.5))
        out[i, j] = full[i, j]
        out_image.set_data(out)
        for text in list(ax_out.texts):
            text.remove()
        _annotate(ax_out, out_image, out, fmt)
        fig.suptitle(f"step {t + 1}/{h_out * w_out}: out[{i}, {j}] = {format(full[i, j], fmt)}")
        return window, cell, out_image

    def init():
        out[:] = np.nan
        return update(0)

    # Lay the figure out once, with the longest title, then keep the positions: the panels do not
    # move between frames, and redoing the constrained layout for every frame cost as much as
    # drawing it (half the time of a 16-frame animation).
    fig.suptitle(
        f"step {h_out * w_out}/{h_out * w_out}: out[{h_out - 1}, {w_out - 1}] = "
        + max((format(v, fmt) for v in full.ravel()), key=len)
    )
    fig.canvas.draw()
    fig.set_layout_engine(None)

    return fig, update, init, h_out * w_out


# matplotlib's player loads Font Awesome from a CDN for its button icons; the course site must
# work offline, so the link goes and each icon becomes a plain text symbol.
_ICONS = {
    "fa fa-minus": "\u2212",
    "fa fa-fast-backward": "\u23ee",
    "fa fa-step-backward": "|\u25c1",
    "fa fa-play fa-flip-horizontal": "\u25c0",
    "fa fa-pause": "\u275a\u275a",
    "fa fa-play": "\u25b6",
    "fa fa-step-forward": "\u25b7|",
    "fa fa-fast-forward": "\u23ed",
    "fa fa-plus": "+",
}


def _offline(html):
    """Drop the player's external stylesheet and draw its icons as text."""
    html = re.sub(r"<link[^>]*font-awesome[^>]*>", "", html)
    return re.sub(r'<i class="(fa [^"]+)"></i>', lambda m: _ICONS.get(m.group(1), m.group(1)), html)


def describe_conv_animation(image, kernel, stride=1, padding=0):
    """A text alternative for the frames of :func:`conv_animation`: what they show, in words.

    Examples
    --------
    >>> describe_conv_animation(np.zeros((7, 7)), np.ones((3, 3)), stride=2, padding=1)[:64]
    'Animation in 16 steps: a 3 by 3 kernel slides with stride 2 over'
    """
    x, k, s, p = _checked(image, kernel, stride, padding)
    h_out, w_out = conv2d(x, k, stride=s, padding=p).shape
    kh, kw = k.shape
    padded = f", padded by {p} pixel{'s' if p > 1 else ''} of zeros," if p else ""
    return (
        f"Animation in {h_out * w_out} steps: a {kh} by {kw} kernel slides with stride {s} over "
        f"the {x.shape[0]} by {x.shape[1]} input{padded} one window at a time in reading order, "
        f"the window outlined in red, and each step writes the window's weighted sum into the "
        f"next cell of the {h_out} by {w_out} output; the title names the step and the value."
    )


def conv_animation_html(
    image, kernel, stride=1, padding=0, interval=600, fmt="g", as_string=False, alt=None
):
    """:func:`conv_animation` as self-contained HTML (JavaScript player, frames embedded as PNG).

    Parameters
    ----------
    image, kernel, stride, padding, interval, fmt
        As in :func:`conv_animation`.
    as_string : bool
        Return the HTML text instead of an ``IPython.display.HTML`` object (which a notebook
        cell displays and the book embeds).
    alt : str, optional
        Text alternative of the frames; default :func:`describe_conv_animation`. The player's
        slider is labelled too, so that a screen reader can name every control.

    Returns
    -------
    IPython.display.HTML or str

    Examples
    --------
    >>> html = conv_animation_html(np.eye(3), np.ones((2, 2)), as_string=True)
    >>> "<script" in html, 'alt="Animation in 4 steps' in html
    (True, True)
    """
    fig, update, init, frames = _frames(image, kernel, stride, padding, fmt)
    if alt is None:
        alt = describe_conv_animation(image, kernel, stride=stride, padding=padding)
    html = _accessible(_offline(_jshtml(fig, update, init, frames, interval)), alt)
    if as_string:
        return html
    from IPython.display import HTML

    return HTML(html)


def _jshtml(fig, update, init, frames, interval):
    """What ``FuncAnimation.to_jshtml(default_mode="once")`` gives, drawing each frame once.

    (Saving a ``FuncAnimation`` draws every frame twice on a non-interactive canvas: once after the
    update, once to save it.)
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "animation.html"
        writer = HTMLWriter(fps=1000.0 / interval, embed_frames=True, default_mode="once")
        with writer.saving(fig, path, dpi=fig.dpi):
            init()
            for t in range(frames):
                update(t)
                writer.grab_frame()
        return path.read_text()


def _accessible(html, alt):
    """Give the player's frame its text alternative and its slider a name (WCAG 1.1.1, 4.1.2)."""
    alt = html_text.escape(alt, quote=True)
    html, frames = re.subn(r"<img id=\"_anim_img", f'<img alt="{alt}" id="_anim_img', html)
    html, sliders = re.subn(
        r"<input id=\"_anim_slider",
        '<input aria-label="Step of the animation" id="_anim_slider',
        html,
    )
    if (frames, sliders) != (1, 1):  # matplotlib changed its player: look at it again
        raise RuntimeError(
            f"expected one frame and one slider in the player, got {frames}, {sliders}"
        )
    return html
