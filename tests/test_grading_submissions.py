"""Issue 11 in process: every graded answer of every assignment, handed to a library, written
differently, or written with a plausible bug, through the notebook's own test cells.

The notebooks' cells run in this process (``nbgrader_submissions.run_in_process``, hidden tests
included), which takes seconds; ``tests/test_nbgrader*.py`` grade the same submissions with real
nbgrader. Assignments 3 to 5 train networks in their test cells: those tests are marked slow.
"""

import sys

import pytest
from nbgrader_submissions import (
    ALTERNATIVE,
    LIBRARY,
    WRONG,
    answers,
    graded_cell,
    messages,
    run_in_process,
    solutions,
)

NUMPY = ("a1_convolution", "a2_backprop")
TORCH = ("a3_cnn", "a4_transfer", "a5_detection")
ALL = [*NUMPY, *(pytest.param(name, marks=pytest.mark.slow) for name in TORCH)]


@pytest.mark.parametrize("name", ALL)
def test_every_answer_handed_to_a_library_fails_naming_the_call(name):
    results = run_in_process(
        name, answers(name, {g: (s, m) for g, (s, m) in LIBRARY[name].items()})
    )
    assert set(LIBRARY[name]) == set(solutions(name)), "every graded answer has a library version"
    for grade_id, (_, call) in LIBRARY[name].items():
        message = results[graded_cell(grade_id)]
        assert message is not None, f"{grade_id}: the library answer passed"
        assert f"called `{call}" in message, message
        assert "Traceback" not in message
    assert sys.getprofile() is None  # no trip-wire left behind


@pytest.mark.parametrize("name", ALL)
def test_correct_answers_written_differently_get_full_marks(name):
    assert set(ALTERNATIVE[name]) == set(solutions(name))
    results = run_in_process(name, ALTERNATIVE[name])
    assert results and all(m is None for m in results.values()), results


@pytest.mark.parametrize("name", ALL)
def test_the_solution_gets_full_marks(name):
    results = run_in_process(name)
    assert results and all(m is None for m in results.values()), results


@pytest.mark.parametrize("name", ALL)
def test_each_plausible_bug_costs_its_own_answer_and_says_why(name):
    for submission in WRONG[name]:
        results = run_in_process(name, answers(name, submission))
        expected = messages(submission)
        for test, message in results.items():
            if test in expected:
                assert message is not None and expected[test] in message, (test, message)
            else:
                assert message is None, f"{test} lost points for another answer's bug: {message}"
