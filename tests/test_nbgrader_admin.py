"""What broke for an instructor following the guide in one course folder (issue 21), with nbgrader.

- ``nbgrader generate_assignment --force`` in the repository never deletes the committed student
  notebooks (``assignments/``), even when nbgrader then refuses because of submissions;
- ``zip_collect`` of a Moodle download where a student uploaded twice keeps the later copy, and
  two copies it cannot order stop it with both file names;
- ``release_feedback`` releases the class grader's "not graded" page through the exchange;
- a submission whose grading task was lost with its workers is in the gradebook and told;
- the instructor's outputs (``grades.csv``, the LMS exports, ``downloaded/``) are ignored by git;
- the exchange folder is the one the guide names, and the guide names only real commands.
"""

import shutil
import subprocess

import nbformat
import pytest
from env_helpers import ROOT
from gradebook_helpers import ASSIGNMENT, FILENAME, make_tiny_course, submit

from cvlib.tools.grading import demo
from cvlib.tools.grading.grade_submission import Outcome, keep_lost_in_sight, tell_student
from cvlib.tools.grading.nbgrader_driver import nbgrader

pytestmark = pytest.mark.slow  # real nbgrader commands

A1 = "a1_convolution"


def test_generate_assignment_force_keeps_the_committed_notebooks(tmp_path):
    repo = tmp_path / "repo"  # the repository's layout and config, and a class under way
    shutil.copy2(ROOT / "nbgrader_config.py", repo.mkdir() or repo / "nbgrader_config.py")
    for folder in ("solutions", "assignments"):
        shutil.copytree(ROOT / folder / A1, repo / folder / A1)
    committed = (repo / "assignments" / A1 / f"{A1}.ipynb").read_bytes()
    nbgrader(repo, "db", "assignment", "add", A1)
    demo.submit(repo, "alice", A1, {f"{A1}.ipynb": nbformat.reads(committed.decode(), 4)})
    nbgrader(repo, "autograde", A1, check=False)  # the submission in the gradebook

    result = nbgrader(repo, "generate_assignment", A1, "--force", check=False)
    assert (repo / "assignments" / A1 / f"{A1}.ipynb").read_bytes() == committed, result.stderr
    result = nbgrader(repo, "generate_assignment", A1, "--force", check=False)
    assert (repo / "assignments" / A1 / f"{A1}.ipynb").read_bytes() == committed
    assert not (repo / "release").exists() or (repo / "release" / A1).is_dir()


def _download(course, files):
    rel = demo.notebooks_of(course, ASSIGNMENT, "release")[FILENAME]
    src = demo.notebooks_of(course, ASSIGNMENT, "source")[FILENAME]
    archive = course / "downloaded" / ASSIGNMENT / "archive"
    shutil.rmtree(archive.parent, ignore_errors=True)
    archive.mkdir(parents=True)
    for filename, answers in files.items():
        nbformat.write(demo.student_notebook(rel, src, answers), archive / filename)


def test_zip_collect_keeps_the_latest_of_two_uploads(tmp_path):
    course = make_tiny_course(tmp_path / "course", checks="plain")
    first, again = (
        "alice_1001_assignsubmission_file_tiny.ipynb",
        "alice_1001_assignsubmission_file_tiny (1).ipynb",
    )
    _download(course, {first: {"zero_pad": None}, again: {}})  # the re-upload is complete
    result = nbgrader(course, "zip_collect", ASSIGNMENT, "--force", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    collected = nbformat.read(course / "submitted" / "alice" / ASSIGNMENT / FILENAME, 4)
    (pad,) = [
        c for c in collected.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "zero_pad"
    ]
    assert "NotImplementedError" not in pad.source  # the complete re-upload, not the first file
    assert "again later" in result.stdout + result.stderr and first in result.stdout + result.stderr

    tied = "alice_1001_assignsubmission_file_tiny-1.ipynb"  # " (1)" and "-1": which came last?
    _download(course, {again: {}, tied: {}})
    result = nbgrader(course, "zip_collect", ASSIGNMENT, "--force", check=False)
    assert result.returncode != 0
    assert again in result.stdout + result.stderr and tied in result.stdout + result.stderr


def test_release_feedback_takes_the_not_graded_page(tmp_path):
    exchange = tmp_path / "exchange"
    exchange.mkdir(mode=0o777)
    course = make_tiny_course(
        tmp_path / "course", checks="plain", **{"Exchange.root": str(exchange)}
    )
    submit(course, "alice")
    submitted = course / "submitted" / "alice" / ASSIGNMENT
    (submitted / "submission_secret.txt").write_text("s3cret")  # as `nbgrader collect` leaves it
    outcome = Outcome(
        "alice", "timeout", 900.0, limits=[{"limit": "wall clock", "detail": "900 s"}]
    )
    tell_student(course, ASSIGNMENT, outcome)
    page = course / "feedback" / "alice" / ASSIGNMENT / "tiny.html"
    assert "not graded" in page.read_text()

    result = nbgrader(course, "release_feedback", ASSIGNMENT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    released = list((exchange / "cnn-cv" / "feedback").glob("*.html"))
    assert len(released) == 1 and "not graded" in released[0].read_text()


def test_a_submission_lost_with_its_workers_is_recorded_and_told(tmp_path):
    """What the class grader does when Dask gives up on a submission (KilledWorker): nbgrader
    records it without running it, every test at 0 and flagged, and its student is told."""
    from nbgrader.api import Gradebook

    course = make_tiny_course(tmp_path / "course", checks="plain")
    submit(course, "alice")
    lost = "KilledWorker: all those workers died while running it"
    outcome = keep_lost_in_sight(course, ASSIGNMENT, Outcome("alice", "failed", 0.0, lost))
    assert "not recorded" not in outcome.message, outcome.message
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        (notebook,) = gb.find_submission(ASSIGNMENT, "alice").notebooks
        assert notebook.flagged and notebook.score == 0 and notebook.max_score > 0
    graded = nbformat.read(course / "autograded" / "alice" / ASSIGNMENT / FILENAME, 4)
    errors = [o for c in graded.cells if c.cell_type == "code" for o in c.outputs]
    assert errors and all(o.ename == "NotGraded" and lost in o.evalue for o in errors)
    page = (course / "feedback" / "alice" / ASSIGNMENT / "tiny.html").read_text()
    assert "not graded" in page and "KilledWorker" in page
    assert not (course / ".cvlib_staged" / "alice").exists()


def test_instructor_outputs_are_ignored_by_git():
    paths = [
        "grades.csv",
        "grades-canvas.csv",
        "grades-moodle.csv",
        "downloaded/a1/archive/x.ipynb",
    ]
    paths += ["gradebook.db", "submitted/alice/a1/a1.ipynb", "release/a1/a1.ipynb"]
    result = subprocess.run(
        ["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True
    )
    assert sorted(result.stdout.split()) == sorted(paths)


def test_the_guide_names_the_configured_exchange_and_real_commands():
    guide = (ROOT / "book" / "instructors.md").read_text()
    config = (ROOT / "nbgrader_config.py").read_text()
    assert 'c.Exchange.root = "/srv/nbgrader/exchange"' in config
    assert "/srv/nbgrader/exchange" in guide and "/usr/local/share/nbgrader" not in guide
    assert "nbgrader formgrader" not in guide  # nbgrader 0.9 has no such command
