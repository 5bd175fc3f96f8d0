"""Small arrays drawn as grids with their values written in the cells.

The chapters use these to show a 6 x 6 image, a 3 x 3 filter and the feature map they make side
by side, with every number readable. Negative values are drawn in a red-blue diverging map
centred on 0, non-negative ones in greys.
"""

import numpy as np

from ._figure import new_figure, to_numpy

__all__ = ["show_matrices", "show_matrix"]


def _draw(ax, a, title, fmt):
    lim = max(float(np.abs(a).max()) if a.size else 0.0, 1e-9)
    signed = a.size > 0 and a.min() < 0
    ax.imshow(a, cmap="RdBu_r" if signed else "Greys", vmin=-lim if signed else 0, vmax=lim)
    for (i, j), v in np.ndenumerate(a):
        ax.text(
            j,
            i,
            format(v, fmt),
            ha="center",
            va="center",
            fontsize=8,
            color="black" if abs(v) < 0.6 * lim else "white",
        )
    if title is not None:
        ax.set_title(title, fontsize=10)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    ax.set_xticks(range(a.shape[1]))
    ax.set_yticks(range(a.shape[0]))
    ax.tick_params(labelsize=7)


def _matrix(a, name):
    a = to_numpy(a, name)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"`{name}` must be a 1-D or 2-D array, got shape {a.shape}")
    return a


def show_matrix(a, ax=None, title=None, fmt="g", size=2.6):
    """Draw one small matrix as a grid of cells, each labelled with its value.

    Parameters
    ----------
    a : array or tensor, shape (H, W) or (W,)
        The values (keep it small: about 12 x 12 at most stays readable).
    ax : matplotlib Axes, optional
        Where to draw; a new figure of ``size`` inches when omitted.
    title : str, optional
    fmt : str, default "g"
        Format spec of the written values, e.g. ``".2f"`` or ``"d"`` for integer arrays.

    Returns
    -------
    matplotlib.figure.Figure
        The new figure, or the figure that holds ``ax``.

    Examples
    --------
    >>> fig = show_matrix(np.array([[1, 0, -1]] * 3), title="vertical edge", fmt="d")
    >>> [t.get_text() for t in fig.axes[0].texts][:3]
    ['1', '0', '-1']
    """
    a = _matrix(a, "a")
    if ax is None:
        _, (ax,) = new_figure(size=size)
    _draw(ax, a, title, fmt)
    return ax.figure


def show_matrices(panels, suptitle=None, fmt="g", size=2.6):
    """Draw small matrices side by side, each a grid labelled with its values.

    Parameters
    ----------
    panels : list of (title, array) pairs
    suptitle : str, optional
        A title over the whole row.
    fmt : str, default "g"
        Format spec of the written values.
    size : float, default 2.6
        Width and height of each panel in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = show_matrices([("x", np.eye(3)), ("2x", 2 * np.eye(3))], suptitle="scaling")
    >>> len(fig.axes)
    2
    """
    panels = list(panels)
    if not panels or any(len(p) != 2 for p in panels):
        raise ValueError("`panels` must be a non-empty list of (title, array) pairs")
    fig, axes = new_figure(ncols=len(panels), size=size)
    for ax, (title, a) in zip(axes, panels, strict=True):
        _draw(ax, _matrix(a, f"panels[{title!r}]"), title, fmt)
    if suptitle:
        fig.suptitle(suptitle)
    return fig
