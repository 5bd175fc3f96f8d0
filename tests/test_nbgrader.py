"""Real nbgrader round trips of assignments 1 and 2 in scratch course directories.

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
implementation, written differently but right, written with a plausible bug).
"""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from nbgrader_helpers import (
    LOOPING,
    check_fair_grading,
    committed_matches_generated,
    error_outputs,
    fair_grading_submissions,
    grade_assignment,
)

pytestmark = pytest.mark.slow

ASSIGNMENTS = ("a1_convolution", "a2_backprop")
TIMEOUT = 20  # per cell, instead of the course's 60 s: the endless loop costs 20 s here

LOOP = {  # answer that loops forever -> its test cell, which alone must lose its points
    "a1_convolution": ("conv2d_single", "test_conv2d_single"),
    "a2_backprop": ("relu", "test_relu"),
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
            "called `cvlib.conv.conv2d`",
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
    extra = {
        "loop": {loop_answer: LOOPING.format(name=loop_answer)},
        "messy": MESSY[name]["answers"],
        **fair_grading_submissions(name),
    }
    return grade_assignment(
        name, course, extra=extra, feedback_for="messy", **{"Execute.timeout": TIMEOUT}
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbgrader")
    with ThreadPoolExecutor(max_workers=2) as pool:
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
    scores = graded[name]["scores"]
    score, max_score, grades = scores["solution"]
    assert max_score > 0 and score == max_score, grades
    blank_score, _, blank_grades = scores["blank"]
    assert blank_score == 0, {k: v for k, v in blank_grades.items() if v}
    assert graded[name]["seconds"] < 60 * 3  # the 60 s target is printed, not timed-tested


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_answer_is_guarded(graded, name):
    scores = graded[name]["scores"]
    full = scores["solution"][1]
    for answer in graded[name]["answers"]:
        score, _, grades = scores[f"revert-{answer}"]
        assert score < full, f"leaving `{answer}` blank costs no points"
        assert grades[f"test_{answer}"] == 0, f"test_{answer} passes without its answer"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_endless_loop_costs_only_its_own_points(graded, name):
    scores = graded[name]["scores"]
    full, _, full_grades = scores["solution"]
    score, _, grades = scores["loop"]
    _, test_id = LOOP[name]
    assert grades[test_id] == 0
    assert score == full - full_grades[test_id]
    errors = error_outputs(graded[name]["course"], "loop", name, graded[name]["filename"])
    assert errors and any(e.ename in ("KeyboardInterrupt", "CellTimeoutError") for e in errors)


@pytest.mark.parametrize("name", ASSIGNMENTS)
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


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_grading_is_fair_to_own_work_and_only_to_own_work(graded, name):
    check_fair_grading(graded[name], name)
