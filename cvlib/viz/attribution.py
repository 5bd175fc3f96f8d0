"""Where a CNN looks: vanilla-gradient saliency, Grad-CAM, and heat maps over the image."""

import torch
import torch.nn.functional as F

from ._figure import imshow, new_figure, to_image, to_numpy
from .filters import _batch, _module

__all__ = ["grad_cam", "overlay_heatmap", "saliency"]


def _score(logits, target):
    if target is None:
        target = int(logits[0].argmax())
    if not 0 <= int(target) < logits.shape[1]:
        raise ValueError(f"`target` must be in [0, {logits.shape[1]}), got {target}")
    return logits[0, int(target)]


def saliency(model, image, target=None):
    """Vanilla-gradient saliency (Simonyan et al., 2014): ``max_c |d score_target / d x_c|``.

    Parameters
    ----------
    model : nn.Module
        Maps ``(1, C, H, W)`` to logits ``(1, K)``.
    image : Tensor, shape (C, H, W) or (1, C, H, W)
    target : int, optional
        Class whose score is explained (default: the predicted class).

    Returns
    -------
    Tensor, shape (H, W)
        Non-negative; large where a small change of the pixel changes the score most.

    Examples
    --------
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 2))
    >>> saliency(model, torch.rand(3, 8, 8)).shape
    torch.Size([8, 8])
    """
    x = _batch(image).clone().requires_grad_(True)  # (1, C, H, W)
    was_training = model.training
    model.eval()
    try:
        (grad,) = torch.autograd.grad(_score(model(x), target), x)
    finally:
        model.train(was_training)
    return grad[0].abs().amax(dim=0)  # (H, W)


def grad_cam(model, image, layer, target=None):
    """Grad-CAM (Selvaraju et al., 2017) on the convolutional layer named ``layer``.

    With activations ``A_k`` (channel ``k``) of the layer and the target score ``y``, channel
    weights are the spatially averaged gradients ``a_k = mean_ij dy / dA_k[i, j]`` and the map is
    ``ReLU(sum_k a_k A_k)``, upsampled bilinearly to the image size and divided by its maximum.

    Parameters
    ----------
    model : nn.Module
    image : Tensor, shape (C, H, W) or (1, C, H, W)
    layer : str
        Name from ``model.named_modules()`` of a layer with a ``(1, C_l, H_l, W_l)`` output,
        usually the last convolution.
    target : int, optional
        Class to explain (default: the predicted class).

    Returns
    -------
    Tensor, shape (H, W)
        Values in [0, 1] (all zeros if no region raises the score).

    Examples
    --------
    >>> model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(),
    ...                             torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
    ...                             torch.nn.Linear(4, 2))
    >>> grad_cam(model, torch.rand(3, 8, 8), "0").shape
    torch.Size([8, 8])
    """
    module = _module(model, layer)
    captured = []
    handle = module.register_forward_hook(lambda m, inputs, output: captured.append(output))
    x = _batch(image)  # (1, C, H, W)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            logits = model(x)
            activation = captured[0]
            if not isinstance(activation, torch.Tensor) or activation.ndim != 4:
                raise ValueError(f"`layer` {layer!r} must output a (1, C, H, W) tensor")
            (grad,) = torch.autograd.grad(_score(logits, target), activation)
    finally:
        handle.remove()
        model.train(was_training)
    weights = grad.mean(dim=(2, 3), keepdim=True)  # (1, C_l, 1, 1)
    cam = F.relu((weights * activation.detach()).sum(dim=1, keepdim=True))  # (1, 1, H_l, W_l)
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    return cam / cam.max() if cam.max() > 0 else cam  # (H, W)


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
