"""Sphinx extension: an ``.ipynb`` of every chapter and assignment in the site, opened in one click.

Listed in ``_config.yml`` (``sphinx.config.extensions``), it makes every page that is a notebook
(a MyST chapter with a kernelspec, or an ``.ipynb`` assignment)

- write ``_build/html/_notebooks/<page>.ipynb`` (:mod:`cvlib.tools.book.notebooks`: a set-up cell
  that installs the course library where it is missing, then the page's cells);
- offer that file in the page's download menu (instead of the executed copy Jupyter Book puts
  there for a MyST page, which has no set-up cell) and in a "Run this page" line under the title;
- link it on Colab and Kaggle, in the launch menu and in that line. Jupyter Book's own Colab
  button points at the ``.md`` source, which Colab cannot open; it is pointed at the notebook.

Colab and Kaggle open notebooks from GitHub, so the links point into a branch of the repository:
``https://colab.research.google.com/github/<org>/<repo>/blob/<branch>/<page>.ipynb``, where
``<org>/<repo>`` comes from ``repository.url`` in ``_config.yml`` and ``<branch>`` from
``cvlib_notebooks_branch`` (``"notebooks"``). The publishing workflow pushes ``_notebooks/``
there (``python -m cvlib.tools.book.publish_notebooks``), so a fork that changes ``repository.url``
gets working links. The set-up cell installs the library from the same repository, at the commit
the site was built from (``git rev-parse HEAD``; ``repository.branch`` outside a git checkout).
``launch_buttons.colab_url`` / ``launch_buttons.kaggle_url`` set the two services ("" turns a
link off).

Text that only the website renders is rewritten with what the website shows: glued numbers
(from myst-nb's glue cache of the build), chapter titles, figure numbers. MyST syntax that cannot
be rewritten is a build warning, so the strict build (``-W``) fails on it.
"""

from __future__ import annotations

import posixpath
import subprocess
from pathlib import Path

import jupytext
import nbformat
from docutils import nodes
from myst_nb.core.variables import format_plain_text
from myst_nb.ext.glue.crossref import read_glue_cache
from sphinx.util import logging

from cvlib.tools.book import notebooks

NOTEBOOK_DIR = "_notebooks"  # in the site; the content of the notebooks branch
logger = logging.getLogger(__name__)


def setup(app):
    app.add_config_value("cvlib_notebooks_branch", "notebooks", "html", types=[str])
    app.connect("doctree-resolved", add_run_links)
    app.connect("html-page-context", point_header_buttons, priority=502)  # after the theme's 501
    app.connect("build-finished", write_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def notebook_pages(env) -> list[str]:
    """The documents that get a notebook: ``.ipynb`` sources and MyST notebooks (kernelspec)."""
    pages = []
    for docname in sorted(env.found_docs):
        suffix = Path(env.doc2path(docname)).suffix
        if suffix == ".ipynb" or (suffix == ".md" and "kernelspec" in env.metadata[docname]):
            pages.append(docname)
    return pages


def launch_links(config, docname: str) -> dict[str, str]:
    """``{"Colab": url, "Kaggle": url}`` for a page (only the services configured)."""
    options = config.html_theme_options
    repository = options.get("repository_url", "").rstrip("/").removesuffix(".git")
    if not repository.startswith("https://github.com/"):
        return {}  # Colab and Kaggle open notebooks from GitHub only
    github_file = f"{repository}/blob/{config.cvlib_notebooks_branch}/{docname}.ipynb"
    launch = options.get("launch_buttons", {})
    links = {}
    if launch.get("colab_url"):
        links["Colab"] = f"{launch['colab_url'].rstrip('/')}/github/" + github_file.removeprefix(
            "https://github.com/"
        )
    if launch.get("kaggle_url"):
        links["Kaggle"] = f"{launch['kaggle_url'].rstrip('/')}/kernels/welcome?src={github_file}"
    return links


def notebook_uri(docname: str) -> str:
    """The page-relative address of a page's notebook, e.g. ``../_notebooks/book/x.ipynb``."""
    return posixpath.relpath(f"{NOTEBOOK_DIR}/{docname}.ipynb", posixpath.dirname(docname) or ".")


def add_run_links(app, doctree, docname) -> None:
    """Put "Run this page: Colab · Kaggle · download the notebook" under the page's title."""
    if app.builder.format != "html" or docname not in notebook_pages(app.env):
        return
    section = doctree.next_node(nodes.section)
    if section is None or not isinstance(section[0], nodes.title):
        return
    line = nodes.paragraph(classes=["cvlib-run-links"])
    line += nodes.Text("Run this page as a notebook: ")
    targets = [*launch_links(app.config, docname).items(), ("download it", notebook_uri(docname))]
    for index, (text, uri) in enumerate(targets):
        if index:
            line += nodes.Text(" · ")
        line += nodes.reference(text, text, refuri=uri, internal=False)
    line += nodes.Text(" (the first cell installs the course library where it is missing).")
    section.insert(1, line)


def point_header_buttons(app, pagename, templatename, context, doctree) -> None:
    """Point the theme's Colab and download buttons at the page's notebook; add Kaggle."""
    if pagename not in notebook_pages(app.env) or "header_buttons" not in context:
        return
    groups = {group.get("label"): group for group in context["header_buttons"]}
    links = launch_links(app.config, pagename)
    launch = groups.get("launch-buttons")
    if launch is not None:
        launch["buttons"] = [b for b in launch["buttons"] if b.get("text") not in links]
        for text, url in links.items():
            icon = "_static/images/logo_colab.png" if text == "Colab" else "fab fa-kaggle"
            button = {"type": "link", "text": text, "url": url, "icon": icon}
            launch["buttons"].append(button | {"tooltip": f"Launch on {text}"})
    download = groups.get("download-buttons")
    if download is not None:
        url = context["pathto"](f"{NOTEBOOK_DIR}/{pagename}.ipynb", 1)
        labels = {b.get("label"): b for b in download["buttons"]}
        button = labels.get("download-notebook-button") or labels.get("download-source-button")
        if button is not None:
            button.update(url=url, text=".ipynb", tooltip="Download the notebook (runs anywhere)")


def build_ref(root: Path, fallback: str) -> str:
    """The commit the site is built from, or ``fallback`` outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return fallback
    return result.stdout.strip()


def write_notebooks(app, exception) -> None:
    """Write the notebook of every page into ``_notebooks/`` of the HTML output."""
    if exception is not None or app.builder.format != "html":
        return
    options = app.config.html_theme_options
    repository = options.get("repository_url", "")
    ref = build_ref(Path(app.srcdir), options.get("repository_branch") or "main")
    requirement = notebooks.install_requirement(repository, ref)
    out = Path(app.outdir) / NOTEBOOK_DIR
    written = []
    for docname in notebook_pages(app.env):
        source = Path(app.env.doc2path(docname))
        try:
            if source.suffix == ".ipynb":
                release = nbformat.read(source, as_version=4)
                nb = notebooks.assignment_notebook(release, requirement, source.name)
            else:
                resolve = Resolver(app, docname)
                nb = notebooks.chapter_notebook(jupytext.read(source), requirement, resolve)
        except (ValueError, KeyError) as err:
            logger.warning(f"no notebook for {docname}: {err}", location=docname)
            continue
        path = out / f"{docname}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        written.append(docname)
    (out / "README.md").write_text(branch_readme(app.config, repository, ref, written))


def branch_readme(config, repository: str, ref: str, docnames: list[str]) -> str:
    """The README of the notebooks branch: where the notebooks come from, one line each."""
    lines = [
        "# Notebooks of the course",
        "",
        f"Generated from {repository} at `{ref}` by the website's build "
        "(`cvlib.tools.book.site_notebooks`) and published by its workflow: edit the chapters and "
        "assignments there, not here. The first cell of each installs the course library.",
        "",
    ]
    for docname in docnames:
        links = " · ".join(f"[{k}]({v})" for k, v in launch_links(config, docname).items())
        lines.append(f"- [{docname}.ipynb]({docname}.ipynb)" + (f": {links}" if links else ""))
    return "\n".join(lines) + "\n"


class Resolver:
    """What the website shows for a MyST role of one page: ``resolver(role, content) -> str``."""

    def __init__(self, app, docname: str):
        self.env = app.env
        self.docname = docname
        self.numfig_format = app.config.numfig_format

    def __call__(self, role: str, content: str) -> str:
        if role in ("glue", "glue:", "glue:any", "glue:text", "glue:md"):
            return self.glue(role, content)
        text, target = _split_title(content)
        if role == "doc":
            docname = posixpath.normpath(posixpath.join(posixpath.dirname(self.docname), target))
            docname = target.lstrip("/") if target.startswith("/") else docname
            docname = docname.removesuffix(".md").removesuffix(".ipynb")
            if docname not in self.env.titles:
                raise KeyError(f"no document {target!r}")
            return f"*{text or self.env.titles[docname].astext()}*"
        if role in ("ref", "numref"):
            labels = self.env.domaindata["std"]["labels"]
            if target not in labels:
                raise KeyError(f"no label {target!r}")
            docname, labelid, title = labels[target]
            if role == "ref":
                return text or title
            kind = "figure"
            number = self.env.toc_fignumbers.get(docname, {}).get("figure", {}).get(labelid)
            if number is None:  # a section (a chapter's label), numbered as Sphinx numbers it
                kind, sections = "section", self.env.toc_secnumbers.get(docname, {})
                number = sections.get(f"#{labelid}", sections.get(""))
            if not number:
                raise KeyError(f"{target!r} is neither a numbered figure nor a numbered section")
            number = ".".join(map(str, number))
            template = text or self.numfig_format[kind]
            return template.replace("%s", number).replace("{number}", number)
        raise ValueError(f"the role {role!r} is not supported")

    def glue(self, role: str, content: str) -> str:
        key, fmt = content, ""
        if role == "glue:text" and ":" in content:
            key, fmt = content.rsplit(":", 1)  # as myst-nb reads "key:format"
        data = read_glue_cache(self.env.mystnb_config.output_folder, self.docname)
        if key not in data:
            raise KeyError(f"nothing was glued as {key!r} in {self.docname}")
        bundle = data[key]["data"]
        if role == "glue:md" and "text/markdown" in bundle:
            return bundle["text/markdown"]
        return format_plain_text(bundle["text/plain"], fmt)


def _split_title(content: str) -> tuple[str, str]:
    """``"Title <target>"`` -> ``("Title", "target")``; ``"target"`` -> ``("", "target")``."""
    if content.endswith(">") and " <" in content:
        title, _, target = content[:-1].rpartition(" <")
        return title.strip(), target.strip()
    return "", content.strip()
