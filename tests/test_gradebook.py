"""Grading a large class: SQLite and PostgreSQL gradebooks, parallel autograding, hostile work.

Every test runs the real ``nbgrader`` on the tiny assignment of ``gradebook_helpers`` in a scratch
course directory; the PostgreSQL tests use a real server started on loopback for this module
(skipped when PostgreSQL is not installed, an error under ``CVLIB_REQUIRE_POSTGRES=1``).
"""

import csv
import time

import pytest
from gradebook_helpers import (
    ANSWERS,
    ASSIGNMENT,
    FULL,
    KINDS,
    POINTS,
    make_tiny_course,
    postgres,  # noqa: F401  (the module's PostgreSQL fixture)
    sandbox,  # noqa: F401  (bubblewrap works here)
    submit,
)
from nbgrader.api import Gradebook

from cvlib.tools.grading.autograde_class import autograde_class, summary
from cvlib.tools.grading.nbgrader_driver import nbgrader
from cvlib.tools.grading.sandbox import Limits
from cvlib.tools.grading.scores import read_scores

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'course' / 'gradebook.db'}"
    server = request.getfixturevalue("postgres")
    return server.create_database("gradebook_roundtrip")


def test_gradebook_autograde_manual_grades_survive_and_export(db_url, tmp_path):
    course = make_tiny_course(tmp_path / "course", checks="plain", db_url=db_url)
    for kind in ("full", "partial"):
        submit(course, kind, KINDS[kind][0])
    nbgrader(course, "autograde", ASSIGNMENT)
    scores = read_scores(db_url, ASSIGNMENT)
    assert {s: v[0] for s, v in scores.items()} == {"full": FULL, "partial": KINDS["partial"][1]}
    assert scores["full"][2] == {k: float(v) for k, v in POINTS.items()}

    # An instructor gives partial credit by hand and a bonus point, then the class is regraded.
    with Gradebook(db_url) as gb:
        grade = gb.find_grade("test_zero_pad", "tiny", ASSIGNMENT, "partial")
        assert grade.auto_score == 0
        grade.manual_score = 1.5
        grade.extra_credit = 1.0
        gb.db.commit()
    submit(course, "partial", KINDS["partial"][0])  # handed in again, same answers
    nbgrader(course, "autograde", ASSIGNMENT, "--student", "partial", "--force")
    with Gradebook(db_url) as gb:
        grade = gb.find_grade("test_zero_pad", "tiny", ASSIGNMENT, "partial")
        assert (grade.auto_score, grade.manual_score, grade.extra_credit) == (0, 1.5, 1.0)
        assert grade.score == 1.5 + 1.0  # a grade's score counts its extra credit
        submission = gb.find_submission(ASSIGNMENT, "partial")
        expected_partial = KINDS["partial"][1] + 1.5 + 1.0
        assert submission.score == expected_partial

    nbgrader(course, "export", "--to", str(tmp_path / "grades.csv"))
    with open(tmp_path / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == ["full", "partial"]
    assert float(rows["full"]["score"]) == FULL
    assert float(rows["partial"]["score"]) == expected_partial
    assert {float(r["max_score"]) for r in rows.values()} == {FULL}
    assert {r["assignment"] for r in rows.values()} == {ASSIGNMENT}


def test_parallel_autograding_on_postgresql_loses_no_grade(postgres, sandbox, tmp_path):  # noqa: F811
    url = postgres.create_database("gradebook_class")
    course = make_tiny_course(tmp_path / "course", checks="plain", db_url=url)
    kinds = list(KINDS)
    students = {f"s{i:02d}-{kinds[i % len(kinds)]}": kinds[i % len(kinds)] for i in range(32)}
    for student, kind in students.items():
        submit(course, student, KINDS[kind][0])
    start = time.perf_counter()
    # no db_url: the course's nbgrader_config.py names the PostgreSQL gradebook
    outcomes = autograde_class(course, ASSIGNMENT, jobs=3, timeout=300, progress=False)
    seconds = time.perf_counter() - start
    print(
        f"\n{summary(outcomes, seconds)}\n(32 submissions, 3 local workers, boxed, shared 2-core "
        "machine: indicative)"
    )
    assert [o.student for o in outcomes] == sorted(students)
    for outcome in outcomes:
        assert outcome.status == "graded", outcome
        assert outcome.score == KINDS[students[outcome.student]][1], outcome
        assert set(outcome.grades) == set(POINTS), outcome
    with Gradebook(url) as gb:  # one row per student and notebook, no duplicates
        assert len(gb.students) == 32
        assert len(gb.assignment_submissions(ASSIGNMENT)) == 32


FAKE_PAD = (
    "def zero_pad(x, padding):\n"  # the right shape, all zeros: passes only if checks lie
    "    ph, pw = (padding, padding) if isinstance(padding, int) else padding\n"
    "    return np.zeros((*x.shape[:-2], x.shape[-2] + 2 * ph, x.shape[-1] + 2 * pw))\n"
)

HOSTILE = {  # student -> answers replacing the solution (the rest is the instructor's solution)
    "exit": {"zero_pad": "import os\nos._exit(3)"},
    "kill": {"zero_pad": "import os\ndef zero_pad(x, padding):\n    os.kill(os.getpid(), 9)"},
    "memory": {
        "zero_pad": "def zero_pad(x, padding):\n    hog = []\n    while True:\n"
        "        hog.append(np.ones(10**7))"
    },
    "cheat-numpy": {
        "zero_pad": "np.testing.assert_allclose = lambda *a, **k: None\n"
        "np.allclose = lambda *a, **k: True\n"
        "np.abs = lambda x: np.zeros(np.shape(x))\n" + FAKE_PAD
    },
    "cheat-module": {
        "zero_pad": "import sys\nimport cvlib.grading\n"
        "try:\n    cvlib.grading.check_pad2d = lambda *a, **k: None\n"
        "except AttributeError:\n    pass\n"
        "vars(sys.modules['cvlib.grading'])['check_pad2d'] = "
        "lambda *a, **k: None\n"
        "vars(sys.modules['cvlib.grading.checks'])['compare_arrays'] = "
        "lambda *a, **k: None\n" + FAKE_PAD
    },
    "cheat-builtins": {
        "zero_pad": "import builtins\n_real = isinstance\n"
        "builtins.isinstance = lambda *a: True\n" + FAKE_PAD
    },
}


def test_hostile_submissions_do_not_hurt_the_others_and_earn_nothing(postgres, sandbox, tmp_path):  # noqa: F811
    url = postgres.create_database("gradebook_hostile")
    course = make_tiny_course(tmp_path / "course", checks="cvlib", db_url=url, timeout=30)
    for student in ("honest-a", "honest-b"):
        submit(course, student)
    for student, answers in HOSTILE.items():
        submit(course, student, answers)
    limits = Limits(memory_mb=2048)  # resident: torch's import reserves more, uses ~0.4 GB
    outcomes = autograde_class(
        course, ASSIGNMENT, db_url=url, jobs=2, timeout=300, limits=limits, progress=False
    )
    print(f"\n{summary(outcomes)}")
    by = {o.student: o for o in outcomes}
    for student in ("honest-a", "honest-b"):  # graded as if alone
        assert by[student].status == "graded" and by[student].score == FULL, by[student]
    # The kernel died: nbgrader reports the submission as failed and no test after it scores.
    assert "the kernel exited with code 3" in by["exit"].message
    assert "the kernel was killed by signal 9" in by["kill"].message
    for student in ("exit", "kill"):
        assert by[student].status == "failed", by[student]
        assert by[student].grades.get("test_zero_pad", 0) == 0
        assert by[student].grades.get("test_dense_params", 0) == 0
    # The memory limit stops the hog in its own cell; grading goes on with the next answer.
    assert by["memory"].status == "graded" and by["memory"].stopped_by == ["memory"]
    assert by["memory"].grades == {
        "test_output_size": 1,
        "test_zero_pad": 0,
        "test_dense_params": 1,
    }
    # Tampering earns nothing from then on (the kernel may even break, e.g. with isinstance).
    for student in ("cheat-numpy", "cheat-module", "cheat-builtins"):
        grades = by[student].grades
        assert grades.get("test_zero_pad", 0) == 0, by[student]
        assert grades.get("test_dense_params", 0) == 0, by[student]
    feedback = course / "autograded" / "cheat-module" / ASSIGNMENT / "tiny.ipynb"
    assert "grading environment was modified" in feedback.read_text()
    assert set(ANSWERS) == {"output_size", "zero_pad", "dense_params"}
