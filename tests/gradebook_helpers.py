"""A tiny nbgrader assignment, PostgreSQL and sandbox fixtures for the large-class tests.

The assignment ``tiny`` has three answers (``output_size`` 1 point, ``zero_pad`` 2 points,
``dense_params`` 1 point). With ``checks="cvlib"`` its test cells call ``cvlib.grading`` as the
course's assignments do (so hostile submissions attack the real helpers); with ``checks="plain"``
they are bare asserts on hand-computed values (no torch import in the kernel: fast enough to grade
dozens of submissions in a test).
"""

import os

import nbformat
import pytest

from cvlib.tools.grading import demo, release
from cvlib.tools.grading.nbgrader_driver import nbgrader
from cvlib.tools.grading.pgserver import PostgresServer, PostgresUnavailable
from cvlib.tools.grading.sandbox import SandboxUnavailable, check

ASSIGNMENT = "tiny"
FILENAME = "tiny.ipynb"
POINTS = {"test_output_size": 1, "test_zero_pad": 2, "test_dense_params": 1}
FULL = sum(POINTS.values())

ANSWERS = {
    "output_size": "def output_size(n, kernel_size, stride=1, padding=0):\n"
    "    return (n + 2 * padding - kernel_size) // stride + 1",
    "zero_pad": "def zero_pad(x, padding):\n"
    "    ph, pw = (padding, padding) if isinstance(padding, int) else padding\n"
    "    out = np.zeros((*x.shape[:-2], x.shape[-2] + 2 * ph, x.shape[-1] + 2 * pw))\n"
    "    out[..., ph:ph + x.shape[-2], pw:pw + x.shape[-1]] = x\n"
    "    return out",
    "dense_params": "def dense_params(in_features, out_features):\n"
    "    return in_features * out_features + out_features",
}

CVLIB_TESTS = {
    "output_size": ("check_output_size", "output_size"),
    "zero_pad": ("check_pad2d", "zero_pad"),
    "dense_params": ("check_dense_params", "dense_params"),
}

PLAIN_TESTS = {
    "output_size": (
        "assert output_size(5, 3) == 3\nassert output_size(7, 3, stride=2) == 3",
        "assert output_size(32, 5, stride=1, padding=2) == 32\n"
        "assert output_size(6, 3, stride=2) == 2",
    ),
    "zero_pad": (
        "y = zero_pad(np.ones((2, 3)), 1)\nassert y.shape == (4, 5)\n"
        "assert y.sum() == 6 and y[0].sum() == 0",
        "y = zero_pad(np.arange(24.0).reshape(2, 3, 4) + 1, (1, 2))\n"
        "assert y.shape == (2, 5, 8) and y.sum() == 300 and y[:, 0].sum() == 0",
    ),
    "dense_params": (
        "assert dense_params(784, 10) == 7850",
        "assert dense_params(3, 2) == 8 and dense_params(1, 1) == 2",
    ),
}


def _meta(grade_id, solution=False, points=None):
    meta = {
        "grade": points is not None,
        "solution": solution,
        "locked": not solution,
        "grade_id": grade_id,
        "schema_version": 3,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook(checks="cvlib"):
    """The instructor's notebook of ``tiny``: imports, then answer + test cell per answer."""
    if checks not in ("cvlib", "plain"):
        raise ValueError(f"checks must be 'cvlib' or 'plain', got {checks!r}")
    cells = [nbformat.v4.new_code_cell("import numpy as np", metadata=_meta("imports"))]
    for answer, code in ANSWERS.items():
        head, body = code.split("\n", 1)
        solution = f"{head}\n    ### BEGIN SOLUTION\n{body}\n    ### END SOLUTION"
        cells.append(nbformat.v4.new_code_cell(solution, metadata=_meta(answer, solution=True)))
        if checks == "cvlib":
            check, name = CVLIB_TESTS[answer]
            test = (
                f"from cvlib.grading import {check}\n\n{check}({name})\n"
                f"### BEGIN HIDDEN TESTS\n{check}({name}, hidden=True)\n"
                "### END HIDDEN TESTS"
            )
        else:
            visible, hidden = PLAIN_TESTS[answer]
            test = f"{visible}\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS"
        test_id = f"test_{answer}"
        cells.append(
            nbformat.v4.new_code_cell(test, metadata=_meta(test_id, points=POINTS[test_id]))
        )
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata.kernelspec = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return notebook


def make_tiny_course(course, checks="cvlib", db_url=None, timeout=10, **config):
    """A scratch course with ``tiny`` generated (into the gradebook at ``db_url`` if given);
    ``config`` adds settings (``{"Section.trait": value}``) to its nbgrader_config.py."""
    course.mkdir(parents=True, exist_ok=True)
    overrides = {"Execute.timeout": timeout, **config}
    if db_url:
        overrides["CourseDirectory.db_url"] = db_url
    release.write_course_config(course, **overrides)
    folder = course / "source" / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(source_notebook(checks), folder / FILENAME)
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    return course


def submit(course, student, answers=None):
    """Submit ``tiny`` for ``student``: the solution except ``answers`` (grade_id -> source)."""
    rel = demo.notebooks_of(course, ASSIGNMENT, "release")[FILENAME]
    src = demo.notebooks_of(course, ASSIGNMENT, "source")[FILENAME]
    notebook = demo.student_notebook(rel, src, answers)
    return demo.submit(course, student, ASSIGNMENT, {FILENAME: notebook})


BLANK = dict.fromkeys(ANSWERS)  # every answer left as the stub
KINDS = {  # submission kind -> (answers, expected score)
    "full": ({}, FULL),
    "partial": ({"zero_pad": None}, FULL - POINTS["test_zero_pad"]),
    "wrong": (
        {
            "output_size": "def output_size(n, kernel_size, stride=1, padding=0):\n"
            "    return (n + 2 * padding - kernel_size) // stride"
        },
        FULL - POINTS["test_output_size"],
    ),
    "blank": (BLANK, 0),
}


@pytest.fixture(scope="module")
def postgres():
    """A scratch PostgreSQL server for the module; skip (or fail under CVLIB_REQUIRE_POSTGRES=1)."""
    try:
        server = PostgresServer().start()
    except (PostgresUnavailable, OSError) as error:
        message = f"cannot start a PostgreSQL server: {error}"
        if os.environ.get("CVLIB_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " (CVLIB_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(message + " (set CVLIB_REQUIRE_POSTGRES=1 to make this an error)")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sandbox():
    """bubblewrap works here; skip (or fail under CVLIB_REQUIRE_SANDBOX=1) when it does not."""
    try:
        check()
    except (SandboxUnavailable, OSError) as error:
        message = f"cannot build a grading box: {error}"
        if os.environ.get("CVLIB_REQUIRE_SANDBOX") == "1":
            pytest.fail(message + " (CVLIB_REQUIRE_SANDBOX=1)", pytrace=False)
        pytest.skip(message + " (set CVLIB_REQUIRE_SANDBOX=1 to make this an error)")
