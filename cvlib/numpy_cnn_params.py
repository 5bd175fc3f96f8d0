"""The capstone CNN's parameters: their containers and the starting weights.

Kept apart from :mod:`cvlib.numpy_cnn` (the network's forward and backward passes, built on
cvlib's reference layers) because assignment 6 hands exactly these to the student: a student's
network starts from :func:`init_params`, while the grader's box keeps the reference layers out
of the answers' reach (:mod:`cvlib.grading.registry`).
"""

from typing import NamedTuple

import numpy as np

__all__ = ["Params", "Stats", "init_params"]


class Params(NamedTuple):
    """The network's learned arrays (``C`` input channels; ``S = (H // 4) * (W // 4)`` pixels in
    the last feature map, which the dense layer reads flattened)."""

    conv1_weight: np.ndarray  # (C1, C, 3, 3)
    bn1_weight: np.ndarray  # (C1,)
    bn1_bias: np.ndarray  # (C1,)
    conv2_weight: np.ndarray  # (C2, C1, 3, 3)
    bn2_weight: np.ndarray  # (C2,)
    bn2_bias: np.ndarray  # (C2,)
    fc_weight: np.ndarray  # (K, C2 * S)
    fc_bias: np.ndarray  # (K,)


class Stats(NamedTuple):
    """Batch norm's running estimates of each channel's mean and variance (PyTorch's
    ``running_mean`` and ``running_var`` buffers), which normalise in evaluation mode.

    The short field names are assignment 6's: its notebook reads ``stats.bn1_mean``, and the
    grader's box rebuilds a ``Stats`` from its field names alone, so they stay as they are.
    """

    bn1_mean: np.ndarray  # (C1,), running estimate of block 1's batch means
    bn1_var: np.ndarray  # (C1,), running estimate of block 1's batch variances
    bn2_mean: np.ndarray  # (C2,), the same for block 2
    bn2_var: np.ndarray  # (C2,)


def init_params(in_channels=1, num_classes=10, channels=(10, 20), seed=0, size=14):
    """Random parameters (He initialisation, as ``nn.init.kaiming_normal_``) and fresh stats.

    Convolution and dense weights are normal with variance ``2 / fan_in`` (``1 / fan_in`` for the
    last layer, which no ReLU follows); batch norm starts as the identity (``weight`` 1,
    ``bias`` 0, running mean 0 and variance 1, as PyTorch); the dense bias starts at 0.

    Parameters
    ----------
    in_channels, num_classes : int
        ``C`` and ``K``.
    channels : pair of int, default (10, 20)
        ``C1, C2``, the two blocks' filter counts.
    seed : int
        Seed of ``numpy.random.default_rng``.
    size : int or pair of int, default 14
        The images' height and width ``H, W`` (one int: square images), at least 4: each block
        halves them (rounding down), and the dense layer reads the ``C2 * (H // 4) * (W // 4)``
        values of the last feature map. The default is assignment 6's 14x14 Fashion-MNIST.

    Returns
    -------
    params : Params, float64
    stats : Stats, float64

    Shape
    -----
    conv1_weight (C1, C, 3, 3), bn1_* (C1,), conv2_weight (C2, C1, 3, 3), bn2_* (C2,),
    fc_weight (K, C2 * (H // 4) * (W // 4)), fc_bias (K,); stats (C1,) and (C2,)

    Examples
    --------
    >>> params, stats = init_params()
    >>> params.conv2_weight.shape, params.fc_weight.shape, stats.bn2_var.shape
    ((20, 10, 3, 3), (10, 180), (20,))
    >>> init_params(channels=(3, 4), size=8)[0].fc_weight.shape  # a 2x2 last map
    (10, 16)
    """
    c1, c2 = _check_sizes(in_channels, num_classes, channels)
    features = c2 * _pixels_after_pooling(size)
    rng = np.random.default_rng(seed)
    params = Params(
        conv1_weight=rng.normal(0, np.sqrt(2 / (9 * in_channels)), (c1, in_channels, 3, 3)),
        bn1_weight=np.ones(c1),
        bn1_bias=np.zeros(c1),
        conv2_weight=rng.normal(0, np.sqrt(2 / (9 * c1)), (c2, c1, 3, 3)),
        bn2_weight=np.ones(c2),
        bn2_bias=np.zeros(c2),
        fc_weight=rng.normal(0, np.sqrt(1 / features), (num_classes, features)),
        fc_bias=np.zeros(num_classes),
    )
    return params, Stats(np.zeros(c1), np.ones(c1), np.zeros(c2), np.ones(c2))


def _check_sizes(in_channels, num_classes, channels):
    for name, value in (("in_channels", in_channels), ("num_classes", num_classes)):
        if not _is_positive_int(value):
            raise ValueError(f"`{name}` must be a positive int, got {value!r}")
    if not isinstance(channels, tuple | list) or len(channels) != 2:
        raise ValueError(f"`channels` must be a pair of filter counts, got {channels!r}")
    if not all(_is_positive_int(c) for c in channels):
        raise ValueError(f"`channels` must be positive ints, got {channels!r}")
    return int(channels[0]), int(channels[1])


def _pixels_after_pooling(size):
    """``(H // 4) * (W // 4)``, the pixels of the last feature map for images of ``size``."""
    pair = size if isinstance(size, tuple | list) else (size,) * 2
    if len(pair) != 2 or not all(_is_positive_int(v) and v >= 4 for v in pair):
        raise ValueError(f"`size` must be an int or a pair of ints, each at least 4, got {size!r}")
    return (int(pair[0]) // 4) * (int(pair[1]) // 4)


def _is_positive_int(value):
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and value > 0
