"""A stand-in for ``myst_nb.glue`` where myst-nb is not installed (Colab, Kaggle, a plain Python).

The chapters hand numbers to the website's text with ``from myst_nb import glue`` and
``glue(name, value, display=False)``. myst-nb builds the website and is not part of a hosted
runtime; the downloadable notebooks (whose text already carries the numbers) call
:func:`install` in their setup cell, so that the import works and ``glue`` behaves as it does in
Jupyter: it shows ``value`` when ``display`` is true, and nothing otherwise.

>>> import sys
>>> saved = sys.modules.pop("myst_nb", None)
>>> install(force=True)
>>> from myst_nb import glue
>>> glue("answer", 42, display=False)  # shows nothing, like myst_nb.glue(..., display=False)
>>> _ = sys.modules.pop("myst_nb")
>>> if saved is not None:
...     sys.modules["myst_nb"] = saved
"""

from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any

__all__ = ["glue", "install"]


def glue(name: str, variable: Any, display: bool = True) -> None:
    """Show ``variable`` like ``myst_nb.glue`` does in Jupyter (``name`` only labels it there)."""
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a str, got {type(name).__name__}")
    if display:
        from IPython.display import display as show

        show(variable)


def install(force: bool = False) -> None:
    """Make ``import myst_nb`` give this stand-in, unless myst-nb is installed (or ``force``)."""
    if not force and ("myst_nb" in sys.modules or importlib.util.find_spec("myst_nb")):
        return
    module = types.ModuleType("myst_nb", doc="cvlib's stand-in for myst_nb.glue (no website here)")
    module.glue = glue
    sys.modules["myst_nb"] = module
