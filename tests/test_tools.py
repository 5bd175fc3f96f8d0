"""``cvlib.tools``: the tools live in ``tools/grading`` and ``tools/book``; the old paths that texts
outside the repository name (an instructor's ``nbgrader_config.py``, a downloaded notebook) still
import, as the moved module itself, and nothing inside the repository uses them."""

import importlib
import re
import subprocess
from pathlib import Path

import pytest
from traitlets.utils.importstring import import_item

from cvlib import tools

ROOT = Path(__file__).resolve().parents[1]
# what the course's nbgrader_config.py named before the split, as nbgrader reads such a string
OLD_CONFIG_STRINGS = {
    "cvlib.tools.trusted_execute.TrustedExecute": "cvlib.tools.grading.trusted_execute",
    "cvlib.tools.safe_collect.SafeCollect": "cvlib.tools.grading.safe_collect",
    "cvlib.tools.lms_collect.LatestUploadCollector": "cvlib.tools.grading.lms_collect",
    "cvlib.tools.nbgrader_validate.install": "cvlib.tools.grading.nbgrader_validate",
    "cvlib.tools.nbgrader_feedback.preprocessors": "cvlib.tools.grading.nbgrader_feedback",
}


@pytest.mark.parametrize("old", sorted(tools.MOVED))
def test_an_old_path_imports_the_moved_module_itself(old):
    moved = importlib.import_module(f"cvlib.tools.{tools.MOVED[old]}.{old}")
    assert importlib.import_module(f"cvlib.tools.{old}") is moved
    assert getattr(tools, old) is moved  # `from cvlib.tools import myst_nb_stand_in` too


@pytest.mark.parametrize("string", sorted(OLD_CONFIG_STRINGS))
def test_an_old_nbgrader_config_string_names_the_same_object(string):
    name = string.rpartition(".")[2]
    expected = getattr(importlib.import_module(OLD_CONFIG_STRINGS[string]), name)
    assert import_item(string) is expected


def test_only_the_listed_old_paths_are_kept():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("cvlib.tools.release")  # moved too, named by no outside text
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("cvlib.tools.no_such_tool")


def test_nothing_in_the_repository_uses_an_old_path():
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    explained = {"cvlib/tools/__init__.py", "tests/test_tools.py"}  # they name the old paths
    old = re.compile(
        r"cvlib([./])tools\1(?!(?:grading|book|__init__)\b)\w+"
        r"|from cvlib\.tools import (?!(?:grading|book)\b)\w+"
    )
    found = []
    for name in tracked:
        path = ROOT / name
        if name in explained or not path.is_file() or path.suffix in {".pt", ".png"}:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        found += [f"{name}: {m.group()}" for m in old.finditer(text)]
    assert not found, "\n".join(found)
