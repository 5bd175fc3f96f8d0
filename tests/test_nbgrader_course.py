"""The instructor guide's course administration, run with real nbgrader on a tiny assignment.

Roster import, a due date, uploads downloaded from an LMS under renamed file names
(``tiny (1).ipynb``, ``tiny-2.ipynb``) collected with ``nbgrader zip_collect``, an extension, a
late penalty of 10% per started day (``cvlib.grading.late.PerDayPenalty``), the grades exported
for an LMS, and a regrade after a test is fixed: the commands and settings of
``book/instructors.md``, in a scratch course. The tiny assignment's checks are plain asserts, so
its kernels start fast.
"""

import csv
import subprocess
import sys

import nbformat
import pytest
from gradebook_helpers import ASSIGNMENT, FILENAME, FULL, POINTS, make_tiny_course

from cvlib.tools.grading import demo
from cvlib.tools.grading.nbgrader_driver import nbgrader
from cvlib.tools.grading.scores import read_scores, sqlite_url

pytestmark = pytest.mark.slow

# Moodle-style downloads: <username>_<id>_assignsubmission_file_<upload name>, where a student's
# second upload of the same file may come back as "tiny (1).ipynb" (or "tiny-2.ipynb"); the
# course's nbgrader_config.py holds the pattern that reads them.
DOWNLOADS = {
    "alice_1001_assignsubmission_file_tiny (1).ipynb": ("alice", {}),
    "bob_1002_assignsubmission_file_tiny.ipynb": ("bob", {}),
    "carol_1003_assignsubmission_file_tiny-2.ipynb": ("carol", {"zero_pad": None}),
}
DUE = "2025-01-10 12:00:00 UTC"
SUBMITTED = {  # student -> when the LMS says the file came in
    "alice": "2025-01-13 11:59:00 UTC",  # 2 days 23:59 late: 3 started days, 30% off
    "bob": "2025-01-11 10:00:00 UTC",  # a day late, but bob has a 2-day extension
    "carol": "2025-01-10 11:00:00 UTC",  # on time
}


def _grant_extension(course, student, days):
    code = (
        "import sys; from nbgrader.api import Gradebook\n"
        f"with Gradebook('sqlite:///{course / 'gradebook.db'}') as gb:\n"
        f"    gb.grant_extension({ASSIGNMENT!r}, {student!r}, days={days})\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=course)


def test_roster_lms_collection_extension_late_penalty_export_and_regrade(tmp_path):
    course = make_tiny_course(
        tmp_path / "course",
        checks="plain",
        timeout=30,
        **{
            "AssignLatePenalties.plugin_class": "cvlib.grading.late.PerDayPenalty",
            "PerDayPenalty.per_day": 0.1,
        },
    )
    roster = course / "roster.csv"
    roster.write_text(
        "id,first_name,last_name,email\n"
        "alice,Alice,Ada,alice@example.org\nbob,Bob,Boole,bob@example.org\n"
        "carol,Carol,Cray,carol@example.org\n"
    )
    nbgrader(course, "db", "student", "import", str(roster))
    nbgrader(course, "db", "assignment", "add", ASSIGNMENT, f"--duedate={DUE}")

    # the files as an LMS hands them out, some renamed by the LMS
    rel = demo.notebooks_of(course, ASSIGNMENT, "release")[FILENAME]
    src = demo.notebooks_of(course, ASSIGNMENT, "source")[FILENAME]
    archive = course / "downloaded" / ASSIGNMENT / "archive"
    archive.mkdir(parents=True)
    for filename, (_, answers) in DOWNLOADS.items():
        nbformat.write(demo.student_notebook(rel, src, answers), archive / filename)
    nbgrader(course, "zip_collect", ASSIGNMENT, "--force")
    for student, when in SUBMITTED.items():
        folder = course / "submitted" / student / ASSIGNMENT
        assert sorted(p.name for p in folder.glob("*.ipynb")) == [FILENAME]  # renamed back
        (folder / "timestamp.txt").write_text(when + "\n")

    nbgrader(course, "autograde", ASSIGNMENT)
    _grant_extension(course, "bob", days=2)  # granted after the first grading: grade again
    nbgrader(course, "autograde", ASSIGNMENT, "--student", "bob", "--force")

    export = course / "grades.csv"
    nbgrader(course, "export", "--to", str(export))
    rows = {r["student_id"]: r for r in csv.DictReader(export.open())}
    assert set(rows) == {"alice", "bob", "carol"}
    assert rows["alice"]["last_name"] == "Ada"  # from the roster
    assert float(rows["alice"]["raw_score"]) == FULL
    assert float(rows["alice"]["late_submission_penalty"]) == pytest.approx(0.3 * FULL)
    assert float(rows["alice"]["score"]) == pytest.approx(0.7 * FULL)
    assert float(rows["bob"]["late_submission_penalty"]) == 0  # within the extension
    assert float(rows["bob"]["score"]) == FULL
    assert float(rows["carol"]["score"]) == FULL - POINTS["test_zero_pad"]

    # an instructor's test was wrong: fixing it and regrading changes the scores
    source = course / "source" / ASSIGNMENT / FILENAME
    notebook = nbformat.read(source, as_version=4)
    (cell,) = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id")
               == "test_dense_params"]  # fmt: skip
    cell.source = cell.source.replace("dense_params(3, 2) == 8", "dense_params(3, 2) == 9")
    nbformat.write(notebook, source)
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    nbgrader(course, "autograde", ASSIGNMENT, "--student", "carol", "--force")
    broken = read_scores(sqlite_url(course), ASSIGNMENT)["carol"]
    assert broken[2]["test_dense_params"] == 0  # the broken test cost carol a point
    cell.source = cell.source.replace("dense_params(3, 2) == 9", "dense_params(3, 2) == 8")
    nbformat.write(notebook, source)
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    nbgrader(course, "autograde", ASSIGNMENT, "--student", "carol", "--force")
    assert read_scores(sqlite_url(course), ASSIGNMENT)["carol"][0] == FULL - POINTS["test_zero_pad"]
