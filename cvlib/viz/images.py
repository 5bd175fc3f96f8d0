"""Pictures of data: image grids, boxes drawn on an image, segmentation masks over an image."""

import matplotlib.patches as mpatches
import numpy as np
from matplotlib import colormaps

from ._figure import grid_shape, imshow, new_figure, to_image, to_image_list, to_numpy

__all__ = ["draw_boxes", "overlay_mask", "show_images"]


def show_images(images, titles=None, ncols=None, size=2.0, suptitle=None):
    """Show images in a grid.

    Parameters
    ----------
    images : array or tensor, or list of them
        A batch ``(N, C, H, W)`` or ``(N, H, W, C)``, one image, or a list of images, each
        ``(H, W)``, ``(C, H, W)`` or ``(H, W, C)``; ``uint8`` in 0-255 or floats in [0, 1]
        (other float ranges are rescaled per image).
    titles : list of str, optional
        One title per image.
    ncols : int, optional
        Columns of the grid (default: up to 8).
    size : float
        Inches per panel.
    suptitle : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        One axes per image.

    Examples
    --------
    >>> fig = show_images(np.zeros((5, 3, 8, 8)), titles=list("abcde"), ncols=3)
    >>> len(fig.axes)
    5
    """
    images = to_image_list(images)
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"`titles` has {len(titles)} entries for {len(images)} images")
    nrows, ncols = grid_shape(len(images), ncols)
    fig, axes = new_figure(nrows, ncols, size=size, n=len(images))
    for i, (ax, image) in enumerate(zip(axes, images, strict=True)):
        imshow(ax, image, None if titles is None else titles[i])
    if suptitle is not None:
        fig.suptitle(suptitle)
    return fig


def _class_name(label, class_names):
    return class_names[label] if class_names is not None else str(label)


def draw_boxes(
    image, boxes, labels=None, scores=None, class_names=None, true_boxes=None, title=None, size=4.0
):
    """Draw boxes (pixel ``xyxy``) on an image, with optional labels, scores and ground truth.

    Parameters
    ----------
    image : array or tensor, shape (C, H, W), (H, W, C) or (H, W)
    boxes : array or tensor, shape (K, 4)
        Predicted (or any) boxes, drawn solid.
    labels : sequence of int, optional
        Class index per box; colours the box and names it.
    scores : sequence of float, optional
        Shown next to the label.
    class_names : sequence of str, optional
    true_boxes : array or tensor, shape (T, 4), optional
        Ground-truth boxes, drawn dashed in white.
    title : str, optional
    size : float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One axes.

    Examples
    --------
    >>> fig = draw_boxes(np.zeros((32, 32)), [[2, 2, 10, 12]], labels=[1], scores=[0.9])
    >>> len(fig.axes)
    1
    """
    image = to_image(image)
    boxes = to_numpy(boxes, "boxes").reshape(-1, 4) if len(boxes) else np.zeros((0, 4))
    for arg, name in ((labels, "labels"), (scores, "scores")):
        if arg is not None and len(arg) != len(boxes):
            raise ValueError(f"`{name}` has {len(arg)} entries for {len(boxes)} boxes")
    fig, (ax,) = new_figure(size=size)
    imshow(ax, image, title)
    colours = colormaps["tab10"]
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        label = None if labels is None else int(labels[i])
        colour = colours(0 if label is None else label % 10)
        ax.add_patch(mpatches.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, lw=2, ec=colour))
        text = [] if label is None else [_class_name(label, class_names)]
        if scores is not None:
            text.append(f"{float(scores[i]):.2f}")
        if text:
            ax.text(
                x1,
                y1,
                " ".join(text),
                color="white",
                fontsize=8,
                va="bottom",
                bbox={"facecolor": colour, "alpha": 0.8, "pad": 1, "lw": 0},
            )
    if true_boxes is not None:
        for x1, y1, x2, y2 in to_numpy(true_boxes, "true_boxes").reshape(-1, 4):
            ax.add_patch(
                mpatches.Rectangle(
                    (x1, y1), x2 - x1, y2 - y1, fill=False, lw=1.5, ec="white", ls="--"
                )
            )
    return fig


def overlay_mask(image, mask, true_mask=None, class_names=None, alpha=0.5, size=3.5):
    """Colour each labelled pixel of a segmentation mask over the image (0 = background, clear).

    Parameters
    ----------
    image : array or tensor, shape (C, H, W), (H, W, C) or (H, W)
    mask : array or tensor of int, shape (H, W)
        Class per pixel; 0 is background and stays transparent.
    true_mask : array or tensor of int, shape (H, W), optional
        Ground truth, drawn in a second panel.
    class_names : sequence of str, optional
        Names of mask values 1, 2, ... (e.g. ``("circle", "square", "triangle")``) for a legend.
    alpha : float
        Opacity of the colours.
    size : float
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure
        One axes, two with ``true_mask``.

    Examples
    --------
    >>> mask = np.zeros((16, 16), dtype=int); mask[4:8, 4:8] = 2
    >>> len(overlay_mask(np.ones((16, 16)), mask, true_mask=mask).axes)
    2
    """
    image = to_image(image)
    masks = [("prediction" if true_mask is not None else None, mask)]
    if true_mask is not None:
        masks.append(("ground truth", true_mask))
    fig, axes = new_figure(1, len(masks), size=size)
    colours = colormaps["tab10"]
    for ax, (title, m) in zip(axes, masks, strict=True):
        m = to_numpy(m, "mask").astype(np.int64)
        if m.shape != image.shape[:2]:
            raise ValueError(f"`mask` has shape {m.shape} but the image is {image.shape[:2]}")
        rgba = np.zeros((*m.shape, 4))
        for value in np.unique(m[m > 0]):
            rgba[m == value] = (*colours((value - 1) % 10)[:3], alpha)
        imshow(ax, image, title)
        ax.imshow(rgba)
    if class_names is not None:
        handles = [
            mpatches.Patch(color=colours(i % 10), label=name) for i, name in enumerate(class_names)
        ]
        axes[-1].legend(handles=handles, loc="upper right", fontsize=7, framealpha=0.7)
    return fig
