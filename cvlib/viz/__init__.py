"""Pictures of what the rest of cvlib computes (matplotlib).

Every function returns a :class:`matplotlib.figure.Figure` (the animation returns a
``FuncAnimation``) and never calls ``plt.show()``. Figures are closed in pyplot before they are
returned, so a notebook shows each one exactly once: end the cell with the call (or with the
variable holding the figure), or save it with ``fig.savefig(...)``.

viz draws what others computed (:mod:`cvlib.probes` computes feature maps, saliency and Grad-CAM;
:mod:`cvlib.train` and :mod:`cvlib.experiments` the measurements):

- images: :func:`show_images`, :func:`draw_boxes`, :func:`overlay_mask`;
- the network's insides: :func:`show_filters`, :func:`show_feature_maps`;
- training: :func:`plot_history`, :func:`plot_confusion`, :func:`plot_seed_results`;
- attribution: :func:`overlay_heatmap`;
- the convolution itself: :func:`conv_animation`, :func:`conv_animation_html`;
- small arrays with their values: :func:`show_matrix`, :func:`show_matrices`.
"""

from .animation import conv_animation, conv_animation_html
from .attribution import overlay_heatmap
from .filters import show_feature_maps, show_filters
from .history import plot_confusion, plot_history, plot_seed_results
from .images import draw_boxes, overlay_mask, show_images
from .matrices import show_matrices, show_matrix

__all__ = [
    "conv_animation",
    "conv_animation_html",
    "draw_boxes",
    "overlay_heatmap",
    "overlay_mask",
    "plot_confusion",
    "plot_history",
    "plot_seed_results",
    "show_feature_maps",
    "show_filters",
    "show_images",
    "show_matrices",
    "show_matrix",
]
