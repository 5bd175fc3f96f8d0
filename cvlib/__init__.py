"""cvlib: the shared library of the course *Convolutional Neural Networks for Computer Vision*.

Data flows one way, from arrays to models to experiments to pictures:

- numpy core, what students rewrite: :mod:`cvlib.conv`, :mod:`cvlib.pool`, :mod:`cvlib.layers`,
  :mod:`cvlib.gradcheck`, :mod:`cvlib.kernels` (imports numpy only);
- the PyTorch side: :mod:`cvlib.nn` (the numpy core inside autograd), :mod:`cvlib.models`,
  :func:`cvlib.summary`, :mod:`cvlib.data`;
- experiments: :mod:`cvlib.train`, :mod:`cvlib.augment`, :mod:`cvlib.transfer`,
  :mod:`cvlib.detection`, :mod:`cvlib.segmentation`;
- pictures and grading: :mod:`cvlib.viz`, :mod:`cvlib.grading`.

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
    "nn",
    "models",
    "data",
    "train",
    "augment",
    "transfer",
    "pretrain",
    "experiments",
    "detection",
    "segmentation",
    "viz",
    "grading",
    "bench",
    "tools",
    "depth",
    "shapes_classifier",
}


def summary(model, input_size, **kwargs):
    """Layer-by-layer table of a PyTorch model; see :func:`cvlib.modelsummary.summary`."""
    from .modelsummary import summary as _summary

    return _summary(model, input_size, **kwargs)


def __getattr__(name):
    if name in _SUBMODULES or name == "modelsummary":
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'cvlib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES)
