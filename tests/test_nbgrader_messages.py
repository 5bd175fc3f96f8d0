"""Students see every word of a test's message where they check their work (issue 24).

- ``nbgrader validate``: nbgrader's own validator cuts each printed line at 87 characters; the
  course's configuration installs
  :class:`cvlib.tools.grading.nbgrader_validate.FullMessageValidator`, which does not. The test
  runs the real command on a release notebook with a wrong answer and looks for the whole hint
  and the whole line that repeats the test.
- the feedback page (``nbgrader generate_feedback``) wraps long lines instead of hiding them
  behind a scroll bar (:mod:`cvlib.tools.grading.nbgrader_feedback`).
"""

import re
import subprocess
import sys

import nbformat
import pytest

from cvlib.tools.grading import demo
from cvlib.tools.grading.nbgrader_driver import nbgrader
from cvlib.tools.grading.nbgrader_feedback import WRAP_CSS, WrapLongLines, preprocessors
from cvlib.tools.grading.nbgrader_validate import FullMessageValidator

# zero_pad with the pair read the wrong way round: (pad_W, pad_H)
SWAPPED_PAIR = """\
def zero_pad(x, padding):
    pad_h, pad_w = (padding, padding) if isinstance(padding, int) else padding
    widths = [(0, 0)] * (x.ndim - 2) + [(pad_w, pad_w), (pad_h, pad_h)]
    return np.pad(x.astype(float), widths)
"""
HINT = "Hint: The pair is (pad_H, pad_W): the first number pads rows (height), the second columns."
RECIPE = re.compile(r"\(To repeat exactly this test: `check_pad2d\(zero_pad, seed=\d+\)`\.\)")


def test_indent_never_cuts_a_line():
    line = "x" * 500
    validator = FullMessageValidator()
    assert validator._indent(f"{line}\n\x1b[31mred\x1b[0m") == f"    {line}\n    red"


def wrong_zero_pad(course):
    """A course with assignment 1 released and a student notebook whose zero_pad swaps the
    pair: ``(course, filename, notebook)``."""
    nbgrader(course, "generate_assignment", "a1_convolution", "--force")
    releases = demo.notebooks_of(course, "a1_convolution", "release")
    sources = demo.notebooks_of(course, "a1_convolution", "source")
    (filename,) = releases
    student = demo.student_notebook(
        releases[filename], sources[filename], {"zero_pad": SWAPPED_PAIR}
    )
    return filename, student


@pytest.mark.timeout(300)
def test_validate_prints_the_whole_hint_and_recipe(tmp_path):
    course = demo.make_course(tmp_path / "course", ["a1_convolution"])
    filename, student = wrong_zero_pad(course)
    path = tmp_path / filename
    nbformat.write(student, path)

    # as a student runs it, in the course's folder (the driver adds options validate lacks)
    command = [sys.executable, "-m", "nbgrader", "validate", str(path)]
    result = subprocess.run(command, cwd=course, capture_output=True, text=True, timeout=240)

    out = result.stdout
    assert "VALIDATION FAILED ON 1 CELL(S)!" in out, out
    lines = [line.strip() for line in out.splitlines()]
    assert HINT in lines, out
    assert any(RECIPE.fullmatch(line) for line in lines), out
    assert not any(line.endswith("...") for line in lines if "check_pad2d" in line), out


def test_the_feedback_preprocessors_add_the_wrapping_style():
    names = [p.__name__ for p in preprocessors()]
    assert names == ["GetGrades", "CSSHTMLHeaderPreprocessor", "WrapLongLines"]
    _, resources = WrapLongLines().preprocess(None, {"inlining": {"css": ["body {}"]}})
    assert resources["inlining"]["css"] == ["body {}", WRAP_CSS]


@pytest.mark.timeout(600)
def test_feedback_page_shows_the_whole_message_wrapped(tmp_path):
    course = demo.make_course(tmp_path / "course", ["a1_convolution"])
    filename, student = wrong_zero_pad(course)
    demo.submit(course, "alice", "a1_convolution", {filename: student})
    nbgrader(course, "autograde", "a1_convolution")
    nbgrader(course, "generate_feedback", "a1_convolution")

    (page,) = (course / "feedback" / "alice" / "a1_convolution").glob("*.html")
    text = page.read_text()
    assert HINT in text
    assert RECIPE.search(text)  # the visible test fails first
    assert WRAP_CSS in text
