"""Grades from nbgrader's gradebook as a CSV that Canvas or Moodle imports.

Run it in the course directory, after the manual grades are in::

    python -m cvlib.tools.grading.lms_export --format canvas --to grades-canvas.csv
    python -m cvlib.tools.grading.lms_export --format moodle --match email --to grades-moodle.csv

One row per student of the gradebook's roster, one column per assignment (its score after any
late penalty, 0 without a submission, as ``nbgrader export``) and the course total, the sum over
the assignments. Students are matched by their id (nbgrader's student id, the roster's ``id``)
or by e-mail (``--match email``).

**Canvas** (Grades > Import) reads the columns of its own gradebook export: ``Student``,
``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment, and a
second row ``Points Possible``. It matches students by ``SIS User ID`` (``--match id``: the
student id goes there) or ``SIS Login ID`` (``--match email``); a column whose name is not an
assignment of the course becomes a new assignment, so the course total arrives as one too
(``--no-total`` leaves it out: Canvas computes its own).

**Moodle** (Grades > Import > CSV file) lets the instructor map one column to its users
("Map from" / "Map to": ``ID number`` to *ID number*, or ``Email address`` to *Email address*)
and each other column to a grade item; the columns here are named as Moodle's own plain-text
export names them (``First name``, ``Last name``, ``ID number``, ``Email address``,
``Assignment: <name> (Real)``, ``Course total (Real)``), so a file exported from Moodle and this
one line up.
"""

import argparse
import csv
import sys
from pathlib import Path

FORMATS = ("canvas", "moodle")
MATCHES = ("id", "email")


def read_grades(db_url, course_id=None):
    """``(assignments, students)`` from a gradebook: assignment names in due-date order and
    ``[{"id", "first_name", "last_name", "email", "scores": {name: score}}]``, plus the
    assignments' ``max_score`` as ``{name: points}`` in ``assignments``."""
    from nbgrader.api import Gradebook, MissingEntry

    kwargs = {"course_id": course_id} if course_id else {}
    with Gradebook(db_url, **kwargs) as gb:
        ordered = sorted(gb.assignments, key=lambda a: (a.duedate is None, a.duedate, a.name))
        assignments = {a.name: a.max_score for a in ordered}
        students = []
        for student in sorted(gb.students, key=lambda s: s.id):
            scores = {}
            for name in assignments:
                try:
                    scores[name] = gb.find_submission(name, student.id).score
                except MissingEntry:
                    scores[name] = 0.0
            students.append(
                {
                    "id": student.id,
                    "first_name": student.first_name or "",
                    "last_name": student.last_name or "",
                    "email": student.email or "",
                    "scores": scores,
                }
            )
    return assignments, students


def _check(fmt, match):
    if fmt not in FORMATS:
        raise ValueError(f"`fmt` must be one of {FORMATS}, got {fmt!r}")
    if match not in MATCHES:
        raise ValueError(f"`match` must be one of {MATCHES}, got {match!r}")


def _number(value):
    return f"{value:g}"


def rows(assignments, students, fmt="canvas", match="id", total=True, course_id="cnn-cv"):
    """The CSV's rows (header first) for ``fmt`` ("canvas" or "moodle"), matched by ``match``."""
    _check(fmt, match)
    names = list(assignments)
    total_name = f"{course_id} total"
    missing = [s["id"] for s in students if match == "email" and not s["email"]]
    if missing:
        raise ValueError(f"`match='email'` but these students have no e-mail: {missing}")
    out = []
    if fmt == "canvas":
        out.append(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *names])
        out.append(["Points Possible", "", "", "", "", *map(_number, assignments.values())])
        if total:
            out[0].append(total_name)
            out[1].append(_number(sum(assignments.values())))
        for s in students:
            name = ", ".join(filter(None, [s["last_name"], s["first_name"]])) or s["id"]
            sis_user, sis_login = (s["id"], "") if match == "id" else ("", s["email"])
            scores = [s["scores"][n] for n in names] + (
                [sum(s["scores"].values())] if total else []
            )
            out.append([name, "", sis_user, sis_login, "", *map(_number, scores)])
    else:
        header = ["First name", "Last name", "ID number", "Email address"]
        out.append(header + [f"Assignment: {n} (Real)" for n in names])
        if total:
            out[0].append("Course total (Real)")
        for s in students:
            scores = [s["scores"][n] for n in names] + (
                [sum(s["scores"].values())] if total else []
            )
            who = [s["first_name"], s["last_name"], s["id"], s["email"]]
            out.append([*who, *map(_number, scores)])
    return out


def export(course, to, fmt="canvas", match="id", total=True, db_url=None):
    """Write the CSV for the course at ``course`` to ``to``; the number of students."""
    from cvlib.tools.grading.nbgrader_driver import nbgrader_api

    coursedir = nbgrader_api(Path(course).resolve(), sandbox=False).coursedir
    assignments, students = read_grades(db_url or coursedir.db_url, coursedir.course_id)
    table = rows(assignments, students, fmt, match, total, coursedir.course_id)
    with open(to, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(table)
    return len(students)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cvlib.tools.grading.lms_export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--format", choices=FORMATS, default="canvas")
    parser.add_argument("--match", choices=MATCHES, default="id", help="student id or e-mail")
    parser.add_argument("--to", default=None, help="CSV to write (default grades-FORMAT.csv)")
    parser.add_argument("--no-total", action="store_true", help="leave out the course total")
    parser.add_argument("--course", default=".", help="course directory (default: here)")
    parser.add_argument("--db", default=None, help="gradebook URL (default: the course's)")
    args = parser.parse_args(argv)
    to = args.to or f"grades-{args.format}.csv"
    try:
        count = export(args.course, to, args.format, args.match, not args.no_total, args.db)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{to}: {count} students ({args.format}, matched by {args.match})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
