"""Feature visualisation by optimisation: the input that excites a unit most.

Top-activating patches (:mod:`cvlib.probes.patches`) show what a unit responds to among the
images at hand. Optimisation asks the network itself: start from faint noise and climb the
gradient of the unit's activation with respect to the pixels (Erhan et al., 2009; Simonyan et
al., 2014; Olah et al., 2017). Unconstrained, the climb finds high-frequency patterns that no
photograph contains, so three regularisers keep the image plausible:

- an **L2 penalty** ``l2 * ||x||^2`` on the pixels, which keeps them bounded;
- **jitter**: each step sees the image rolled by a random offset of up to ``jitter`` pixels, so
  the pattern must work wherever it lands rather than exploit one pixel grid;
- **blur**: every ``blur_every`` steps the image is smoothed by a 3 x 3 binomial filter, which
  removes the finest checkerboard noise.

Each step climbs ``activation - l2 * ||x||^2`` by Adam on the pixels (:func:`cvlib.train.ascend`);
the network's weights are not touched.
"""

import torch
import torch.nn.functional as F

from cvlib.train import ascend, eval_mode

from .features import find_layer

__all__ = ["maximise_unit"]

_BLUR = torch.tensor([1.0, 2.0, 1.0]) / 4


def _blur(x):
    """3 x 3 binomial blur of each channel of ``x`` (1, C, H, W), reflecting at the border."""
    channels = x.shape[1]
    kernel = torch.outer(_BLUR, _BLUR).expand(channels, 1, 3, 3).to(x.dtype)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), kernel, groups=channels)


def _objective(output, channel, position):
    """The unit's activation: one position of the channel's map, or the map's mean."""
    maps = output[0, channel]  # (H_l, W_l)
    if position is None:
        return maps.mean()
    y, x = position
    if not (0 <= y < maps.shape[0] and 0 <= x < maps.shape[1]):
        raise ValueError(f"`position` {position} is outside the layer's {tuple(maps.shape)} map")
    return maps[y, x]


def maximise_unit(
    model,
    layer,
    channel,
    input_size,
    position=None,
    steps=200,
    lr=0.05,
    l2=1e-3,
    jitter=0,
    blur_every=0,
    seed=0,
):
    """An input that maximises one unit of ``layer``, found by regularised gradient ascent.

    Parameters
    ----------
    model : nn.Module
    layer : str
        A name from ``model.named_modules()``.
    channel : int
        The channel of that layer's output.
    input_size : tuple (C, H, W)
    position : (int, int), optional
        The unit at this position of the channel's map; by default the map's mean (the channel
        as a whole, wherever the pattern appears).
    steps : int
        Adam steps on the pixels, learning rate ``lr``.
    l2 : float
        Weight of the penalty ``||x||^2``.
    jitter : int
        Largest random roll, in pixels, applied before each step (0: none).
    blur_every : int
        Blur the image every this many steps (0: never).
    seed : int
        Seeds the starting noise (standard deviation 0.01) and the jitter.

    Returns
    -------
    image : Tensor, shape (C, H, W)
    trace : list of float
        The unit's activation at each step (on the jittered image).

    Examples
    --------
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
    >>> image, trace = maximise_unit(net, "0", 2, (3, 8, 8), steps=5)
    >>> image.shape, len(trace)
    (torch.Size([3, 8, 8]), 5)
    """
    module = find_layer(model, layer)
    if len(input_size) != 3:
        raise ValueError(f"`input_size` must be (C, H, W), got {input_size}")
    for name, value in (("steps", steps), ("jitter", jitter), ("blur_every", blur_every)):
        if not isinstance(value, int) or value < (name == "steps"):
            raise ValueError(f"`{name}` must be a non-negative integer (steps >= 1), got {value}")
    gen = torch.Generator().manual_seed(seed)
    x = 0.01 * torch.randn(1, *input_size, generator=gen)  # (1, C, H, W)
    captured, activations = [], []

    def objective(image):
        dy, dx = (
            torch.randint(-jitter, jitter + 1, (2,), generator=gen).tolist() if jitter else (0, 0)
        )
        captured.clear()
        model(torch.roll(image, (dy, dx), dims=(2, 3)))
        if not 0 <= channel < captured[0].shape[1]:
            raise ValueError(f"`channel` {channel} is not in 0..{captured[0].shape[1] - 1}")
        activation = _objective(captured[0], channel, position)
        activations.append(activation.item())
        return activation - l2 * image.pow(2).sum()

    def blur(step, image):
        if blur_every and (step + 1) % blur_every == 0:
            image.copy_(_blur(image))

    # a copy: an in-place ReLU after ``layer`` would otherwise clip what the hook captured
    handle = module.register_forward_hook(lambda m, inputs, output: captured.append(output.clone()))
    try:
        with eval_mode(model):
            ascend(x, objective, steps, lr, after_step=blur)
    finally:
        handle.remove()
    return x[0], activations
