"""Publishing the notebooks branch: against a local bare repository standing in for GitHub."""

import subprocess

import pytest

from cvlib.tools.book import publish_notebooks

IDENTITY = {
    "GIT_AUTHOR_NAME": "ci",
    "GIT_AUTHOR_EMAIL": "ci@example.org",
    "GIT_COMMITTER_NAME": "ci",
    "GIT_COMMITTER_EMAIL": "ci@example.org",
}


def git(cwd, *args):
    return subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A checkout with one commit, its built site, and a bare "GitHub" as origin."""
    for key, value in IDENTITY.items():
        monkeypatch.setenv(key, value)
    remote = tmp_path / "github.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    repo = tmp_path / "course"
    repo.mkdir()
    git(repo, "init", "--quiet", "-b", "main")
    (repo / "_config.yml").write_text("sphinx:\n  config:\n    cvlib_notebooks_branch: nb\n")
    (repo / "book.md").write_text("# A chapter\n")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "course")
    git(repo, "remote", "add", "origin", str(remote))
    notebooks = repo / "_build" / "html" / "_notebooks"
    (notebooks / "book").mkdir(parents=True)
    (notebooks / "book" / "01.ipynb").write_text('{"cells": []}\n')
    (notebooks / "README.md").write_text("# Notebooks\n")
    return repo, remote, notebooks


def test_publish_creates_the_branch_then_adds_commits_only_for_changes(checkout, capsys):
    repo, remote, notebooks = checkout
    status = git(repo, "status", "--porcelain", "--untracked-files=no")
    head = git(repo, "rev-parse", "HEAD")

    assert publish_notebooks.main(["--root", str(repo)]) == 0  # branch "nb" from _config.yml
    first = git(remote, "rev-parse", "nb")
    assert git(remote, "ls-tree", "-r", "--name-only", "nb").split() == [
        "README.md",
        "book/01.ipynb",
    ]
    assert git(remote, "show", "nb:book/01.ipynb") == '{"cells": []}'
    assert head in git(remote, "log", "-1", "--format=%B", "nb")

    assert publish_notebooks.main(["--root", str(repo)]) == 0  # nothing changed: no commit
    assert "already holds these notebooks" in capsys.readouterr().out
    assert git(remote, "rev-parse", "nb") == first

    (notebooks / "book" / "01.ipynb").write_text('{"cells": [1]}\n')
    (notebooks / "README.md").unlink()
    publish_notebooks.main(["--root", str(repo)])
    assert git(remote, "rev-parse", "nb^") == first  # history kept
    assert git(remote, "ls-tree", "-r", "--name-only", "nb").split() == ["book/01.ipynb"]
    # The checkout itself is untouched: same commit, same index, no new branch.
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == status
    assert git(repo, "branch", "--list").split() == ["*", "main"]


def test_publish_refuses_an_unbuilt_site_and_names_git_failures(checkout):
    repo, _, notebooks = checkout
    with pytest.raises(ValueError, match=r"`folder`.*build the site first"):
        publish_notebooks.publish(repo, repo / "_build" / "missing", "origin", "nb")
    with pytest.raises(RuntimeError, match="git ls-remote"):
        publish_notebooks.publish(repo, notebooks, "no-such-remote", "nb")
    (repo / "_config.yml").write_text("title: x\n")
    with pytest.raises(ValueError, match="cvlib_notebooks_branch"):
        publish_notebooks.notebooks_branch(repo)


def test_the_course_names_its_notebooks_branch():
    assert publish_notebooks.notebooks_branch(publish_notebooks.ROOT) == "notebooks"


def test_the_workflow_publishes_the_branch_after_building_the_site():
    import yaml

    workflow = publish_notebooks.ROOT / ".github" / "workflows" / "book.yml"
    build = yaml.safe_load(workflow.read_text())["jobs"]["build"]
    runs = [step.get("run", "") for step in build["steps"]]
    book = next(i for i, run in enumerate(runs) if run.startswith("make book"))
    publish = next(
        i for i, run in enumerate(runs) if "-m cvlib.tools.book.publish_notebooks" in run
    )
    assert book < publish and build["permissions"]["contents"] == "write"
