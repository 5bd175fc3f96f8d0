"""The Binder environment (``binder/``) builds, with the lock's versions, and runs a chapter.

mybinder.org cannot be reached from here, so this does what repo2docker does with the folder, in
a fresh virtual environment: ``pip install -r binder/requirements.txt`` from the root of a copy
of the repository, then ``binder/postBuild``, then a chapter (``book/*.md``, as JupyterLab opens
it through jupytext) from top to bottom. Two differences, both because the PyTorch wheel index
is out of reach: the ``--extra-index-url`` line is left out, and torch and torchvision, which
that index serves as CPU builds of the lock's versions, are linked in from the project's
environment (the lock's versions, CUDA builds) as a pip cache would hold them. Everything else is
downloaded and installed (from PyPI, or pip's cache).
"""

import os
import re
import subprocess
import tomllib

import jupytext
import nbformat
import pytest
from env_helpers import (
    NO_BYTECODE,
    ROOT,
    TORCH,
    clean_env,
    copy_checkout,
    fresh_venv,
    installed_here,
    link_distributions,
    lock_versions,
    off_lock,
    run_notebook,
)
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.slow

BINDER = ROOT / "binder"
CHAPTER = "book/01-images.md"  # uses myst_nb.glue, scikit-image and torch


def binder_lines() -> list[str]:
    text = (BINDER / "requirements.txt").read_text()
    return [line.split(" #")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]


def test_binder_uses_the_course_python_and_the_lock():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), runtime
    version = runtime.removeprefix("python-")
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert SpecifierSet(requires).contains(f"{version}.0"), (runtime, requires)
    assert f"(Python {version}," in (ROOT / "requirements-lock.txt").read_text()
    lines = binder_lines()
    assert "-c ../requirements-lock.txt" in lines and "-e ." in lines
    named = [Requirement(line) for line in lines if not line.startswith("-")]
    pinned = lock_versions()
    assert named and all(canonicalize_name(req.name) in pinned for req in named), named
    assert os.access(BINDER / "postBuild", os.X_OK), "repo2docker runs postBuild only if executable"


def test_the_binder_environment_installs_and_runs_a_chapter(tmp_path):
    repo = copy_checkout(tmp_path / "repo")
    here = repo / "binder" / "requirements-here.txt"  # beside the original: -c stays relative
    here.write_text("\n".join(line for line in binder_lines() if "extra-index-url" not in line))
    python = fresh_venv(tmp_path / "venv", link_distributions(tmp_path / "torch", TORCH))
    env = clean_env(PATH=f"{python.parent}{os.pathsep}{os.environ['PATH']}", **NO_BYTECODE)

    pip = [str(python), "-m", "pip", "install", "--quiet", "-r", str(here)]
    result = subprocess.run(pip, cwd=repo, env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]

    installed = installed_here(python)
    assert "cnn-course-cvlib" in installed and {"myst-nb", "jupytext", "nbgrader"} <= set(installed)
    off = off_lock(installed, allowed={"cnn-course-cvlib", "pip", "setuptools"})
    assert not off, f"installed at versions other than the lock's: {off}"

    home = tmp_path / "home"
    home.mkdir()
    post = subprocess.run(
        [str(repo / "binder" / "postBuild")], env=env | {"HOME": str(home)}, capture_output=True
    )
    assert post.returncode == 0, post.stderr
    overrides = (home / ".jupyter" / "labconfig" / "default_setting_overrides.json").read_text()
    assert '"markdown": "Jupytext Notebook"' in overrides

    notebook = repo / CHAPTER.replace(".md", ".ipynb")
    nbformat.write(jupytext.read(repo / CHAPTER), notebook)
    nb = run_notebook(notebook, python, clean_env())
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")


def test_the_instructor_guide_names_the_hub_and_binder_requirements():
    guide = (ROOT / "book" / "instructors.md").read_text()
    hub = guide.split("**Students work on JupyterHub", 1)[1].split("\n**", 1)[0]
    for path in (
        "deploy/hub/setup.sh",
        "deploy/hub/requirements.txt",
        "deploy/hub/package-lock.json",
    ):
        assert path in hub and (ROOT / path).exists(), path
    assert "wheel" in hub and "python -m cvlib.tools.grading.autograde_class" in hub
    binder = guide.split("**Binder and the site's JupyterHub button.**", 1)[1].split("\n**", 1)[0]
    for path in ("binder/runtime.txt", "binder/requirements.txt", "binder/postBuild"):
        assert path in binder and (ROOT / path).exists(), path
    assert "cnn-course-cvlib" in binder and "nbgitpuller" in binder and "jupyterhub" in binder
