"""What a layer of a network computes for one image: its feature maps (a forward hook)."""

import numpy as np
import torch
from torch import nn  # noqa: F401 (the doctest uses it)

from cvlib.train import eval_mode

__all__ = ["as_batch", "feature_maps", "find_layer"]


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
