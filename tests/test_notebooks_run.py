"""The site's chapter notebooks run where students run them, top to bottom, with nothing else.

Two notebooks the site build wrote (``_build/html/_notebooks/``; ``make test`` builds the site
first, and it is built here if missing): a numpy chapter and one that trains a network. Each is
copied alone into an empty folder and run in

- a fresh virtual environment holding what a hosted runtime such as Colab offers (numpy, torch,
  torchvision, matplotlib, scikit-learn, scikit-image, tqdm, ipykernel, linked in from the
  project's environment, see ``env_helpers``) but not the course library, nor myst-nb: the set-up
  cell must install cvlib (from a copy of this checkout, through ``CVLIB_INSTALL``) and stand in
  for ``myst_nb.glue``;
- the project's own environment, where the set-up cell must do nothing (``CVLIB_INSTALL`` names
  a path that does not exist there, so any install attempt would fail the run).
"""

import shutil
import sys

import pytest
from env_helpers import (
    HOSTED_RUNTIME,
    clean_env,
    copy_checkout,
    fresh_venv,
    installed_here,
    link_distributions,
    linked_names,
    outputs_text,
    run_notebook,
    run_python,
)
from test_site import site_dir  # noqa: F401  (the built site, reused)

from cvlib.tools.book.notebooks import is_setup_cell

pytestmark = pytest.mark.slow

CHAPTERS = ["book/01-images", "book/05-classifier"]  # numpy and images; a CNN trained with cvlib


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    """The folder of linked hosted-runtime packages, shared by the fresh environments."""
    linked = link_distributions(
        tmp_path_factory.mktemp("runtime") / "site-packages", HOSTED_RUNTIME
    )
    names = linked_names(linked)
    assert {"torch", "torchvision", "ipykernel"} <= set(names)
    assert not {"cnn-course-cvlib", "myst-nb", "jupytext"} & set(names)
    return linked


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A copy of the repository: what CVLIB_INSTALL points the set-up cell at."""
    return copy_checkout(tmp_path_factory.mktemp("checkout"))


def copy_alone(site_dir, docname, folder):  # noqa: F811
    source = site_dir / "_notebooks" / f"{docname}.ipynb"
    assert source.exists(), f"the site build wrote no notebook for {docname}"
    folder.mkdir()
    target = folder / source.name
    shutil.copyfile(source, target)
    return target


@pytest.mark.parametrize("docname", CHAPTERS)
def test_a_chapter_notebook_installs_the_course_library_in_a_fresh_runtime(
    docname,
    site_dir,  # noqa: F811
    runtime,
    checkout,
    tmp_path,
):
    notebook = copy_alone(site_dir, docname, tmp_path / "work")
    python = fresh_venv(tmp_path / "venv", linked=runtime)
    missing = run_python(python, "import cvlib")
    assert missing.returncode == 1 and "No module named 'cvlib'" in missing.stderr
    assert run_python(python, "import myst_nb").returncode == 1
    assert run_python(python, "import torch, torchvision, sklearn, skimage").returncode == 0

    nb = run_notebook(notebook, python, clean_env(CVLIB_INSTALL=str(checkout)))

    assert is_setup_cell(nb.cells[0])
    assert f"Installing the course library: {checkout}" in outputs_text(nb.cells[0])
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")
    # The runtime had everything else: pip installed the course library and nothing more.
    assert set(installed_here(python)) - {"pip", "setuptools"} == {"cnn-course-cvlib"}
    where = run_python(python, "import cvlib; print(cvlib.__file__)").stdout
    assert where.startswith(str(tmp_path / "venv")), where


def test_the_same_notebooks_run_unchanged_in_the_project_environment(
    site_dir,  # noqa: F811
    tmp_path,
):
    for index, docname in enumerate(CHAPTERS):
        notebook = copy_alone(site_dir, docname, tmp_path / f"work{index}")
        env = clean_env(CVLIB_INSTALL=str(tmp_path / "no-such-checkout"))
        nb = run_notebook(notebook, sys.executable, env)
        assert is_setup_cell(nb.cells[0])
        assert nb.cells[0].outputs == [], "the set-up cell did something where cvlib is installed"
        assert all(c.execution_count for c in nb.cells if c.cell_type == "code")
