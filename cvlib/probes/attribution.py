"""Where a CNN looks: vanilla-gradient saliency and Grad-CAM.

K. Simonyan, A. Vedaldi, A. Zisserman, "Deep inside convolutional networks", ICLR workshop 2014;
R. R. Selvaraju et al., "Grad-CAM: visual explanations from deep networks via gradient-based
localization", ICCV 2017. :func:`cvlib.viz.overlay_heatmap` draws the maps over the image.
"""

import torch
import torch.nn.functional as F

from cvlib.train import eval_mode

from .features import as_batch, find_layer

__all__ = ["grad_cam", "saliency"]


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
    x = as_batch(image).clone().requires_grad_(True)  # (1, C, H, W)
    with eval_mode(model):
        (grad,) = torch.autograd.grad(_score(model(x), target), x)
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
    module = find_layer(model, layer)
    captured = []
    handle = module.register_forward_hook(lambda m, inputs, output: captured.append(output))
    x = as_batch(image)  # (1, C, H, W)
    try:
        with eval_mode(model), torch.enable_grad():
            logits = model(x)
            activation = captured[0]
            if not isinstance(activation, torch.Tensor) or activation.ndim != 4:
                raise ValueError(f"`layer` {layer!r} must output a (1, C, H, W) tensor")
            (grad,) = torch.autograd.grad(_score(logits, target), activation)
    finally:
        handle.remove()
    weights = grad.mean(dim=(2, 3), keepdim=True)  # (1, C_l, 1, 1)
    cam = F.relu((weights * activation.detach()).sum(dim=1, keepdim=True))  # (1, 1, H_l, W_l)
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    return cam / cam.max() if cam.max() > 0 else cam  # (H, W)
