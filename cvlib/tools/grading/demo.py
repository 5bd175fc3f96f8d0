"""An end-to-end nbgrader run for instructors, in a scratch course directory.

``python -m cvlib.tools.grading.demo DIR`` (``make demo`` uses ``nbgrader_demo/``) builds a
course in DIR from ``solutions/``, then does what an instructor does each week, printing every step:

1. ``nbgrader generate_assignment`` (the student versions),
2. two fake submissions per assignment in ``submitted/``: *alice* hands in the solution, *bob*
   the solution with one answer left blank and one answer raising an error,
3. ``nbgrader autograde`` (timed),
4. ``nbgrader generate_feedback`` (HTML reports in ``feedback/``),
5. ``nbgrader export`` (``grades.csv``), and the scores.

The functions here (course set-up, filling a student notebook) are also what
``tests/test_nbgrader.py`` uses to build its submissions; the scores are read by
:func:`cvlib.tools.grading.scores.read_scores`, as the class grader reads them.
"""

import argparse
import copy
import re
import shutil
import time
from pathlib import Path

import nbformat

from .nbgrader_driver import nbgrader
from .release import ROOT, assignment_names, write_course_config
from .scores import read_scores, sqlite_url

_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def make_course(course, names=None, root=ROOT, **overrides):
    """A scratch course directory with the repository's config and ``source/`` from solutions."""
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    write_course_config(course, root, **overrides)
    for name in names or assignment_names(root):
        target = course / "source" / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(
            Path(root) / "solutions" / name,
            target,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
    return course


def solution_code(cell):
    """The source of a solution cell with the BEGIN/END SOLUTION marker lines removed."""
    return "\n".join(line for line in cell.source.splitlines() if not _MARKER.match(line))


def answer_ids(notebook):
    """grade_ids of the answer (solution) code cells, in order."""
    return [
        c.metadata.nbgrader["grade_id"]
        for c in notebook.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    ]


def student_notebook(release_nb, source_nb, answers=None):
    """A student's notebook: the release version with every answer cell filled in.

    Answer cells get the instructor's solution, except those named in ``answers``
    (grade_id -> source, or None to leave the blank stub).
    """
    answers = answers or {}
    solutions = {
        c.metadata.nbgrader["grade_id"]: c
        for c in source_nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    notebook = copy.deepcopy(release_nb)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in solutions:
            continue
        if grade_id in answers:
            if answers[grade_id] is not None:
                cell.source = answers[grade_id]
        else:
            cell.source = solution_code(solutions[grade_id])
    return notebook


def submit(course, student, assignment, notebooks):
    """Write ``{filename: notebook}`` as ``submitted/<student>/<assignment>/`` with a timestamp."""
    folder = Path(course) / "submitted" / student / assignment
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for filename, notebook in notebooks.items():
        nbformat.write(notebook, folder / filename)
    (folder / "timestamp.txt").write_text("2025-01-01 12:00:00.000000 UTC\n")
    return folder


def notebooks_of(course, assignment, kind="release"):
    """``{filename: notebook}`` of ``course/<kind>/<assignment>/``."""
    folder = Path(course) / kind / assignment
    return {p.name: nbformat.read(p, as_version=4) for p in sorted(folder.glob("*.ipynb"))}


def _bob_answers(source_nb):
    ids = answer_ids(source_nb)
    broken = "def {name}(*args, **kwargs):\n    raise ValueError('I am still working on it')"
    second = next(
        c for c in source_nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == ids[1]
    )
    name = re.search(r"def (\w+)\(", second.source).group(1)
    return {ids[0]: None, ids[1]: broken.format(name=name)}


def run_demo(course, names=None):
    """The whole round trip in ``course``; returns the scores per assignment."""
    course = Path(course)
    shutil.rmtree(course, ignore_errors=True)
    names = names or assignment_names()
    make_course(course, names)
    print(f"course directory: {course}")
    results = {}
    for name in names:
        nbgrader(course, "generate_assignment", name, "--force")
        print(f"[{name}] generate_assignment -> release/{name}/")
        release_nbs = notebooks_of(course, name, "release")
        source_nbs = notebooks_of(course, name, "source")
        for student in ("alice", "bob"):
            notebooks = {}
            for filename, release_nb in release_nbs.items():
                answers = _bob_answers(source_nbs[filename]) if student == "bob" else None
                notebooks[filename] = student_notebook(release_nb, source_nbs[filename], answers)
            submit(course, student, name, notebooks)
        print(
            f"[{name}] submitted/alice (the solution), submitted/bob (one answer blank, one "
            "raising ValueError)"
        )
        start = time.perf_counter()
        nbgrader(course, "autograde", name, "--force")
        elapsed = time.perf_counter() - start
        print(f"[{name}] autograde: 2 submissions in {elapsed:.1f} s")
        nbgrader(course, "generate_feedback", name, "--force")
        print(f"[{name}] generate_feedback -> feedback/<student>/{name}/*.html")
        results[name] = read_scores(sqlite_url(course), name)
        for student, (score, max_score, _) in sorted(results[name].items()):
            print(f"[{name}] {student}: {score:g} / {max_score:g}")
    nbgrader(course, "export", "--to", str(course / "grades.csv"))
    print(f"nbgrader export -> {course / 'grades.csv'}")
    print((course / "grades.csv").read_text())
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cvlib.tools.grading.demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("directory", help="scratch course directory (deleted and re-created)")
    parser.add_argument("--assignment", action="append", help="only these assignments")
    args = parser.parse_args(argv)
    run_demo(Path(args.directory).resolve(), args.assignment)


if __name__ == "__main__":
    main()
