"""What a layer of a network computes: its feature maps for one image, or the vector the
classifier reads for many (forward hooks)."""

import numpy as np
import torch
from torch import nn

from cvlib.train import eval_mode

__all__ = ["as_batch", "batched_capture", "feature_maps", "find_layer", "penultimate_features"]


def find_layer(model, layer):
    modules = dict(model.named_modules())
    if layer not in modules:
        names = [name for name in modules if name]
        raise ValueError(f"`layer` {layer!r} is not a module of the model; choose from {names}")
    return modules[layer]


def as_batch(image):
    x = image if isinstance(image, torch.Tensor) else torch.as_tensor(np.asarray(image))
    x = x.float()
    if x.ndim == 2:
        x = x[None]  # (1, H, W)
    if x.ndim == 3:
        x = x[None]  # (1, C, H, W)
    if x.ndim != 4 or x.shape[0] != 1:
        shape = tuple(x.shape)
        raise ValueError(f"`image` must be one image (C, H, W) or (1, C, H, W), got {shape}")
    return x


def feature_maps(model, image, layer):
    """Output of the module named ``layer`` when ``model`` runs on one image (a forward hook).

    Parameters
    ----------
    model : nn.Module
    image : Tensor, shape (C, H, W) or (1, C, H, W)
    layer : str
        A name from ``model.named_modules()``, e.g. ``"features.0"``.

    Returns
    -------
    Tensor, shape (C_layer, H_layer, W_layer)

    Examples
    --------
    >>> model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU())
    >>> feature_maps(model, torch.zeros(1, 8, 8), "1").shape
    torch.Size([4, 6, 6])
    """
    module = find_layer(model, layer)
    captured = []
    handle = module.register_forward_hook(lambda m, inputs, output: captured.append(output))
    try:
        with eval_mode(model), torch.no_grad():
            model(as_batch(image))
    finally:
        handle.remove()
    out = captured[0]
    if not isinstance(out, torch.Tensor) or out.ndim != 4:
        raise ValueError(f"`layer` {layer!r} must output a (1, C, H, W) tensor")
    return out[0]  # (C_layer, H_layer, W_layer)


def penultimate_features(model, images, layer=None, batch_size=256):
    """What the classifier reads: the input of the model's last ``nn.Linear`` (or of ``layer``).

    The vector a network hands its final layer is its learnt description of the image; a
    classifier is linear in it, so images of one class should sit together (the transfer chapter
    reuses these vectors, the last chapter maps them with t-SNE).

    Parameters
    ----------
    model : nn.Module
    images : Tensor, shape (N, C, H, W)
    layer : str, optional
        A module whose *input* is wanted (default: the last ``nn.Linear``).
    batch_size : int

    Returns
    -------
    Tensor, shape (N, D)
        One row per image, flattened.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    >>> penultimate_features(net, torch.zeros(3, 1, 8, 8)).shape
    torch.Size([3, 144])
    """
    if layer is None:
        linear = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
        if not linear:
            raise ValueError("`model` has no nn.Linear layer; name the `layer` to read")
        layer = linear[-1]
    captured = batched_capture(model, images, layer, lambda i, o: i[0].flatten(1), batch_size)
    return torch.cat(captured)  # (N, D)


def batched_capture(model, images, layer, grab, batch_size=256):
    """Run ``model`` (eval mode, no gradients) over ``images`` in batches and return the list of
    ``grab(inputs, output)`` of the module named ``layer``, one entry per batch."""
    module = find_layer(model, layer)
    captured = []
    handle = module.register_forward_hook(lambda m, i, o: captured.append(grab(i, o)))
    try:
        with eval_mode(model), torch.no_grad():
            for first in range(0, len(images), batch_size):
                model(images[first : first + batch_size].float())
    finally:
        handle.remove()
    return captured
