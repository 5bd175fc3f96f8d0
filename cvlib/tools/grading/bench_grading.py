"""Seconds to autograde one submission of each assignment, boxed and unboxed, with real nbgrader.

``python -m cvlib.tools.grading.bench_grading [--assignment NAME ...] [--repeat N]`` (also run by
``make bench``) builds a scratch course
per assignment (the same steps as ``make demo``), submits the instructor's solution as a
student, and grades it ``N`` times (default 2) each way, alternating, one at a time, as a warm
grading worker does (:func:`cvlib.tools.grading.grade_submission.grade_one`): in the box of
:mod:`.sandbox` and without it, and in the box with every test cell decided in the
student's kernel as plain nbgrader does (``TrustedExecute.decide_in_kernel``, the way before the
verdict moved out of the student's process). It prints the median seconds per submission each
way, the submissions per minute per core (one grading worker per core), what the box costs and
what deciding outside the student's process costs.

It lives with the tools it measures, not in :mod:`cvlib.bench`: the benchmarks there sit below
the grading tools in the library's layers and may not import them.

Targets on 2 cores: under 4 s per submission for assignments 1 and 2 (numpy), under 20 s for 3
to 5 (PyTorch, training included), and the box under 10%. Assignment 6 trains the student's
own numpy network twice (the graded cell, then hidden with the graders' seed) and checks every
layer on many cases: its target is 60 s, half the 120 s cell limit of ``nbgrader_config.py``.
"""

import argparse
import statistics
import tempfile
from pathlib import Path

from cvlib.tools.grading.demo import (
    assignment_names,
    make_course,
    notebooks_of,
    student_notebook,
    submit,
)
from cvlib.tools.grading.grade_submission import grade_one
from cvlib.tools.grading.nbgrader_driver import nbgrader
from cvlib.tools.grading.release import write_course_config
from cvlib.tools.grading.scores import read_scores, sqlite_url

TARGETS = {"a1_convolution": 4, "a2_backprop": 4, "a6_capstone": 60}
DEFAULT_TARGET = 20
BOX_TARGET = 0.10


def prepare(course, name):
    """A scratch course with the solution of ``name`` submitted by the student ``solution``."""
    make_course(course, [name])
    nbgrader(course, "generate_assignment", name, "--force")
    release, source = notebooks_of(course, name, "release"), notebooks_of(course, name, "source")
    notebooks = {f: student_notebook(nb, source[f]) for f, nb in release.items()}
    submit(course, "solution", name, notebooks)


def grading_seconds(course, name, sandbox, in_kernel=False):
    """Seconds to grade the solution once; raise if it does not grade."""
    overrides = {"TrustedExecute.decide_in_kernel": True} if in_kernel else {}
    write_course_config(course, **overrides)
    outcome = grade_one(course, name, "solution", sandbox=sandbox)
    if outcome.status != "graded":
        raise RuntimeError(f"{name} (sandbox={sandbox}): {outcome.status}: {outcome.message}")
    return outcome.seconds


def time_grading(course, name, repeat=2):
    """Median seconds boxed, unboxed and boxed with the verdict in the kernel over ``repeat``
    rounds, and the score (of the last, trusted, grading).

    Each round grades each way in turn, so that a change in the machine's load between rounds
    touches all alike.
    """
    boxed, unboxed, in_kernel = [], [], []
    for _ in range(repeat):
        in_kernel.append(grading_seconds(course, name, True, in_kernel=True))
        unboxed.append(grading_seconds(course, name, False))
        boxed.append(grading_seconds(course, name, True))
    score, max_score, _ = read_scores(sqlite_url(course), name)["solution"]
    medians = [statistics.median(t) for t in (boxed, unboxed, in_kernel)]
    return (*medians, score, max_score)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cvlib.tools.grading.bench_grading", description=__doc__
    )
    parser.add_argument("--assignment", action="append", help="only these assignments")
    parser.add_argument("--repeat", type=int, default=2, help="gradings per way (median)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")
    names = args.assignment or assignment_names()
    print(
        f"{'assignment':<16} {'boxed s':>8} {'unboxed s':>9} {'boxed/min':>9} "
        f"{'unboxed/min':>11} {'box cost':>8} {'in kernel s':>11} {'verdict cost':>12} "
        f"{'target s':>8}  score  met"
    )
    print(f"{'':<16} {'per submission':>18} {'per core':>21}")
    with tempfile.TemporaryDirectory(prefix="cvlib-bench-grading-") as scratch:
        for i, name in enumerate(names):
            course = Path(scratch) / name
            prepare(course, name)
            if i == 0:  # a worker imports nbgrader once: warm up, untimed
                grading_seconds(course, name, False)
            boxed, unboxed, in_kernel, score, max_score = time_grading(course, name, args.repeat)
            cost, verdict = boxed / unboxed - 1, boxed / in_kernel - 1
            target = TARGETS.get(name, DEFAULT_TARGET)
            met = "yes" if boxed < target and cost < BOX_TARGET else "NO"
            print(
                f"{name:<16} {boxed:>8.1f} {unboxed:>9.1f} {60 / boxed:>9.1f} "
                f"{60 / unboxed:>11.1f} {cost:>+8.0%} {in_kernel:>11.1f} {verdict:>+12.0%} "
                f"{target:>8}  {score:g}/{max_score:g}  {met}",
                flush=True,
            )


if __name__ == "__main__":
    main()
