"""Shared by the real-nbgrader round-trip tests: grade every kind of submission of one assignment.

:func:`grade_assignment` builds a scratch course for one assignment, runs
``generate_assignment``, submits the solution and autogrades it alone (timed), then submits the
blank release, one ``revert-<answer>`` per answer (the solution with that answer back to its
stub; or one per group of answers whose tests do not call each other) and any extra
submissions, autogrades them all in ONE ``nbgrader autograde`` run (one
kernel start-up cost per notebook, the training cells of the torch assignments run only where a
submission reaches them), and reads the gradebook.
"""

import time
from pathlib import Path

import nbformat

from cvlib.grading import registry
from cvlib.tools.grading import demo, release
from cvlib.tools.grading.nbgrader_driver import nbgrader
from cvlib.tools.grading.scores import read_scores, sqlite_url

LOOPING = "def {name}(*args, **kwargs):\n    while True:\n        pass"


def grade_assignment(name, course, extra=None, feedback_for=None, revert=None, **overrides):
    """Everything nbgrader does for one assignment; returns a dict of results.

    ``extra`` maps a student id to ``{grade_id: source}`` answers (the other answers are the
    solution's). ``revert`` lists groups of answers reverted together in one submission
    (``revert-<first answer>``; default: each answer alone); the result's ``"reverted"`` maps
    each answer to its submission. ``overrides`` go to the course's config (e.g.
    ``**{"Execute.timeout": 20}``).
    """
    demo.make_course(course, [name], **overrides)
    nbgrader(course, "generate_assignment", name, "--force")
    releases = demo.notebooks_of(course, name, "release")
    sources = demo.notebooks_of(course, name, "source")
    (filename,) = releases
    rel, src = releases[filename], sources[filename]

    def submit(student, answers=None):
        demo.submit(course, student, name, {filename: demo.student_notebook(rel, src, answers)})

    submit("solution")
    start = time.perf_counter()
    nbgrader(course, "autograde", name, "--student", "solution")
    seconds = time.perf_counter() - start
    demo.submit(course, "blank", name, {filename: rel})
    answers = demo.answer_ids(src)
    groups = revert or [(answer,) for answer in answers]
    assert sorted(a for group in groups for a in group) == sorted(answers), "revert every answer"
    reverted = {a: f"revert-{group[0]}" for group in groups for a in group}
    for group in groups:
        submit(f"revert-{group[0]}", dict.fromkeys(group))
    for student, student_answers in (extra or {}).items():
        submit(student, student_answers)
    start = time.perf_counter()
    nbgrader(course, "autograde", name)
    batch_seconds = time.perf_counter() - start
    feedback = None
    if feedback_for:
        feedback = nbgrader(course, "generate_feedback", name, "--student", feedback_for)
    manual = {  # the written answers, graded by hand: grade_id -> points
        c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader["points"]
        for c in src.cells
        if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")
    }
    return {
        "name": name,
        "course": course,
        "manual": manual,
        "seconds": seconds,
        "batch_seconds": batch_seconds,
        "answers": answers,
        "reverted": reverted,
        "scores": read_scores(sqlite_url(course), name),
        "filename": filename,
        "feedback_returncode": feedback.returncode if feedback else None,
        "submissions": 1 + len(groups) + len(extra or {}),
    }


def written_grades(graded, student):
    """``{grade_id: (auto_score, needs_manual_grade)}`` of a student's written answers."""
    from nbgrader.api import Gradebook

    course, name = graded["course"], graded["name"]
    notebook = graded["filename"].removesuffix(".ipynb")
    with Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}") as gb:
        grades = {g: gb.find_grade(g, notebook, name, student) for g in graded["manual"]}
        return {g: (grade.auto_score, grade.needs_manual_grade) for g, grade in grades.items()}


def check_full_marks_and_blank_zero(graded):
    """The solution gets every autograded point, its written answers wait for a grader (no
    score yet); the blank release gets 0 everywhere (unanswered written answers included)."""
    score, max_score, grades = graded["scores"]["solution"]
    manual = graded["manual"]
    assert manual and set(manual) <= set(grades)
    assert max_score > 0 and score == max_score - sum(manual.values()), grades
    assert set(written_grades(graded, "solution").values()) == {(None, True)}  # not graded yet
    blank_score, _, blank_grades = graded["scores"]["blank"]
    assert blank_score == 0, {k: v for k, v in blank_grades.items() if v}
    assert set(written_grades(graded, "blank").values()) == {(0, False)}  # "No response": 0


def cells(notebook):
    """What must agree between a committed and a regenerated student notebook."""
    return [(c.cell_type, c.source, c.metadata.get("nbgrader")) for c in notebook.cells]


def committed_matches_generated(name, course):
    """Assert ``assignments/<name>/`` equals what ``generate_assignment`` made in ``course``."""
    generated = demo.notebooks_of(course, name, "release")
    committed_dir = release.ROOT / "assignments" / name
    committed = {p.name: nbformat.read(p, as_version=4) for p in committed_dir.glob("*.ipynb")}
    assert sorted(committed) == sorted(generated)
    for filename, notebook in generated.items():
        assert cells(committed[filename]) == cells(notebook), (
            f"assignments/{name}/{filename} is out of date: run `make assignments`"
        )
        assert committed[filename].metadata.kernelspec == notebook.metadata.kernelspec
    for path in committed_dir.glob("*.ipynb"):
        assert "BEGIN SOLUTION" not in path.read_text()
        assert "BEGIN HIDDEN TESTS" not in path.read_text()


def error_outputs(course, student, name, filename):
    """The error outputs of a student's autograded notebook."""
    path = course / "autograded" / student / name / filename
    notebook = nbformat.read(path, as_version=4)
    return [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]


def was_stopped(errors):
    """Whether one of these error outputs says an endless loop was stopped: in the kernel
    (nbgrader's timeout) or in the answers' box (where trusted test cells call the answers)."""
    stopped = ("KeyboardInterrupt", "CellTimeoutError")
    return any(e.ename in stopped or "ran longer than" in e.evalue for e in errors)


def test_messages(course, student, name, filename):
    """``{test cell grade_id: its error text}`` of a student's autograded notebook (tests that
    failed only)."""
    path = course / "autograded" / student / name / filename
    notebook = nbformat.read(path, as_version=4)
    found = {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if grade_id and errors:
            found[grade_id] = "\n".join(f"{e.ename}: {e.evalue}" for e in errors)
    return found


def fair_grading_submissions(name):
    """The issue-11 submissions of one assignment, as ``{student: {grade_id: source}}``:
    ``library`` (every answer handed to a library), ``alternative`` (correct, written
    differently), ``wrong-1``, ``wrong-2``, ... (plausible bugs, one per answer)."""
    import nbgrader_submissions as subs

    out = {
        "library": subs.answers(name, subs.LIBRARY[name]),
        "alternative": dict(subs.ALTERNATIVE[name]),
    }
    for i, submission in enumerate(subs.WRONG[name], 1):
        out[f"wrong-{i}"] = subs.answers(name, submission)
    return out


def check_library(graded, name, may_also_lose=None):
    """Every answer handed to a library loses its points, with a message naming the call; given
    ``may_also_lose`` (tests of everything at once), the other tests keep theirs."""
    import nbgrader_submissions as subs

    scores, course, filename = graded["scores"], graded["course"], graded["filename"]
    full_grades = scores["solution"][2]
    _, _, grades = scores["library"]
    said = test_messages(course, "library", name, filename)
    tests = {subs.graded_cell(answer): call for answer, (_, call) in subs.LIBRARY[name].items()}
    assignment = registry.find(name)
    for test, call in tests.items():
        assert grades[test] == 0, f"{name}: {test}'s answer handed to {call} keeps its points"
        if assignment is not None and assignment.decides(test):  # the library is not in the box
            # its modules say so; torchvision's C operators (torch.ops.torchvision.nms) are
            # simply not registered there
            absent = ("not available to this assignment's answers", "torchvision")
            assert any(a in said[test] for a in absent), said[test]
            assert any(part in said[test] for part in call.split(".")[:3]), said[test]
        else:  # the trip-wire in the student's kernel caught the call
            assert f"called `{call}" in said[test], said[test]
        assert "Traceback" not in said[test]
    for test, points in full_grades.items():
        if may_also_lose is not None and test not in tests and test not in may_also_lose:
            assert grades[test] == points, f"library: {test} lost points for another answer"


def check_wrong(graded, name, student, submission, also=None):
    """The submission's bugs cost exactly their answers' points (and the tests of ``also``,
    ``{test_id: message}``), each with a message that says why; returns the table's rows
    ``(student, answer, points, message)``."""
    import nbgrader_submissions as subs

    scores, course, filename = graded["scores"], graded["course"], graded["filename"]
    full_grades = scores["solution"][2]
    _, _, grades = scores[student]
    said = test_messages(course, student, name, filename)
    expected = {**subs.messages(submission), **(also or {})}
    rows = []
    for test, points in full_grades.items():
        if test in expected:
            assert grades[test] == 0 and expected[test] in said.get(test, ""), (test, said)
            answer = next((a for a in submission if subs.graded_cell(a) == test), test)
            if answer not in submission or submission[answer][0] is not None:
                rows.append((student, answer, points, expected[test]))  # a blank keeps runs short
        else:
            assert grades[test] == points, f"{student}: {test} lost points for another bug"
    return rows


def print_rows(name, rows):
    print(f"\n{name}: wrong answers tried and the points each lost")
    for student, answer, points, message in rows:
        print(f"  {student:8s} {answer:22s} -{points:g}  ({message})")


def capstone_submissions():
    """Assignment 6's submissions: ``library``, ``wrong-1`` (bugs the training never meets)
    and the knock-outs (``nbgrader_submissions.KNOCKOUTS``)."""
    import nbgrader_submissions as subs

    name = "a6_capstone"
    out = {"library": subs.answers(name, subs.LIBRARY[name])}
    out["wrong-1"] = subs.answers(name, subs.WRONG[name][0])
    for student, (submission, _) in subs.KNOCKOUTS.items():
        out[student] = subs.answers(name, submission)
    return out


def check_fair_grading(graded, name):
    """Assert what issue 11 asks of one assignment's fair-grading submissions, and print the table
    of the wrong answers tried and the points each lost."""
    import nbgrader_submissions as subs

    check_library(graded, name)
    # correct answers written differently keep every point
    scores = graded["scores"]
    assert scores["alternative"][0] == scores["solution"][0], scores["alternative"][2]
    # each plausible bug costs exactly its own answer's points, with a message that says why
    rows = []
    for i, submission in enumerate(subs.WRONG[name], 1):
        rows += check_wrong(graded, name, f"wrong-{i}", submission)
    print_rows(name, rows)
