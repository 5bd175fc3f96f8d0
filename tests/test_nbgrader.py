"""Real nbgrader round trips of the numpy assignments 1, 2 and 6 in scratch course directories.

One fixture does the expensive part once per assignment (both assignments in parallel, each in
its own course directory, through ``nbgrader_helpers.grade_assignment``, shared with the torch
assignments' tests): ``generate_assignment``, then every kind of submission below in
``submitted/``, one timed ``autograde`` of the solution, one ``autograde`` of all the others, and
``generate_feedback``. The tests then read the gradebook and the feedback.

Submissions (students): ``solution`` (the instructor's answers), ``blank`` (the student version
as released), ``revert-<answer>`` (the solution with that one answer back to its stub),
``loop`` (one answer loops forever), ``messy`` (answers that raise, write to stderr, return
wrong types or call the library, next to right ones), and issue 11's ``library``,
``alternative`` and ``wrong-<n>`` (``nbgrader_submissions``: every answer handed to a library
implementation, written differently but right, written with a plausible bug). Assignment 6
(the capstone, whose layers all feed one training run) has instead ``library``, ``wrong-1``
(ten bugs its training never meets) and one submission per knock-out
(``nbgrader_submissions.KNOCKOUTS``: bugs that must cost the trained network's points), and
reverts its answers in groups (``REVERT``).
"""

import csv
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbgrader_submissions as subs
import pytest
from nbgrader.api import Gradebook
from nbgrader_helpers import (
    LOOPING,
    capstone_submissions,
    check_fair_grading,
    check_full_marks_and_blank_zero,
    check_library,
    check_wrong,
    committed_matches_generated,
    error_outputs,
    fair_grading_submissions,
    grade_assignment,
    print_rows,
    was_stopped,
)

from cvlib.tools.grading.nbgrader_driver import nbgrader

pytestmark = pytest.mark.slow

ASSIGNMENTS = ("a6_capstone", "a1_convolution", "a2_backprop")  # the longest one first
# per cell, instead of the course's 120 s: an endless loop costs 20 s (assignment 6: 90 s, room
# for its training cells on a slow, busy machine: 4-6 s each here, training and scoring, and the
# 3-epoch recipe of half the cost took 30-32 s at load 6 on a machine 2.7 times slower)
TIMEOUT = {"a1_convolution": 20, "a2_backprop": 20, "a6_capstone": 90}

LOOP = {  # answer that loops forever -> its test cell, which alone must lose its points
    "a1_convolution": ("conv2d_single", "test_conv2d_single"),
    "a2_backprop": ("relu", "test_relu"),
    # the notebook's own gradient check calls it too (a second timeout), nothing graded does
    "a6_capstone": ("numerical_gradient", "test_numerical_gradient"),
}
# Assignment 6 reverts its 23 answers in 5 submissions, not 23: the answers of a group are
# never called by each other's tests (each test swaps the references in for the answers it
# uses), so each test still loses its points for its own answer alone. What the tests call:
# test_forward the student's block_forward, test_loss_and_grads forward, block_forward and
# block_backward, test_trained_network everything.
CAPSTONE_LAYERS = (
    "im2col", "col2im", "conv2d", "conv2d_backward", "max_pool2d", "max_pool2d_backward",
    "relu", "relu_backward", "batch_norm", "batch_norm_backward", "linear", "linear_backward",
    "cross_entropy", "sgd", "numerical_gradient", "predict", "gradient_check",
    "overfit_tiny_batch", "loss_and_grads",
)  # fmt: skip
REVERT = {
    "a6_capstone": [
        CAPSTONE_LAYERS,
        ("block_forward",),
        ("block_backward",),
        ("forward",),
        ("train",),
    ]
}
# answer -> the test cell that guards it, where the names differ
GUARD = {
    "block_forward": "test_forward",
    "block_backward": "test_loss_and_grads",
    "train": "test_trained_network",
}

MESSY = {
    "a1_convolution": {
        "answers": {
            # right, but chatty on stderr and warns: full points
            "zero_pad": "import sys\nimport warnings\nprint('defining zero_pad', file=sys.stderr)\n"
            "def zero_pad(x, padding):\n"
            "    print('padding', padding, file=sys.stderr)\n"
            "    warnings.warn('just a warning')\n"
            "    ph, pw = (padding, padding) if isinstance(padding, int) else padding\n"
            "    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])"
            ".astype(float)",
            "output_size": "def output_size(n, kernel_size, stride=1, padding=0):\n"
            "    return (n + 2 * padding - kernel_size) / stride + 1",
            "conv2d_single": "def conv2d_single(x, weight):\n    return x[100, 100] * weight",
            "conv2d_multi": "def conv2d_multi(x, weight, bias=None, stride=1, padding=0):\n"
            "    return [[0.0]]",
            # a library call (in a cell that also prints): the message names it
            "apply_filters": "import cvlib.conv\n"
            "def apply_filters(image, names):\n"
            "    w = np.stack([kernels.kernel(n) for n in names])[:, None]\n"
            "    return cvlib.conv.conv2d(image[None], w, padding=1)",
        },
        # conv2d_strided is right but calls the broken output_size: graded on its own (the check
        # swaps in the reference output_size), it keeps its points
        "passing": {
            "test_zero_pad",
            "test_conv2d_strided",
            "test_dense_params",
            "test_conv_params",
        },
        "messages": [
            "should be an int",
            "raised IndexError",
            "should be a numpy array",
            # graded in the answers' box, where cvlib's convolution is absent
            "conv is not available to this assignment",
        ],
    },
    "a2_backprop": {
        "answers": {
            "max_pool2d": "import sys\n"
            "def max_pool2d(x, kernel_size, stride=None):\n"
            "    print('pooling', x.shape, file=sys.stderr)\n"
            "    s = stride or kernel_size\n"
            "    k = (kernel_size, kernel_size)\n"
            "    windows = np.lib.stride_tricks.sliding_window_view(x, k, axis=(2, 3))\n"
            "    return windows[:, :, ::s, ::s].max(axis=(4, 5))",
            "min_pool2d": "def min_pool2d(x, kernel_size, stride=None):\n"
            "    raise RuntimeError('min pooling is not my thing')",
            "avg_pool2d": "def avg_pool2d(x, kernel_size, stride=None, padding=0):\n"
            "    return np.zeros((1, 1, 1, 1), dtype=int)",
            "softmax": "def softmax(z):\n    e = np.exp(z)\n"
            "    return e / e.sum(axis=-1, keepdims=True)",
            "cross_entropy": "def cross_entropy(logits, target):\n"
            "    shifted = logits - logits.max(axis=1, keepdims=True)\n"
            "    return -(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))).mean()",
        },
        "passing": {
            "test_max_pool2d",
            "test_relu",
            "test_max_pool2d_backward",
            "test_conv2d_backward",
            "test_train_step",
        },
        "messages": [
            "min pooling is not my thing",
            "dtype int64",
            "subtract each row",
            "tuple (loss, dlogits)",
        ],
    },
}


def _grade(name, course):
    """Everything nbgrader does for one assignment; returns timings, scores and paths."""
    loop_answer, _ = LOOP[name]
    extra = {"loop": {loop_answer: LOOPING.format(name=loop_answer)}}
    if name == "a6_capstone":
        extra |= capstone_submissions()
    else:
        extra |= {"messy": MESSY[name]["answers"], **fair_grading_submissions(name)}
    return grade_assignment(
        name,
        course,
        extra=extra,
        feedback_for="messy" if name in MESSY else "knockout-batch-norm",
        revert=REVERT.get(name),
        **{"Execute.timeout": TIMEOUT[name]},
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbgrader")
    with ThreadPoolExecutor(max_workers=2) as pool:  # assignment 6 alongside 1 then 2
        futures = {n: pool.submit(_grade, n, root / n) for n in ASSIGNMENTS}
        results = {n: f.result() for n, f in futures.items()}
    for name, r in results.items():
        print(
            f"\n{name}: autograding one submission (the solution) took {r['seconds']:.1f} s; "
            f"{r['submissions']} more in {r['batch_seconds']:.1f} s (both assignments graded "
            "in parallel on a shared machine: indicative figures; target < 60 s)"
        )
    return results


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_committed_student_version_is_in_sync(graded, name):
    committed_matches_generated(name, graded[name]["course"])


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_gets_full_marks_and_blank_gets_zero(graded, name):
    check_full_marks_and_blank_zero(graded[name])
    assert graded[name]["seconds"] < 60 * 3  # the 60 s target is printed, not timed-tested


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_answer_is_guarded(graded, name):
    scores = graded[name]["scores"]
    full = scores["solution"][1]
    for answer in graded[name]["answers"]:
        score, _, grades = scores[graded[name]["reverted"][answer]]
        test_id = GUARD.get(answer, f"test_{answer}")
        assert score < full, f"leaving `{answer}` blank costs no points"
        assert grades[test_id] == 0, f"{test_id} passes without its answer"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_endless_loop_costs_only_its_own_points(graded, name):
    scores = graded[name]["scores"]
    full, _, full_grades = scores["solution"]
    score, _, grades = scores["loop"]
    _, test_id = LOOP[name]
    assert grades[test_id] == 0
    assert score == full - full_grades[test_id]
    errors = error_outputs(graded[name]["course"], "loop", name, graded[name]["filename"])
    assert was_stopped(errors), errors


@pytest.mark.parametrize("name", sorted(MESSY))
def test_messy_submission_gets_partial_credit_and_readable_feedback(graded, name):
    scores = graded[name]["scores"]
    score, _, grades = scores["messy"]
    full_grades = scores["solution"][2]
    passing = {k for k, v in grades.items() if v and v == full_grades[k]}
    assert passing == MESSY[name]["passing"], grades
    assert score == sum(full_grades[k] for k in passing)
    assert graded[name]["feedback_returncode"] == 0
    html = Path(graded[name]["course"]) / "feedback" / "messy" / name
    (page,) = html.glob("*.html")
    text = page.read_text()
    for message in MESSY[name]["messages"]:
        assert message in text, f"feedback lacks {message!r}"
    # every word: the line that repeats a failing test is on the page whole, and the page wraps
    # long lines (pre-wrap) instead of cutting them
    assert re.search(r"\(To repeat exactly this test[^`<]*: `[^`<]*seed=\d+[^`<]*`\.\)", text)
    assert "white-space: pre-wrap" in text


@pytest.mark.parametrize("name", sorted(MESSY))
def test_the_grading_is_fair_to_own_work_and_only_to_own_work(graded, name):
    check_fair_grading(graded[name], name)


def test_capstone_library_answers_and_bugs_that_training_never_meets(graded):
    """Assignment 6: answers handed to cvlib or PyTorch lose their points (and the trained
    network's: predict runs them); ten bugs that the training never meets, in one submission,
    cost exactly their own answers' points, the trained network keeps its 5."""
    name = "a6_capstone"
    check_library(graded[name], name, may_also_lose={"test_trained_network"})
    print_rows(name, check_wrong(graded[name], name, "wrong-1", subs.WRONG[name][0]))


def test_capstone_knockouts_lose_the_trained_network_points(graded):
    """A transposed kernel gradient, a batch norm ignoring its running statistics at evaluation:
    each loses its own test's points AND the trained network's, with a hint that says why."""
    name = "a6_capstone"
    rows = []
    for student, (submission, message) in subs.KNOCKOUTS.items():
        also = {"test_trained_network": message}
        rows += check_wrong(graded[name], name, student, submission, also=also)
    assert {row[1] for row in rows} == {"conv2d_backward", "batch_norm", "test_trained_network"}
    print_rows(name, rows)


def test_written_answers_graded_by_hand_reach_the_export_and_survive_regrading(graded):
    """As formgrader does (its API handler's three assignments): manual scores and a comment
    for the solution's written answers of assignment 1; ``nbgrader export`` adds them to the
    autograded points, and autograding the submission again keeps them."""
    name = "a1_convolution"
    course, manual = graded[name]["course"], graded[name]["manual"]
    notebook = graded[name]["filename"].removesuffix(".ipynb")
    auto_score, max_score, _ = graded[name]["scores"]["solution"]
    given = dict(zip(manual, (2.0, 1.5), strict=True))  # the second answer loses half a point
    url = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(url) as gb:
        for grade_id, points in given.items():
            grade = gb.find_grade(grade_id, notebook, name, "solution")
            assert grade.needs_manual_grade and grade.auto_score is None
            grade.manual_score, grade.needs_manual_grade = points, False
            comment = gb.find_comment(grade_id, notebook, name, "solution")
            comment.manual_comment = "Right reason; the border effect is missing."
        gb.db.commit()

    def exported():
        export = course / "grades.csv"
        nbgrader(course, "export", "--to", str(export))
        rows = [r for r in csv.DictReader(export.open()) if r["assignment"] == name]
        return {r["student_id"]: (float(r["score"]), float(r["max_score"])) for r in rows}

    assert exported()["solution"] == (auto_score + 3.5, max_score)
    nbgrader(course, "autograde", name, "--student", "solution", "--force")
    assert exported()["solution"] == (auto_score + 3.5, max_score)
    with Gradebook(url) as gb:
        for grade_id, points in given.items():
            assert gb.find_grade(grade_id, notebook, name, "solution").manual_score == points
            comment = gb.find_comment(grade_id, notebook, name, "solution").manual_comment
            assert comment.startswith("Right reason")
