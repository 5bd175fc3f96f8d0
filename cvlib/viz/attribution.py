"""Heat maps over an image: saliency, Grad-CAM (from :mod:`cvlib.probes`) and the like."""

import torch  # noqa: F401 (the doctest uses it)

from ._figure import imshow, new_figure, to_image, to_numpy

__all__ = ["overlay_heatmap"]


def overlay_heatmap(image, heatmaps, titles=None, alpha=0.5, cmap="jet", size=2.8):
    """The image, then each heat map (saliency, Grad-CAM, ...) laid over it.

    Parameters
    ----------
    image : array or tensor, shape (C, H, W), (H, W, C) or (H, W)
    heatmaps : array or tensor (H, W), or a list of them
    titles : list of str, optional
        One per heat map.
    alpha : float
        Opacity of the heat maps.
    cmap : str
    size : float
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure
        ``1 + len(heatmaps)`` axes.

    Examples
    --------
    >>> len(overlay_heatmap(torch.rand(3, 8, 8), [torch.rand(8, 8)] * 2).axes)
    3
    """
    image = to_image(image)
    if not isinstance(heatmaps, (list, tuple)):
        heatmaps = [heatmaps]
    if titles is not None and len(titles) != len(heatmaps):
        raise ValueError(f"`titles` has {len(titles)} entries for {len(heatmaps)} heat maps")
    fig, axes = new_figure(1, 1 + len(heatmaps), size=size)
    imshow(axes[0], image, "image")
    for i, (ax, heat) in enumerate(zip(axes[1:], heatmaps, strict=True)):
        heat = to_numpy(heat, "heatmaps")
        if heat.shape != image.shape[:2]:
            raise ValueError(f"heat map {i} has shape {heat.shape}, the image {image.shape[:2]}")
        imshow(ax, image, None if titles is None else titles[i])
        ax.imshow(heat, cmap=cmap, alpha=alpha)
    return fig
