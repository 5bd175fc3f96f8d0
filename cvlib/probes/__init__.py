"""Looking inside a network: its layer table, per-layer statistics, feature maps, attribution.

- :mod:`~cvlib.probes.summary`: :func:`summary`, the layer-by-layer table (``cvlib.summary``);
- :mod:`~cvlib.probes.statistics`: :func:`gradient_norms`, :func:`activation_stats`,
  :func:`first_layer_grad_norm`;
- :mod:`~cvlib.probes.features`: :func:`feature_maps` of a named layer,
  :func:`penultimate_features` (what the classifier reads; for t-SNE);
- :mod:`~cvlib.probes.attribution`: :func:`saliency`, :func:`grad_cam`;
- :mod:`~cvlib.probes.occlusion`: :func:`occlusion` sensitivity maps (Zeiler and Fergus);
- :mod:`~cvlib.probes.patches`: :func:`top_activating_patches` of a unit and its
  :func:`unit_window`;
- :mod:`~cvlib.probes.visualise`: :func:`maximise_unit`, feature visualisation by optimisation;
- :mod:`~cvlib.probes.sanity`: :func:`cascading_randomisation`, the sanity check of Adebayo et
  al.

Probes compute; :mod:`cvlib.viz` draws what they return.
"""

from .attribution import grad_cam, saliency
from .features import feature_maps, find_layer, penultimate_features
from .occlusion import occlusion
from .patches import UnitWindow, top_activating_patches, unit_window
from .sanity import SanityCheck, cascading_randomisation, map_similarity
from .statistics import activation_stats, first_layer_grad_norm, gradient_norms
from .summary import Summary, summary
from .visualise import maximise_unit

__all__ = [
    "SanityCheck",
    "Summary",
    "UnitWindow",
    "activation_stats",
    "cascading_randomisation",
    "feature_maps",
    "find_layer",
    "first_layer_grad_norm",
    "grad_cam",
    "gradient_norms",
    "map_similarity",
    "maximise_unit",
    "occlusion",
    "penultimate_features",
    "saliency",
    "summary",
    "top_activating_patches",
    "unit_window",
]
