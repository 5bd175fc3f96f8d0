"""The sanity check of Adebayo et al. (2018): does an explanation depend on what was learnt?

An attribution map that looks the same for a trained network and for one whose weights are
random explains the image (its edges), not the network. The **cascading randomisation** test
re-draws the weights layer by layer, from the output down to the input, and after each step
compares the new map of every image with the trained network's map: with the Spearman rank
correlation of the absolute values (1: the same ranking of pixels) and the structural
similarity (SSIM) of the maps scaled to [0, 1]. A method that passes loses the resemblance as
soon as the top layers are random.

J. Adebayo, J. Gilmer, M. Muelly, I. Goodfellow, M. Hardt, B. Kim, "Sanity checks for saliency
maps", NeurIPS 2018, Sec. 3.
"""

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cvlib.train import eval_mode

__all__ = ["SanityCheck", "cascading_randomisation", "map_similarity"]

_LAYERS = (nn.Conv2d, nn.Linear)


def map_similarity(a, b):
    """``(Spearman rank correlation of |a| and |b|, SSIM of both scaled to [0, 1])``.

    Examples
    --------
    >>> a = torch.arange(64.0).reshape(8, 8)
    >>> [round(v, 6) for v in map_similarity(a, 2 * a + 1)]  # same ranking, same scaled map
    [1.0, 1.0]
    """
    a = np.abs(np.asarray(a, dtype=np.float64))
    b = np.abs(np.asarray(b, dtype=np.float64))
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"the maps must be 2-D and of one shape, got {a.shape} and {b.shape}")
    from scipy.stats import spearmanr  # here: importing scipy.stats costs about a second

    rho = spearmanr(a.ravel(), b.ravel()).statistic if a.std() and b.std() else 0.0

    def unit(m):
        return (m - m.min()) / (m.max() - m.min()) if m.max() > m.min() else np.zeros_like(m)

    from skimage.metrics import structural_similarity  # (here: it loads scipy.ndimage, 0.2 s)

    ssim = structural_similarity(unit(a), unit(b), data_range=1.0, win_size=min(7, *a.shape) | 1)
    return float(rho), float(ssim)


@dataclass
class SanityCheck:
    """Result of :func:`cascading_randomisation`.

    ``layers[0]`` is ``"trained"``; ``layers[i]`` names the layer randomised at step ``i``
    (with every layer above it). ``maps`` is ``(steps, N, H, W)``; ``spearman`` and ``ssim``
    are ``(steps, N)``: each image's map at each step against its trained map.
    """

    layers: list
    maps: torch.Tensor
    spearman: np.ndarray
    ssim: np.ndarray


def cascading_randomisation(model, images, explain, layers=None, seed=0):
    """Explain ``images`` while the layers of a copy of ``model`` are randomised from the top.

    Parameters
    ----------
    model : nn.Module
        Left unchanged: a deep copy is randomised.
    images : Tensor, shape (N, C, H, W)
    explain : callable
        ``explain(model, image, target) -> (H, W)`` map, e.g. :func:`cvlib.probes.saliency`.
        ``target`` is the class the trained model predicts, kept through the test.
    layers : list of str, optional
        Names to randomise, in this order (default: every Conv2d and Linear, output first).
        Each is re-drawn with its own ``reset_parameters()`` (its initialisation).
    seed : int

    Returns
    -------
    SanityCheck

    Examples
    --------
    >>> from cvlib.probes import saliency
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(576, 3))
    >>> check = cascading_randomisation(net, torch.rand(2, 1, 14, 14), saliency)
    >>> check.layers, check.maps.shape, check.spearman[0].round(6).tolist()
    (['trained', '3', '0'], torch.Size([3, 2, 14, 14]), [1.0, 1.0])
    """
    named = dict(model.named_modules())
    if layers is None:
        layers = [name for name, m in reversed(named.items()) if isinstance(m, _LAYERS)]
    unknown = [
        name for name in layers if name not in named or not hasattr(named[name], "reset_parameters")
    ]
    if unknown:
        raise ValueError(f"`layers` {unknown} are not layers with parameters of the model")
    with eval_mode(model), torch.no_grad():
        targets = model(images.float()).argmax(dim=1).tolist()  # (N,)
    copy_ = copy.deepcopy(model)
    modules = dict(copy_.named_modules())
    torch.manual_seed(seed)
    steps = [[explain(copy_, image, t).detach() for image, t in zip(images, targets, strict=True)]]
    for name in layers:
        modules[name].reset_parameters()
        steps.append(
            [explain(copy_, image, t).detach() for image, t in zip(images, targets, strict=True)]
        )
    maps = torch.stack([torch.stack(step) for step in steps])  # (steps, N, H, W)
    scores = np.array(
        [[map_similarity(m0, m) for m0, m in zip(maps[0], step, strict=True)] for step in maps]
    )
    return SanityCheck(["trained", *layers], maps, scores[..., 0], scores[..., 1])
