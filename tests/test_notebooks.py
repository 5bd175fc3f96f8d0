"""The downloadable notebooks: set-up cell, chapter and assignment notebooks, the glue stand-in.

The end-to-end runs (a fresh environment without the course library, the project's own) are in
``tests/test_notebooks_run.py``; the site build in ``tests/test_site_notebooks.py``.
"""

import copy
import os
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

from cvlib.tools.book import myst_nb_stand_in, notebooks
from cvlib.tools.book.myst_markdown import find_myst_syntax

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = "cnn-course-cvlib @ https://github.com/o/r/archive/abc123.tar.gz"


def test_install_requirement_from_github_and_elsewhere():
    assert notebooks.install_requirement("https://github.com/o/r.git", "v1.0") == (
        "cnn-course-cvlib @ https://github.com/o/r/archive/v1.0.tar.gz"
    )
    assert notebooks.install_requirement("https://gitlab.com/o/r/", "abc123") == (
        "cnn-course-cvlib @ git+https://gitlab.com/o/r.git@abc123"
    )
    with pytest.raises(ValueError, match="`repository_url`"):
        notebooks.install_requirement("github.com/o/r", "main")
    with pytest.raises(ValueError, match="`ref`"):
        notebooks.install_requirement("https://github.com/o/r", "main; rm -rf")


def test_the_distribution_name_is_the_one_in_pyproject():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == notebooks.DISTRIBUTION != "cvlib"


def test_setup_cell_installs_the_requirement_or_what_cvlib_install_says():
    cell = notebooks.setup_cell(REQUIREMENT)
    compile(cell.source, "setup", "exec")
    assert f'os.environ.get("CVLIB_INSTALL") or "{REQUIREMENT}"' in cell.source
    assert "myst_nb_stand_in" not in cell.source
    assert "myst_nb_stand_in.install()" in notebooks.setup_cell(REQUIREMENT, True).source
    with pytest.raises(ValueError, match="`requirement`"):
        notebooks.setup_cell("  ")


def run_setup(python, **env):
    source = notebooks.setup_cell(REQUIREMENT, stand_in_glue=True).source
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | env
    return subprocess.run(
        [python, "-c", source], capture_output=True, text=True, env=environ, cwd="/", timeout=120
    )


def test_setup_cell_does_nothing_where_the_course_library_is_installed():
    # Any install attempt would fail: CVLIB_INSTALL names a path that does not exist.
    result = run_setup(sys.executable, CVLIB_INSTALL="/nonexistent/cvlib")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_setup_cell_refuses_another_project_called_cvlib(tmp_path):
    fake = tmp_path / "cvlib"
    fake.mkdir()
    (fake / "__init__.py").write_text("detect_common_objects = None\n")
    # The base interpreter: the project's site-packages (and its cnn-course-cvlib) are not there.
    base = getattr(sys, "_base_executable", sys.executable)
    result = run_setup(base, PYTHONPATH=str(tmp_path), CVLIB_INSTALL="/nonexistent/cvlib")
    assert result.returncode == 1
    assert "is not the course library (cnn-course-cvlib)" in result.stderr
    assert "pip uninstall -y cvlib" in result.stderr


def resolve(role, content):
    return f"[{role} {content}]"


def test_chapter_notebook_keeps_every_code_cell_in_order():
    source = jupytext.read(ROOT / "book" / "03-convolution.md")
    nb = notebooks.chapter_notebook(source, REQUIREMENT, resolve)
    assert notebooks.is_setup_cell(nb.cells[0]) and "myst_nb_stand_in" in nb.cells[0].source
    code = [c.source for c in source.cells if c.cell_type == "code"]
    assert [c.source for c in nb.cells[1:] if c.cell_type == "code"] == code
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert not find_myst_syntax(cell.source), cell.source
    assert nb.metadata["kernelspec"]["name"] == "python3" and "jupytext" not in nb.metadata
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    again = notebooks.chapter_notebook(
        jupytext.read(ROOT / "book" / "03-convolution.md"), REQUIREMENT, resolve
    )
    assert nbformat.writes(again) == nbformat.writes(nb)  # deterministic: no random cell ids


def test_chapter_notebook_puts_captions_under_their_figures():
    source = jupytext.reads(
        "---\nkernelspec:\n  name: python3\n  display_name: Python 3\n---\n"
        "```{code-cell} ipython3\n---\nmystnb:\n  figure:\n    caption: Two\n      lines.\n"
        "    name: fig-a\n---\nplot()\n```\n",
        fmt="md:myst",
    )
    nb = notebooks.chapter_notebook(source, REQUIREMENT, resolve)
    assert [c.source for c in nb.cells[1:]] == ["plot()", "*[numref fig-a]. Two lines.*"]
    with pytest.raises(TypeError, match="`source`"):
        notebooks.chapter_notebook("# not a notebook", REQUIREMENT, resolve)


def tiny_release():
    def meta(**kw):
        base = {"schema_version": 3, "locked": False, "solution": False, "grade": False}
        return {"nbgrader": base | {"task": False} | kw}

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Homework", metadata=meta(grade_id="intro", locked=True)),
        nbformat.v4.new_code_cell(
            "def double(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
            metadata=meta(grade_id="answer", solution=True),
        ),
        nbformat.v4.new_code_cell(
            "assert double(2) == 4", metadata=meta(grade_id="t1", grade=True, locked=True, points=2)
        ),
        nbformat.v4.new_markdown_cell(
            "Why?", metadata=meta(grade_id="why", solution=True, grade=True, points=1.5)
        ),
    ]
    return nb


def test_assignment_notebook_keeps_the_release_cells_and_says_what_a_submission_needs():
    release = tiny_release()
    original = copy.deepcopy(release)
    nb = notebooks.assignment_notebook(release, REQUIREMENT, "hw.ipynb")
    assert release == original  # the release itself is not touched
    assert notebooks.is_setup_cell(nb.cells[0]) and "myst_nb" not in nb.cells[0].source
    assert nb.cells[1:-1] == original.cells  # ids, metadata and checksums unchanged
    note = nb.cells[-1].source
    assert "`double`" in note and "the 1 visible test cells" in note
    assert "the 1 questions graded by hand" in note and "worth 3.5 points" in note
    assert "`hw.ipynb`" in note
    with pytest.raises(ValueError, match="`filename`"):
        notebooks.assignment_notebook(release, REQUIREMENT, "hw.md")


def test_real_assignments_count_their_tests_and_points():
    path = ROOT / "assignments" / "a1_convolution" / "a1_convolution.ipynb"
    release = nbformat.read(path, as_version=4)
    graded = [c.metadata["nbgrader"] for c in release.cells if "nbgrader" in c.metadata]
    points = sum(m.get("points", 0) for m in graded)
    tests = sum(1 for m in graded if m["grade"] and not m["solution"])
    note = notebooks.submission_note(release, path.name)
    assert f"the {tests} visible test cells" in note and f"worth {points:g} points" in note


def test_glue_stand_in(capsys, monkeypatch):
    import myst_nb

    myst_nb_stand_in.install()  # myst-nb is installed here: the real one stays
    assert sys.modules["myst_nb"] is myst_nb
    monkeypatch.delitem(sys.modules, "myst_nb")
    myst_nb_stand_in.install(force=True)
    from myst_nb import glue

    assert glue is myst_nb_stand_in.glue
    glue("shown", 42)
    glue("hidden", 43, display=False)
    assert capsys.readouterr().out == "42\n"
    with pytest.raises(TypeError, match="`name`"):
        glue(1, 2)


def test_setup_cell_leaves_a_local_folder_as_it_was(tmp_path):
    """Installing from a folder (CVLIB_INSTALL=/path/to/checkout) builds in it: the cell removes
    the ``build/`` and ``*.egg-info`` that pip's build leaves there, and nothing else."""
    project = tmp_path / "checkout"
    (project / "cvlib").mkdir(parents=True)
    (project / "cvlib" / "__init__.py").write_text("")
    (project / "notes.txt").write_text("mine\n")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "cnn-course-cvlib"\nversion = "0.0.1"\n'
        '[tool.setuptools]\npackages = ["cvlib"]\n'
    )
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", env], check=True, timeout=120)
    python = str(env / "bin" / "python")

    source = notebooks.setup_cell(REQUIREMENT).source  # the chapters' glue needs the real cvlib
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [python, "-c", source],
        capture_output=True,
        text=True,
        env=environ | {"CVLIB_INSTALL": str(project)},
        cwd="/",
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    assert "Installing the course library:" in result.stdout
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before
