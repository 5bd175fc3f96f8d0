"""The notebooks students download or open on Colab and Kaggle: one per chapter and assignment.

The website's chapters are MyST Markdown (``book/*.md``), which Colab cannot open, and the
assignments (``assignments/*/*.ipynb``) need the course library. The site build
(:mod:`cvlib.tools.book.site_notebooks`) therefore writes an ``.ipynb`` of every page that is a
notebook, made here:

- :func:`chapter_notebook`: the chapter's cells (read with jupytext), its Markdown rewritten for
  Jupyter (:mod:`cvlib.tools.book.myst_markdown`: glued numbers, links and figure numbers become the
  text the website shows), each figure's caption under its cell;
- :func:`assignment_notebook`: the nbgrader release notebook with every cell unchanged (nbgrader
  recognises its cells by id and checksum), and a closing note on what a full submission needs
  when there is no *Validate* button;
- both start with :func:`setup_cell`, which installs the course library where ``import cvlib``
  fails, from the repository at the commit the site was built from
  (:func:`install_requirement`), and does nothing where it is installed. The environment
  variable ``CVLIB_INSTALL`` replaces what it installs (any pip requirement: a local path, a
  mirror).

Examples
--------
>>> install_requirement("https://github.com/cnn-course/cnn-course", "0a1b2c3")
'cnn-course-cvlib @ https://github.com/cnn-course/cnn-course/archive/0a1b2c3.tar.gz'
>>> cell = setup_cell("cnn-course-cvlib @ https://example.org/cvlib.tar.gz")
>>> cell.id, "CVLIB_INSTALL" in cell.source, is_setup_cell(cell)
('cvlib-setup', True, True)
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import nbformat
from nbformat import NotebookNode

from cvlib.tools.book.myst_markdown import to_jupyter_markdown

__all__ = [
    "DISTRIBUTION",
    "INSTALL_ENV",
    "SETUP_CELL_ID",
    "assignment_notebook",
    "chapter_notebook",
    "install_requirement",
    "is_setup_cell",
    "setup_cell",
]

DISTRIBUTION = "cnn-course-cvlib"  # pyproject.toml's project.name; the import name is cvlib
INSTALL_ENV = "CVLIB_INSTALL"
SETUP_CELL_ID = "cvlib-setup"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}

SETUP_CODE = """\
# Set-up: run this cell first. Where the course library cvlib is missing (Colab, Kaggle, a fresh
# Python) it installs it from the course repository, at the version this notebook was made from;
# where cvlib is installed (a checkout, Binder, a JupyterHub) it does nothing. To install it
# from elsewhere (a mirror, a local copy), set the environment variable {env} to a pip
# requirement (a folder, e.g. a checkout, is left as it was).
import importlib
import os
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

try:
    import cvlib
except ImportError:
    requirement = os.environ.get("{env}") or {requirement}
    print("Installing the course library:", requirement)
    folder = requirement if os.path.isdir(requirement) else None
    before = set(os.listdir(folder)) if folder else set()
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", requirement], check=True)
    if folder:  # pip builds a folder in place: remove what the build left there
        for name in set(os.listdir(folder)) - before:
            if name == "build" or name.endswith(".egg-info"):
                shutil.rmtree(os.path.join(folder, name))
    importlib.invalidate_caches()
    import cvlib
try:
    version("{distribution}")
except PackageNotFoundError:
    raise ImportError(
        f"{{cvlib.__file__}} is not the course library ({distribution}). If it is the unrelated "
        "PyPI project `cvlib`, run `pip uninstall -y cvlib` and then this cell again."
    ) from None
"""

GLUE_CODE = """
# The chapter hands numbers to the website's text with myst_nb.glue; here the text has them
# already, and glue(...) shows its value (or nothing, with display=False) as it does in Jupyter.
from cvlib.tools.book import myst_nb_stand_in

myst_nb_stand_in.install()
"""


def install_requirement(repository_url: str, ref: str) -> str:
    """The pip requirement that installs the course library from ``repository_url`` at ``ref``.

    A GitHub repository is installed from its archive of that commit (no git needed, no
    history downloaded); any other host through ``git+URL@ref``.

    Raises
    ------
    ValueError
        If ``repository_url`` is not an http(s) URL or ``ref`` is empty or contains spaces.
    """
    if not isinstance(repository_url, str) or urlsplit(repository_url).scheme not in (
        "http",
        "https",
    ):
        raise ValueError(f"`repository_url` must be an http(s) URL, got {repository_url!r}")
    if not isinstance(ref, str) or not re.fullmatch(r"[\w./-]+", ref):
        raise ValueError(f"`ref` must be a commit, tag or branch name, got {ref!r}")
    url = repository_url.rstrip("/").removesuffix(".git")
    if urlsplit(url).netloc == "github.com":
        return f"{DISTRIBUTION} @ {url}/archive/{ref}.tar.gz"
    return f"{DISTRIBUTION} @ git+{url}.git@{ref}"


def setup_cell(requirement: str, stand_in_glue: bool = False) -> NotebookNode:
    """The first cell of every generated notebook (see the module docstring).

    Parameters
    ----------
    requirement : str
        What pip installs where ``import cvlib`` fails and ``CVLIB_INSTALL`` is unset.
    stand_in_glue : bool
        Also make ``from myst_nb import glue`` work without myst-nb (the chapters use it).
    """
    if not isinstance(requirement, str) or not requirement.strip():
        raise ValueError(f"`requirement` must be a non-empty pip requirement, got {requirement!r}")
    quoted = json.dumps(requirement)  # a Python string literal in double quotes
    source = SETUP_CODE.format(env=INSTALL_ENV, requirement=quoted, distribution=DISTRIBUTION)
    cell = nbformat.v4.new_code_cell(source + (GLUE_CODE if stand_in_glue else ""))
    cell.id = SETUP_CELL_ID
    cell.metadata["tags"] = [SETUP_CELL_ID]
    return cell


def is_setup_cell(cell) -> bool:
    """True for a cell made by :func:`setup_cell`."""
    return cell.get("cell_type") == "code" and cell.get("id") == SETUP_CELL_ID


def chapter_notebook(
    source: NotebookNode, requirement: str, resolve: Callable[[str, str], str] | None
) -> NotebookNode:
    """The downloadable notebook of a chapter read by jupytext from its MyST Markdown.

    Parameters
    ----------
    source : NotebookNode
        The chapter as ``jupytext.read`` gives it.
    requirement : str
        See :func:`setup_cell`.
    resolve : callable ``(role, content) -> str``, or None
        What the website shows for a MyST role (see :func:`~cvlib.tools.book.myst_markdown.
        to_jupyter_markdown`); ``("numref", name)`` also numbers the figure captions.

    Raises
    ------
    ValueError
        From the Markdown conversion, for MyST syntax it cannot turn into Jupyter Markdown.
    """
    _check_notebook(source, "source")
    code = [cell.source for cell in source.cells if cell.cell_type == "code"]
    stand_in_glue = any("myst_nb" in text for text in code)
    cells = [setup_cell(requirement, stand_in_glue)]
    for cell in source.cells:
        if cell.cell_type == "markdown":
            text = to_jupyter_markdown(cell.source, resolve)
            if text:
                cells.append(nbformat.v4.new_markdown_cell(text))
        elif cell.cell_type == "code":
            cells.append(nbformat.v4.new_code_cell(cell.source, metadata=dict(cell.metadata)))
            caption = _figure_caption(cell, resolve)
            if caption:
                cells.append(nbformat.v4.new_markdown_cell(caption))
        else:
            cells.append(copy.deepcopy(cell))
    for index, cell in enumerate(cells[1:], start=1):
        cell.id = f"cell-{index}"  # deterministic: a rebuild changes only what changed
    return _notebook(cells)


def assignment_notebook(release: NotebookNode, requirement: str, filename: str) -> NotebookNode:
    """The downloadable copy of an nbgrader release notebook: set-up cell + cells + how to hand in.

    Every cell of ``release`` is kept as it is, metadata, ids and outputs included, so that the
    copy can be handed in to nbgrader like the release itself.

    Parameters
    ----------
    release : NotebookNode
        The student version, ``assignments/<name>/<name>.ipynb``.
    requirement : str
        See :func:`setup_cell`.
    filename : str
        The notebook's file name, which the submission must keep.
    """
    _check_notebook(release, "release")
    if not isinstance(filename, str) or not filename.endswith(".ipynb"):
        raise ValueError(f"`filename` must be the notebook's .ipynb file name, got {filename!r}")
    note = nbformat.v4.new_markdown_cell(submission_note(release, filename))
    note.id = "cvlib-submission"
    cells = [setup_cell(requirement), *copy.deepcopy(release.cells), note]
    return _notebook(cells, metadata=release.metadata)


def submission_note(release: NotebookNode, filename: str) -> str:
    """What a full submission needs, counted from the nbgrader metadata of ``release``."""
    answers, tests, manual, points = [], 0, 0, 0.0
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            names = re.findall(r"^(?:def|class) (\w+)", cell.source, re.M)
            answers += names or [meta.get("grade_id", "?")]
        tests += bool(meta.get("grade") and not meta.get("solution") and cell.cell_type == "code")
        manual += bool(meta.get("task") or (meta.get("grade") and cell.cell_type == "markdown"))
        points += float(meta.get("points", 0) or 0)
    listed = ", ".join(f"`{name}`" for name in answers)
    lines = [
        "**Handing in without nbgrader** (Colab, Kaggle, a laptop: no *Validate* button). "
        "A full submission",
        "",
        f"- fills in every answer ({listed}: each `# YOUR CODE HERE`, with the "
        "`raise NotImplementedError()` removed);",
        "- runs from top to bottom without an error after *Restart and run all* "
        "(*Runtime → Restart and run all* on Colab), as the grader runs it;",
        f"- passes the {tests} visible test cells: each prints a line saying its visible tests "
        "pass. The grader runs them again with hidden tests added, so passing the visible tests "
        "is needed but does not guarantee every point.",
    ]
    if manual:
        lines.append(f"- answers the {manual} questions graded by hand.")
    lines += [
        "",
        f"The assignment is worth {points:g} points. Hand in this notebook as `{filename}` "
        "(on Colab: *File → Download → Download .ipynb*), the way your instructor asks; keep its "
        "cells (nbgrader recognises the graded ones by their ids). The set-up cell at the top "
        "does nothing where the course library is installed, so it can stay.",
    ]
    return "\n".join(lines)


def _figure_caption(cell, resolve) -> str:
    """The Markdown caption of a code cell that makes a numbered figure, or ``""``."""
    figure = cell.metadata.get("mystnb", {}).get("figure", {})
    caption = " ".join(str(figure.get("caption", "")).split())
    if not caption:
        return ""
    caption = to_jupyter_markdown(caption, resolve)
    name = figure.get("name")
    label = resolve("numref", name) if name and resolve is not None else "Figure"
    return f"*{label}. {caption}*"


def _notebook(cells, metadata=None) -> NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = copy.deepcopy(dict(metadata or {}))
    nb.metadata.pop("jupytext", None)  # a plain .ipynb, not paired with a text file
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata.setdefault("language_info", {"name": "python"})
    nbformat.validate(nb)
    return nb


def _check_notebook(nb, name: str) -> None:
    if not isinstance(nb, dict) or "cells" not in nb:
        raise TypeError(f"`{name}` must be a notebook (nbformat.NotebookNode), got {type(nb)}")
