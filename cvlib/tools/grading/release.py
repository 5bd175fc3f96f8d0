"""Regenerate the student versions ``assignments/<name>/`` from ``solutions/<name>/``.

Run ``python -m cvlib.tools.grading.release`` (``make assignments``) from the repository root after
editing a solution notebook, and commit the result. Each assignment goes through the real
``nbgrader generate_assignment`` in a scratch course directory (so no gradebook or other nbgrader
state lands in the repository), configured by the repository's ``nbgrader_config.py``; the
generated files are then copied into ``assignments/<name>/``, replacing what was there.

The output is deterministic: regenerating unchanged solutions gives byte-identical files, which
``tests/test_nbgrader.py`` checks against the committed ones.
"""

import argparse
import shutil
import tempfile
from pathlib import Path

from cvlib.tools.grading.nbgrader_driver import nbgrader

ROOT = Path(__file__).resolve().parents[3]


def assignment_names(root=ROOT):
    """The assignments: folders of ``solutions/`` that hold a notebook, sorted."""
    solutions = Path(root) / "solutions"
    return sorted(p.name for p in solutions.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def write_course_config(course, root=ROOT, **overrides):
    """Write ``course/nbgrader_config.py``: the repository's config, rooted at ``course``.

    ``overrides`` maps ``"Section.trait"`` to a value, e.g. ``{"Execute.timeout": 10}``.
    """
    course = Path(course)
    lines = [
        "c = get_config()  # noqa: F821",
        f"load_subconfig({str(Path(root) / 'nbgrader_config.py')!r})  # noqa: F821",
        f"c.CourseDirectory.root = {str(course)!r}",
        'c.CourseDirectory.source_directory = "source"',
        'c.CourseDirectory.release_directory = "release"',
    ]
    lines += [f"c.{key} = {value!r}" for key, value in overrides.items()]
    (course / "nbgrader_config.py").write_text("\n".join(lines) + "\n")


def generate(name, course, root=ROOT):
    """Copy ``solutions/<name>`` into ``course/source`` and run ``generate_assignment``."""
    source = Path(course) / "source" / name
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(
        Path(root) / "solutions" / name,
        source,
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
    )
    nbgrader(course, "generate_assignment", name, "--force")
    return Path(course) / "release" / name


def release(names=None, root=ROOT, out=None):
    """Regenerate ``out/<name>/`` (default ``assignments/``) for each name; return the paths."""
    names = names or assignment_names(root)
    out = Path(out or Path(root) / "assignments")
    written = []
    with tempfile.TemporaryDirectory(prefix="cvlib-release-") as course:
        write_course_config(course, root)
        for name in names:
            generated = generate(name, course, root)
            target = out / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(generated, target)
            written.append(target)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cvlib.tools.grading.release",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", help="assignments to regenerate (default: all)")
    args = parser.parse_args(argv)
    for target in release(args.names or None):
        files = sorted(p.name for p in target.iterdir())
        print(f"{target.relative_to(ROOT)}: {', '.join(files)}")


if __name__ == "__main__":
    main()
