"""``cvlib.tools.grading.lms_export``: the CSVs Canvas and Moodle import, from nbgrader's gradebook.

The headers are the ones the LMSs document for their own gradebook exports, which their imports
read back: Canvas's "Student, ID, SIS User ID, SIS Login ID, Section" then one column per
assignment and a "Points Possible" row; Moodle's plain-text export's "First name, Last name,
ID number, Email address" then "Assignment: <name> (Real)" columns and "Course total (Real)".
The scores come from a real gradebook: a tiny course autograded by nbgrader, with a roster.
"""

import csv

import pytest
from gradebook_helpers import ASSIGNMENT, FULL, POINTS, make_tiny_course, submit

from cvlib.tools.grading import lms_export
from cvlib.tools.grading.nbgrader_driver import nbgrader

pytestmark = pytest.mark.slow  # a course autograded by nbgrader

CANVAS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE = ["First name", "Last name", "ID number", "Email address"]
STUDENTS = {"ada": ("Ada", "Lovelace", "ada@example.edu"), "bo": ("Bo", "Ng", "bo@example.edu")}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = make_tiny_course(tmp_path_factory.mktemp("lms") / "course", checks="plain")
    for student, (first, last, email) in STUDENTS.items():
        nbgrader(
            course, "db", "student", "add", student,
            f"--first-name={first}", f"--last-name={last}", f"--email={email}",
        )  # fmt: skip
    nbgrader(course, "db", "student", "add", "cy")  # on the roster, submitted nothing
    submit(course, "ada")
    submit(course, "bo", {"zero_pad": None})
    nbgrader(course, "autograde", ASSIGNMENT)
    return course


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_canvas_by_student_id(course):
    assert lms_export.main(["--course", str(course), "--to", str(course / "c.csv")]) == 0
    header, points, *students = read(course / "c.csv")
    assert header == [*CANVAS, ASSIGNMENT, "cnn-cv total"]
    assert points[0] == "Points Possible" and points[5:] == [str(FULL), str(FULL)]
    by_id = {row[2]: row for row in students}
    assert set(by_id) == {"ada", "bo", "cy"}
    assert by_id["ada"][0] == "Lovelace, Ada" and by_id["ada"][5:] == [str(FULL)] * 2
    bo = str(FULL - POINTS["test_zero_pad"])
    assert by_id["bo"][5:] == [bo, bo]
    assert by_id["cy"][5:] == ["0", "0"]  # no submission: 0, as nbgrader export


def test_moodle_by_email(course):
    to = course / "m.csv"
    args = ["--course", str(course), "--format", "moodle", "--match", "email", "--to", str(to)]
    # cy has no e-mail: matching by e-mail cannot place that row, and says whose it is
    assert lms_export.main(args) == 2
    nbgrader(course, "db", "student", "add", "cy", "--email=cy@example.edu")
    assert lms_export.main(args) == 0
    header, *students = read(to)
    assert header == [*MOODLE, f"Assignment: {ASSIGNMENT} (Real)", "Course total (Real)"]
    by_email = {row[3]: row for row in students}
    assert by_email["ada@example.edu"][:3] == ["Ada", "Lovelace", "ada"]
    assert by_email["bo@example.edu"][4:] == [str(FULL - POINTS["test_zero_pad"])] * 2


def test_rows_validate_their_arguments():
    with pytest.raises(ValueError, match="`fmt` must be one of"):
        lms_export.rows({}, [], fmt="blackboard")
    with pytest.raises(ValueError, match="`match` must be one of"):
        lms_export.rows({}, [], match="name")
    assignments = {"a1": 19.0, "a2": 24.0}
    students = [{"id": "x", "first_name": "", "last_name": "", "email": "x@e.du",
                 "scores": {"a1": 18.5, "a2": 0.0}}]  # fmt: skip
    table = lms_export.rows(assignments, students, "canvas", "email", total=False)
    assert table[0] == [*CANVAS, "a1", "a2"] and table[2] == [
        "x",
        "",
        "",
        "x@e.du",
        "",
        "18.5",
        "0",
    ]
