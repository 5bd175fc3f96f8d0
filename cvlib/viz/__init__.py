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
- small arrays with their values: :func:`show_matrix`, :func:`show_matrices`;
- diagrams of the ideas, drawn from the numbers of the code they explain:
  :func:`conv_volume_diagram`, :func:`receptive_field_diagram`, :func:`im2col_diagram`
  (:mod:`~cvlib.viz.diagrams_conv`); :func:`inception_diagram`, :func:`block_diagram`,
  :func:`norm_axes_diagram` (:mod:`~cvlib.viz.diagrams_blocks`); :func:`fcn_diagram`,
  :func:`rcnn_diagram`, :func:`roi_pool_diagram`, :func:`captioning_diagram`
  (:mod:`~cvlib.viz.diagrams_tasks`); :func:`computational_graph_diagram`
  (:mod:`~cvlib.viz.diagrams_graph`); :func:`plot_embedding` (a 2-D map of feature vectors).
"""

from .animation import conv_animation, conv_animation_html
from .attribution import overlay_heatmap
from .diagrams_blocks import block_diagram, inception_diagram, norm_axes_diagram
from .diagrams_conv import conv_volume_diagram, im2col_diagram, receptive_field_diagram
from .diagrams_graph import computational_graph_diagram
from .diagrams_tasks import captioning_diagram, fcn_diagram, rcnn_diagram, roi_pool_diagram
from .filters import show_feature_maps, show_filters
from .history import plot_confusion, plot_embedding, plot_history, plot_seed_results
from .images import draw_boxes, overlay_mask, show_images
from .matrices import show_matrices, show_matrix

__all__ = [
    "block_diagram",
    "captioning_diagram",
    "computational_graph_diagram",
    "conv_animation",
    "conv_animation_html",
    "conv_volume_diagram",
    "draw_boxes",
    "fcn_diagram",
    "im2col_diagram",
    "inception_diagram",
    "norm_axes_diagram",
    "overlay_heatmap",
    "overlay_mask",
    "plot_confusion",
    "plot_embedding",
    "plot_history",
    "plot_seed_results",
    "rcnn_diagram",
    "receptive_field_diagram",
    "roi_pool_diagram",
    "show_feature_maps",
    "show_filters",
    "show_images",
    "show_matrices",
    "show_matrix",
]
