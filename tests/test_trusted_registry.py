"""Each assignment's trusted test cells are decided in the grader (issue 20), with real nbgrader.

The submission ``forger`` (:func:`nbgrader_submissions.forger`) answers nothing and makes its own
process serve a ``cvlib.grading`` whose checks all pass. Decided in the kernel, as plain nbgrader
decides, that earns most of assignment 2's points (the control); decided by
:class:`cvlib.tools.grading.trusted_execute.TrustedExecute`, every test cell the registry lists
earns nothing, in every assignment that has such cells.
"""

import pytest
from nbgrader_submissions import forger

from cvlib.grading import registry
from cvlib.tools.grading import demo
from cvlib.tools.grading.nbgrader_driver import nbgrader
from cvlib.tools.grading.scores import read_scores, sqlite_url

pytestmark = pytest.mark.slow

TRUSTED = [a.name for a in registry.ASSIGNMENTS.values() if a.trusted is None or a.trusted]


def _forger_grades(course, name, **overrides):
    demo.make_course(course, [name], **overrides)
    nbgrader(course, "generate_assignment", name, "--force")
    releases = demo.notebooks_of(course, name, "release")
    sources = demo.notebooks_of(course, name, "source")
    notebooks = {
        f: demo.student_notebook(nb, sources[f], forger(name)) for f, nb in releases.items()
    }
    demo.submit(course, "forger", name, notebooks)
    nbgrader(course, "autograde", name, "--student", "forger")
    return read_scores(sqlite_url(course), name)["forger"][2]


def test_the_forgery_works_where_the_kernel_decides(tmp_path):
    grades = _forger_grades(
        tmp_path / "a2", "a2_backprop", **{"TrustedExecute.decide_in_kernel": True}
    )
    assert sum(grades.values()) >= 10, grades  # the control: the attack is real


@pytest.mark.parametrize("name", TRUSTED)
def test_the_forgery_earns_nothing_where_the_grader_decides(tmp_path, name):
    assignment = registry.find(name)
    grades = _forger_grades(tmp_path / name, name)
    decided = {test: points for test, points in grades.items() if assignment.decides(test)}
    assert any(test.startswith("test_") for test in decided), grades
    assert not any(decided.values()), decided
