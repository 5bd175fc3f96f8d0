"""Publish the site's notebooks to their branch, where Colab and Kaggle open them.

``python -m cvlib.tools.book.publish_notebooks`` (run by ``.github/workflows/book.yml`` after
``make book``) commits the content of ``_build/html/_notebooks/`` as the whole tree of the branch
``cvlib_notebooks_branch`` of ``_config.yml`` ("notebooks") and pushes it, the way d2l publishes
its Colab notebooks to a repository of their own. Each publication is one commit on top of the
previous one, so the branch keeps a history; nothing is pushed when the notebooks did not change.

The commit is made with git's plumbing (a temporary index, ``write-tree``, ``commit-tree``) in
the checkout the site was built from: the checkout's files, index and branches stay as they were,
and the push uses the checkout's credentials (those ``actions/checkout`` stores).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from cvlib.tools.book.site_notebooks import NOTEBOOK_DIR

ROOT = Path(__file__).resolve().parents[3]


def notebooks_branch(root: Path) -> str:
    """The branch ``_config.yml`` names (``sphinx.config.cvlib_notebooks_branch``)."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    branch = config.get("sphinx", {}).get("config", {}).get("cvlib_notebooks_branch")
    if not isinstance(branch, str) or not branch:
        raise ValueError(f"{root / '_config.yml'} sets no sphinx.config.cvlib_notebooks_branch")
    return branch


def git(cwd: Path, *args: str, env: dict | None = None) -> str:
    """``git -C cwd args...``'s output; a RuntimeError with git's message if it fails."""
    result = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def publish(root: Path, folder: Path, remote: str, branch: str) -> str | None:
    """Commit ``folder`` as the tree of ``remote``'s ``branch`` and push it.

    Returns the new commit, or None when the branch already holds exactly these files.

    Raises
    ------
    ValueError
        If ``folder`` holds no notebook (was the site built?).
    RuntimeError
        If a git command fails (no such remote, no permission to push, ...).
    """
    folder = Path(folder).resolve()
    if not folder.is_dir() or not any(folder.rglob("*.ipynb")):
        raise ValueError(f"`folder` {folder} holds no notebooks: build the site first (make book)")
    tracking = f"refs/remotes/{remote}/{branch}"
    parent = None
    if git(root, "ls-remote", "--heads", remote, branch):
        git(root, "fetch", "--quiet", "--depth=1", remote, f"+refs/heads/{branch}:{tracking}")
        parent = git(root, "rev-parse", tracking)
    git_dir = git(root, "rev-parse", "--absolute-git-dir")
    with tempfile.TemporaryDirectory() as scratch:  # a throwaway index: the checkout's stays
        env = os.environ | {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        git(folder, f"--git-dir={git_dir}", f"--work-tree={folder}", "add", "-A", "-f", env=env)
        tree = git(root, "write-tree", env=env)
    if parent is not None and git(root, "rev-parse", f"{parent}^{{tree}}") == tree:
        return None
    source = git(root, "rev-parse", "HEAD")
    message = (
        f"Notebooks of {source}\n\nWritten by the site build (cvlib.tools.book.site_notebooks)."
    )
    commit = git(root, "commit-tree", tree, *(["-p", parent] if parent else []), "-m", message)
    git(root, "push", "--quiet", remote, f"{commit}:refs/heads/{branch}")
    return commit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cvlib.tools.book.publish_notebooks", description=__doc__
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout with _config.yml")
    parser.add_argument("--site", type=Path, help="the built site (default: ROOT/_build/html)")
    parser.add_argument("--remote", default="origin")
    parser.add_argument("--branch", help="default: sphinx.config.cvlib_notebooks_branch")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    branch = args.branch or notebooks_branch(root)
    folder = (args.site or root / "_build" / "html") / NOTEBOOK_DIR
    commit = publish(root, folder, args.remote, branch)
    if commit is None:
        print(f"publish_notebooks: {args.remote}/{branch} already holds these notebooks")
    else:
        print(f"publish_notebooks: pushed {commit[:12]} to {args.remote}/{branch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
