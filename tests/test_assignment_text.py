"""What the assignments' text tells students agrees with what grades them (issue 24).

- the cell time limit stated in every notebook is the configuration's ``c.Execute.timeout``;
- each autograded test cell opens with its points, each written question states its points, and
  the introduction's totals are the sums: all read from the cells' nbgrader metadata;
- a signature the text asks for (``Write `fine_tune(model, train_set, epochs=30)` ``) is the
  stub's;
- the introduction explains the seeds and the line that repeats a failing test;
- "Done?" is the last cell, after the written answers.

Checked on the sources (``solutions/``) and on the committed student versions (``assignments/``).
"""

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NAMES = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
NOTEBOOKS = [
    pytest.param(ROOT / folder / name / f"{name}.ipynb", id=f"{folder}/{name}")
    for folder in ("solutions", "assignments")
    for name in NAMES
]


def timeout():
    """``c.Execute.timeout`` of the course's nbgrader_config.py."""
    config = (ROOT / "nbgrader_config.py").read_text()
    (value,) = re.findall(r"^c\.Execute\.timeout = (\d+)$", config, re.M)
    return int(value)


def grading(cell):
    return cell.metadata.get("nbgrader", {})


def markdown(nb):
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_the_time_limit_is_the_configured_one(path):
    text = markdown(nbformat.read(path, as_version=4))
    stated = re.findall(r"every cell has (\d+) seconds", text)
    assert stated, "the introduction states the cell time limit"
    assert set(stated) == {str(timeout())}
    limits = re.findall(r"time limit \((\d+) seconds\)", text)
    assert set(limits) <= {str(timeout())}
    other = re.findall(r"\b(\d+) (?:s|seconds) (?:per cell|to run|when graded)", text)
    assert set(other) <= {str(timeout())}


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_points_stated_beside_each_answer_are_the_metadata(path):
    nb = nbformat.read(path, as_version=4)
    auto, written = 0, 0
    questions = {
        c.metadata["nbgrader"]["grade_id"].removesuffix("-question"): c.source
        for c in nb.cells
        if grading(c).get("grade_id", "").endswith("-question")
    }
    for cell in nb.cells:
        meta = grading(cell)
        if not meta.get("grade"):
            continue
        points = meta["points"]
        plural = "point" if points == 1 else "points"
        if cell.cell_type == "code":
            auto += points
            first = cell.source.splitlines()[0]
            assert first.startswith(f"# {points:g} {plural}: "), (meta["grade_id"], first)
        else:
            written += points
            question = questions[meta["grade_id"]]
            assert f"({points:g} {plural})." in question.split("\n")[0], question
    intro = nb.cells[0].source
    assert re.search(rf"\b{auto:g}(?: points)? (?:in total|from the tests)", intro), intro
    assert f"plus {written:g} for two short written answers" in intro


def signatures(nb):
    """``{name: "a, b, c=1"}`` of the functions the answer cells define (the stubs keep them)."""
    found = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and grading(cell).get("solution"):
            for line in cell.source.splitlines():
                match = re.match(r"def (\w+)\((.*)\):", line)
                if match:
                    found[match[1]] = match[2]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_signatures_in_the_text_are_the_stubs(path):
    nb = nbformat.read(path, as_version=4)
    stubs = signatures(nb)
    assert stubs
    text = markdown(nb)
    asked = re.findall(r"Write\s+`(\w+)\(([^`]*)\)`", text)
    asked += re.findall(r"^- `(\w+)\(([^`]*)\)`", text, re.M)
    assert asked
    for name, arguments in asked:
        arguments = " ".join(arguments.split())  # the text wraps long signatures
        if name in stubs and arguments != "...":
            assert arguments == stubs[name], (
                f"text: {name}({arguments}), stub: {name}({stubs[name]})"
            )
    for name, arguments in stubs.items():
        ast.parse(f"def {name}({arguments}): pass")


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_the_introduction_explains_the_seeds_and_the_recipe(path):
    intro = nbformat.read(path, as_version=4).cells[0].source
    assert "new random inputs (a new seed) every time they run" in intro
    assert "repeats the very same inputs" in intro
    assert "AssertionError" not in intro  # students see the check's own name (GradingFailure)


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_done_comes_last(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[-1].source.startswith("**Done?**")
    assert sum("**Done?**" in c.source for c in nb.cells) == 1
