"""Time to autograde one submission of each assignment with real nbgrader.

``python -m cvlib.bench grading [--assignment NAME ...]`` builds a scratch course per assignment
(the same steps as ``make demo``), submits the instructor's solution as a student, times
``nbgrader autograde`` and prints the time and the score. Targets: under 60 s for assignments 1
and 2 (numpy), under 90 s for 3 to 5 (PyTorch, training included), on 2 cores.
"""

import argparse
import tempfile
import time
from pathlib import Path

from cvlib.tools.demo import (
    assignment_names,
    make_course,
    nbgrader,
    notebooks_of,
    scores,
    student_notebook,
    submit,
)

TARGETS = {"a1_convolution": 60, "a2_backprop": 60}
DEFAULT_TARGET = 90


def time_one(course, name):
    """Seconds to autograde the solution of ``name`` in the scratch ``course``, and its score."""
    make_course(course, [name])
    nbgrader(course, "generate_assignment", name, "--force")
    release, source = notebooks_of(course, name, "release"), notebooks_of(course, name, "source")
    submit(
        course, "solution", name, {f: student_notebook(nb, source[f]) for f, nb in release.items()}
    )
    start = time.perf_counter()
    nbgrader(course, "autograde", name, "--force")
    seconds = time.perf_counter() - start
    score, max_score, _ = scores(course, name)["solution"]
    return seconds, score, max_score


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cvlib.bench grading", description=__doc__)
    parser.add_argument("--assignment", action="append", help="only these assignments")
    args = parser.parse_args(argv)
    names = args.assignment or assignment_names()
    print(f"{'assignment':<16} {'autograde s':>11} {'target s':>8}  score    met")
    with tempfile.TemporaryDirectory(prefix="cvlib-bench-grading-") as scratch:
        for name in names:
            seconds, score, max_score = time_one(Path(scratch) / name, name)
            target = TARGETS.get(name, DEFAULT_TARGET)
            met = "yes" if seconds < target else "NO"
            print(
                f"{name:<16} {seconds:>11.1f} {target:>8}  {score:g}/{max_score:g}  {met}",
                flush=True,
            )


if __name__ == "__main__":
    main()
