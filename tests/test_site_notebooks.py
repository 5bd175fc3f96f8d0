"""The site offers a notebook of every chapter and assignment, and opens it on Colab and Kaggle.

Two levels:

- a tiny Sphinx project with the extension (``cvlib.tools.book.site_notebooks``), built here: glued
  numbers, links, figure numbers and notes reach the notebook as text, the links are right, and
  MyST the notebooks cannot show fails the strict build;
- the course's own site, as ``make book`` built it (``_build/html``, built here if missing): a
  notebook for every chapter and assignment of ``_toc.yml``, and on every chapter page a Colab
  link to that notebook's ``.ipynb`` in the notebooks branch of ``repository.url``.
"""

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import jupytext
import nbformat
import pytest
import yaml
from test_site import site_dir  # noqa: F401  (the built site, reused)

from cvlib.tools.book.myst_markdown import find_myst_syntax
from cvlib.tools.book.notebooks import DISTRIBUTION, is_setup_cell

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())

CONF_PY = """
extensions = ["myst_nb", "cvlib.tools.book.site_notebooks"]
html_theme = "sphinx_book_theme"
html_theme_options = {
    "repository_url": "https://github.com/example-org/example-course",
    "repository_branch": "main",
    "launch_buttons": {
        "colab_url": "https://colab.research.google.com",
        "kaggle_url": "https://www.kaggle.com",
    },
}
numfig = True
nb_execution_mode = "force"
nb_execution_excludepatterns = ["hw/*"]
exclude_patterns = ["_build"]
"""
CHAPTER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter

% a comment for the authors

Pi is about {glue:text}`pi:.2f`; see {doc}`other`, {numref}`Chapter %s <ch-other>` and
{numref}`fig-line`.

```{note}
Rounded: {glue:text}`pi:.1f`.
```

```{code-cell} ipython3
from myst_nb import glue
glue("pi", 3.14159, display=False)
```

```{code-cell} ipython3
---
mystnb:
  figure:
    caption: A line.
    name: fig-line
---
import matplotlib.pyplot as plt
plt.plot([0, 1]); plt.show()
```
"""


def tiny_project(path, chapter=CHAPTER):
    (path / "hw").mkdir(parents=True)
    (path / "conf.py").write_text(CONF_PY)
    toctree = "```{toctree}\n:numbered:\nchapter\nother\nhw/hw\n```\n"
    (path / "index.md").write_text(f"# Course\n\n{toctree}")
    (path / "other.md").write_text("(ch-other)=\n# Other page\n\nNo code here.\n")
    (path / "chapter.md").write_text(chapter)
    hw = nbformat.v4.new_notebook()
    hw.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    hw.cells = [nbformat.v4.new_markdown_cell("# Homework"), nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(hw, path / "hw" / "hw.ipynb")
    return path


def sphinx_build(src):
    out = src / "_build" / "html"
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q"]
    result = subprocess.run(
        [*command, str(src), str(out)], capture_output=True, text=True, timeout=300
    )
    return result, out


def hrefs(html_path):
    return re.findall(r'href="([^"]+)"', Path(html_path).read_text())


def test_a_tiny_site_gets_notebooks_with_the_text_its_pages_show(tmp_path):
    result, out = sphinx_build(tiny_project(tmp_path / "src"))
    assert result.returncode == 0, result.stderr

    chapter = nbformat.read(out / "_notebooks" / "chapter.ipynb", as_version=4)
    assert is_setup_cell(chapter.cells[0])
    # Outside git the library comes from the repository's branch.
    assert (
        f"{DISTRIBUTION} @ https://github.com/example-org/example-course/archive/main.tar.gz"
        in (chapter.cells[0].source)
    )
    text = [c.source for c in chapter.cells[1:]]
    assert text[0] == (
        "# A chapter\n\nPi is about 3.14; see *Other page*, Chapter 2 and\nFig. 1.1.\n\n"
        "> **Note**\n>\n> Rounded: 3.1."
    )
    assert text[-1] == "*Fig. 1.1. A line.*"  # the caption, under the figure's cell
    assert text[-2].startswith("import matplotlib.pyplot as plt")
    homework = nbformat.read(out / "_notebooks" / "hw" / "hw.ipynb", as_version=4)
    assert [c.source for c in homework.cells[1:3]] == ["# Homework", "1 + 1"]

    blob = "example-org/example-course/blob/notebooks"
    pages = {"chapter": "_notebooks/chapter.ipynb", "hw/hw": "../_notebooks/hw/hw.ipynb"}
    for name, uri in pages.items():
        page = f"{name}.html"
        links = hrefs(out / page)
        assert f"https://colab.research.google.com/github/{blob}/{name}.ipynb" in links
        assert (
            f"https://www.kaggle.com/kernels/welcome?src=https://github.com/{blob}/{name}.ipynb"
            in links
        )
        assert uri in links and (out / urljoin(page, uri)).exists()
        assert f"_sources/{name}.ipynb" not in " ".join(links)  # the copy without set-up cell
    assert not any("colab" in link for link in hrefs(out / "other.html"))
    assert "chapter.ipynb" in (out / "_notebooks" / "README.md").read_text()


def test_myst_a_notebook_cannot_show_fails_the_strict_build(tmp_path):
    chapter = CHAPTER.replace("% a comment", "```{figure} cat.png\nA cat.\n```\n% a comment")
    src = tiny_project(tmp_path / "src", chapter)
    with (src / "conf.py").open("a") as conf:
        conf.write('nb_execution_mode = "off"  # the text alone fails\n')
    result, _ = sphinx_build(src)
    assert result.returncode != 0
    assert "no notebook for chapter" in result.stderr and "directive `figure`" in result.stderr


def toc_pages():
    """The pages of ``_toc.yml`` that are notebooks, found without the site build's help."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries, todo = [], [{"file": toc["root"]}, *toc.get("parts", [])]
    while todo:
        entry = todo.pop()
        todo += entry.get("chapters", []) + entry.get("sections", [])
        if "file" in entry:
            entries += [ROOT / f"{entry['file']}{suffix}" for suffix in (".md", ".ipynb")]
        if "glob" in entry:
            entries += ROOT.glob(entry["glob"] + ".*")
    pages = {}
    for path in filter(Path.exists, entries):
        text = path.read_text() if path.suffix == ".md" else ""
        front = text.split("---", 2)[1] if text.startswith("---") else ""
        if path.suffix == ".ipynb" or "kernelspec:" in front:
            pages[path.relative_to(ROOT).with_suffix("").as_posix()] = path
    return pages


def test_every_chapter_and_assignment_has_a_notebook(site_dir):  # noqa: F811
    pages = toc_pages()
    assert sum(p.startswith("book/") for p in pages) >= 10, pages
    assert sum(p.startswith("assignments/") for p in pages) >= 1, pages
    for docname, source in pages.items():
        path = site_dir / "_notebooks" / f"{docname}.ipynb"
        assert path.exists(), f"no notebook for {docname} in {site_dir / '_notebooks'}"
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert is_setup_cell(nb.cells[0]), docname
        if source.suffix == ".ipynb":
            release = nbformat.read(source, as_version=4)
            assert nb.cells[1:-1] == release.cells, f"{docname}: the release cells changed"
            continue
        code = [c.source for c in jupytext.read(source).cells if c.cell_type == "code"]
        assert [c.source for c in nb.cells[1:] if c.cell_type == "code"] == code, docname
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                assert not find_myst_syntax(cell.source), (docname, cell.source[:300])


def test_every_chapter_page_opens_its_notebook_on_colab(site_dir):  # noqa: F811
    org_repo = CONFIG["repository"]["url"].removeprefix("https://github.com/").strip("/")
    branch = CONFIG["sphinx"]["config"]["cvlib_notebooks_branch"]
    colab = CONFIG["launch_buttons"]["colab_url"].rstrip("/")
    pages = toc_pages()
    for docname in pages:
        links = hrefs(site_dir / f"{docname}.html")
        expected = f"{colab}/github/{org_repo}/blob/{branch}/{docname}.ipynb"
        assert expected in links, f"{docname}.html has no Colab link to {expected}"
        kaggle = [link for link in links if link.startswith("https://www.kaggle.com/")]
        assert kaggle and all(link.endswith(f"/{docname}.ipynb") for link in kaggle), docname
        local = [link for link in links if link.endswith(f"_notebooks/{docname}.ipynb")]
        assert local and (site_dir / urljoin(docname, local[0])).exists(), docname
        colab_links = [link for link in links if link.startswith(colab)]
        assert all(link.endswith(".ipynb") for link in colab_links), colab_links


def test_the_setup_cells_install_from_the_configured_repository(site_dir):  # noqa: F811
    url = CONFIG["repository"]["url"].rstrip("/")
    pattern = re.escape(f'"{DISTRIBUTION} @ {url}/archive/') + r"([0-9a-f]{40}|[\w.-]+)\.tar\.gz\""
    for docname in toc_pages():
        nb = nbformat.read(site_dir / "_notebooks" / f"{docname}.ipynb", as_version=4)
        assert re.search(pattern, nb.cells[0].source), (docname, nb.cells[0].source)
