"""One assignment's scores, read back from nbgrader's gradebook (the course's SQLite file or a
PostgreSQL database): what the class grader, its preflight and the demo print.

>>> sqlite_url("/srv/course")
'sqlite:////srv/course/gradebook.db'
"""

from pathlib import Path

from cvlib.tools.grading.nbgrader_driver import environment

__all__ = ["read_scores", "sqlite_url"]


def sqlite_url(course):
    """The URL of ``course``'s own gradebook, the SQLite file ``gradebook.db`` in its folder
    (nbgrader's default ``c.CourseDirectory.db_url``)."""
    return f"sqlite:///{Path(course) / 'gradebook.db'}"


def read_scores(db_url, assignment, course_id=None):
    """``{student: (score, max_score, {grade_id: score})}`` of ``assignment``'s submissions.

    Parameters
    ----------
    db_url : str
        The gradebook's SQLAlchemy URL (:func:`sqlite_url` for a course's own file).
    assignment : str
    course_id : str, optional
        The course, in a gradebook shared by several.
    """
    from nbgrader.api import Gradebook

    kwargs = {"course_id": course_id} if course_id else {}
    result = {}
    with environment(), Gradebook(db_url, **kwargs) as gb:  # a new gradebook runs alembic
        for submission in gb.assignment_submissions(assignment):
            grades = {g.name: g.score for nb in submission.notebooks for g in nb.grades}
            result[submission.student_id] = (submission.score, submission.max_score, grades)
    return result
