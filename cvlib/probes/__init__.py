"""Looking inside a network: its layer table, per-layer statistics, feature maps, attribution.

- :mod:`~cvlib.probes.summary`: :func:`summary`, the layer-by-layer table (``cvlib.summary``);
- :mod:`~cvlib.probes.statistics`: :func:`gradient_norms`, :func:`activation_stats`,
  :func:`first_layer_grad_norm`;
- :mod:`~cvlib.probes.features`: :func:`feature_maps` of a named layer;
- :mod:`~cvlib.probes.attribution`: :func:`saliency`, :func:`grad_cam`.

Probes compute; :mod:`cvlib.viz` draws what they return.
"""

from .attribution import grad_cam, saliency
from .features import feature_maps, find_layer
from .statistics import activation_stats, first_layer_grad_norm, gradient_norms
from .summary import Summary, summary

__all__ = [
    "Summary",
    "activation_stats",
    "feature_maps",
    "find_layer",
    "first_layer_grad_norm",
    "grad_cam",
    "gradient_norms",
    "saliency",
    "summary",
]
