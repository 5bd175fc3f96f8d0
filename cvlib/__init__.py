"""cvlib: the shared library of the course *Convolutional Neural Networks for Computer Vision*.

Data flows one way, from arrays to models to experiments to pictures. Each layer is a place in
the folder tree, and a module imports only its own layer or lower ones
(``tests/test_architecture.py`` checks it):

0. the numpy core, what students rewrite, at the top level: :mod:`cvlib.conv`,
   :mod:`cvlib.pool`, :mod:`cvlib.layers`, :mod:`cvlib.batchnorm`, :mod:`cvlib.optim`,
   :mod:`cvlib.gradcheck`, :mod:`cvlib.kernels`, :mod:`cvlib.tiny_cnn`, and assignment 6's
   :mod:`cvlib.numpy_cnn` with :mod:`cvlib.numpy_training` (numpy only);
1. the base of the PyTorch side: :mod:`cvlib.nn` (the numpy core inside autograd, shared blocks),
   :mod:`cvlib.models` (every network, with the shipped weights), :mod:`cvlib.data`;
2. tasks: :mod:`cvlib.train` (the training loops, transfer learning), :mod:`cvlib.augment`,
   :mod:`cvlib.detection`, :mod:`cvlib.segmentation`, :mod:`cvlib.probes` (the model summary
   :func:`cvlib.summary`, gradient statistics, feature maps, saliency, Grad-CAM);
3. :mod:`cvlib.experiments` (one module per measurement the book reports) and :mod:`cvlib.bench`;
4. :mod:`cvlib.viz` (pictures), :mod:`cvlib.grading` (the assignments' checks),
   :mod:`cvlib.tools` (repository tooling: :mod:`cvlib.tools.grading` for grading a class,
   :mod:`cvlib.tools.book` for the site and its notebooks).

Submodules are imported on first use, so ``import cvlib`` stays light (no torch) and
``cvlib.conv.conv2d`` works without an explicit ``import cvlib.conv``.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = {
    "conv",
    "pool",
    "layers",
    "gradcheck",
    "kernels",
    "tiny_cnn",
    "batchnorm",
    "optim",
    "numpy_cnn",
    "numpy_training",
    "nn",
    "models",
    "data",
    "train",
    "augment",
    "detection",
    "segmentation",
    "probes",
    "experiments",
    "bench",
    "viz",
    "grading",
    "tools",
}


def summary(model, input_size, **kwargs):
    """Layer-by-layer table of a PyTorch model; see :func:`cvlib.probes.summary`."""
    from .probes.summary import summary as _summary

    return _summary(model, input_size, **kwargs)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'cvlib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES)
