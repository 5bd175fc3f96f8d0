"""Training curves, confusion matrices, accuracies repeated over seeds, and 2-D feature maps."""

import numpy as np
from matplotlib import colormaps

from ._figure import new_figure, to_numpy

__all__ = ["plot_confusion", "plot_embedding", "plot_history", "plot_seed_results"]


def _series(history, name):
    values = getattr(history, name, None)
    return [] if values is None else [float(v) for v in values]


def plot_history(history, title=None):
    """Loss and accuracy per epoch from a :class:`cvlib.train.History` (or anything alike).

    Parameters
    ----------
    history : object
        Has list attributes ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc`` (the
        validation ones may be empty when there was no validation set).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: loss, accuracy.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> h = SimpleNamespace(train_loss=[1.0, 0.5], train_acc=[0.5, 0.8], val_loss=[], val_acc=[])
    >>> len(plot_history(h).axes)
    2
    """
    if not hasattr(history, "train_loss"):
        kind = type(history).__name__
        raise TypeError(f"`history` must have a `train_loss` attribute, got {kind}")
    fig, (ax_loss, ax_acc) = new_figure(1, 2, size=3.5)
    for ax, key, label in ((ax_loss, "loss", "loss"), (ax_acc, "acc", "accuracy")):
        for split, style in (("train", "-o"), ("val", "--s")):
            values = _series(history, f"{split}_{key}")
            if values:
                ax.plot(range(1, len(values) + 1), values, style, ms=3, label=split)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(label)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
    if title is not None:
        fig.suptitle(title)
    return fig


def plot_confusion(confusion, class_names=None, normalize=False, title="confusion matrix"):
    """Draw a confusion matrix: rows are true classes, columns predicted classes.

    Parameters
    ----------
    confusion : array or tensor, shape (K, K), or an object with a ``confusion`` attribute
        (e.g. :class:`cvlib.train.Evaluation`). Entry ``[i, j]`` counts class ``i`` predicted
        as ``j``.
    class_names : sequence of str, optional
    normalize : bool
        Divide each row by its total, so the diagonal is the recall of each class.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
        One axes.

    Examples
    --------
    >>> len(plot_confusion(np.array([[5, 1], [0, 4]]), class_names=["O", "X"]).axes)
    1
    """
    confusion = to_numpy(getattr(confusion, "confusion", confusion), "confusion").astype(float)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"`confusion` must be a square matrix, got shape {confusion.shape}")
    k = confusion.shape[0]
    if class_names is not None and len(class_names) != k:
        raise ValueError(f"`class_names` has {len(class_names)} entries for {k} classes")
    if normalize:
        confusion = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    fig, (ax,) = new_figure(size=max(3.0, 0.5 * k + 1.5))
    ax.imshow(confusion, cmap="Blues")
    names = class_names if class_names is not None else [str(i) for i in range(k)]
    ax.set_xticks(range(k), names, rotation=45 if k > 4 else 0)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    limit = confusion.max() / 2 if confusion.size else 0
    for i in range(k):
        for j in range(k):
            value = confusion[i, j]
            text = f"{value:.2f}" if normalize else f"{int(value)}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if value > limit else "black",
            )
    return fig


def plot_seed_results(result, ax=None):
    """Bar chart of mean test accuracy per method, one-std error bars, each seed as a dot.

    Parameters
    ----------
    result : cvlib.experiments.SeedResults (or anything with ``accuracies``, ``mean``, ``std``
        and ``setting``)
    ax : matplotlib Axes, optional
        Draw there; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from cvlib.experiments import SeedResults
    >>> r = SeedResults({"a": [0.5, 0.7], "b": [0.9, 0.8]}, seeds=(0, 1), setting="toy")
    >>> [t.get_text() for t in plot_seed_results(r).get_xticklabels()]
    ['a', 'b']
    """
    if not hasattr(result, "accuracies"):
        raise TypeError(f"`result` must have `accuracies`, got {type(result).__name__}")
    if ax is None:
        ax = new_figure(1, 1, size=4)[1][0]
    methods = list(result.accuracies)
    ax.bar(
        methods,
        [result.mean(m) for m in methods],
        yerr=[result.std(m) for m in methods],
        capsize=4,
        color="#9ecae1",
    )
    for i, m in enumerate(methods):
        ax.plot([i] * len(result.accuracies[m]), result.accuracies[m], "k.", alpha=0.6)
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.set_title(result.setting, fontsize=9)
    return ax


def plot_embedding(points, labels, class_names=None, title=None, markers=None, size=4.5):
    """A scatter plot of 2-D points (a t-SNE or PCA map of feature vectors), one colour a class.

    Parameters
    ----------
    points : array or tensor, shape (N, 2)
    labels : array or tensor of int, shape (N,)
    class_names : sequence of str, optional
        Legend entries, indexed by label.
    title : str, optional
    markers : dict, optional
        ``{label: marker}``, e.g. to draw classes a network never saw as crosses.
    size : float
        Figure side in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one collection per class.

    Examples
    --------
    >>> fig = plot_embedding(np.random.default_rng(0).normal(size=(30, 2)), np.arange(30) % 3)
    >>> len(fig.axes[0].collections)
    3
    """
    points = to_numpy(points, "points")
    labels = to_numpy(labels, "labels").astype(int)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) != len(labels):
        raise ValueError(f"`points` must be (N, 2) with one label each, got {points.shape}")
    fig, (ax,) = new_figure(size=size)
    colours = colormaps["tab10"]
    for k in np.unique(labels):
        name = class_names[k] if class_names is not None else str(k)
        marker = (markers or {}).get(int(k), "o")
        ax.scatter(*points[labels == k].T, s=14, color=colours(k % 10), marker=marker, label=name)
    ax.set_xlabel("embedding dimension 1")
    ax.set_ylabel("embedding dimension 2")
    ax.legend(fontsize=8, markerscale=1.3, loc="best", ncol=2)
    if title:
        ax.set_title(title, fontsize=10)
    return fig
