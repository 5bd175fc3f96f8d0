"""Shared by the real-nbgrader round-trip tests: grade every kind of submission of one assignment.

:func:`grade_assignment` builds a scratch course for one assignment, runs
``generate_assignment``, submits the solution and autogrades it alone (timed), then submits the
blank release, one ``revert-<answer>`` per answer (the solution with that answer back to its
stub) and any extra submissions, autogrades them all in ONE ``nbgrader autograde`` run (one
kernel start-up cost per notebook, the training cells of the torch assignments run only where a
submission reaches them), and reads the gradebook.
"""

import time

import nbformat

from cvlib.tools import demo, release

LOOPING = "def {name}(*args, **kwargs):\n    while True:\n        pass"


def grade_assignment(name, course, extra=None, feedback_for=None, **overrides):
    """Everything nbgrader does for one assignment; returns a dict of results.

    ``extra`` maps a student id to ``{grade_id: source}`` answers (the other answers are the
    solution's). ``overrides`` go to the course's config (e.g. ``**{"Execute.timeout": 20}``).
    """
    demo.make_course(course, [name], **overrides)
    release.nbgrader(course, "generate_assignment", name, "--force")
    releases = demo.notebooks_of(course, name, "release")
    sources = demo.notebooks_of(course, name, "source")
    (filename,) = releases
    rel, src = releases[filename], sources[filename]

    def submit(student, answers=None):
        demo.submit(course, student, name, {filename: demo.student_notebook(rel, src, answers)})

    submit("solution")
    start = time.perf_counter()
    release.nbgrader(course, "autograde", name, "--student", "solution")
    seconds = time.perf_counter() - start
    demo.submit(course, "blank", name, {filename: rel})
    answers = demo.answer_ids(src)
    for answer in answers:
        submit(f"revert-{answer}", {answer: None})
    for student, student_answers in (extra or {}).items():
        submit(student, student_answers)
    start = time.perf_counter()
    release.nbgrader(course, "autograde", name)
    batch_seconds = time.perf_counter() - start
    feedback = None
    if feedback_for:
        feedback = release.nbgrader(course, "generate_feedback", name, "--student", feedback_for)
    return {
        "course": course,
        "seconds": seconds,
        "batch_seconds": batch_seconds,
        "answers": answers,
        "scores": demo.scores(course, name),
        "filename": filename,
        "feedback_returncode": feedback.returncode if feedback else None,
        "submissions": 1 + len(answers) + len(extra or {}),
    }


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


def check_fair_grading(graded, name):
    """Assert what issue 11 asks of one assignment's fair-grading submissions, and print the table
    of the wrong answers tried and the points each lost."""
    import nbgrader_submissions as subs

    scores, course, filename = graded["scores"], graded["course"], graded["filename"]
    full, _, full_grades = scores["solution"]
    # every answer handed to a library loses its points, and the message names the call
    _, _, grades = scores["library"]
    said = test_messages(course, "library", name, filename)
    for answer, (_, call) in subs.LIBRARY[name].items():
        test = subs.graded_cell(answer)
        assert grades[test] == 0, f"{name}: {answer} handed to {call} keeps its points"
        assert f"called `{call}" in said[test], said[test]
        assert "Traceback" not in said[test]
    # correct answers written differently keep every point
    assert scores["alternative"][0] == full, scores["alternative"][2]
    # each plausible bug costs exactly its own answer's points, with a message that says why
    rows = []
    for i, submission in enumerate(subs.WRONG[name], 1):
        student = f"wrong-{i}"
        _, _, grades = scores[student]
        said = test_messages(course, student, name, filename)
        expected = subs.messages(submission)
        for test, points in full_grades.items():
            if test in expected:
                assert grades[test] == 0 and expected[test] in said.get(test, ""), (test, said)
                answer = next(a for a in submission if subs.graded_cell(a) == test)
                if submission[answer][0] is not None:  # a blank answer only keeps a run short
                    rows.append((student, answer, points, expected[test]))
            else:
                assert grades[test] == points, f"{student}: {test} lost points for another bug"
    print(f"\n{name}: wrong answers tried and the points each lost")
    for student, answer, points, message in rows:
        print(f"  {student:8s} {answer:22s} -{points:g}  ({message})")
