"""What of a submission enters the grading box: regular files it is expected to hold, nothing else.

A submission folder is the student's: it may hold symbolic links (to the instructor's solution,
to the grader's private files, to another student's work), folders named like the course's
packages (a ``cvlib/`` that would shadow the library on the kernel's import path), checkpoints
and anything else. :func:`stage` copies into a separate folder only what the assignment expects:

- its notebooks (``<notebook>.ipynb`` of :mod:`cvlib.grading.registry`, or every top-level
  notebook of an assignment the registry does not know), the files it declares, and nbgrader's
  ``timestamp.txt``;
- each as a regular file, opened without following links (``O_NOFOLLOW``), so a link is never
  read through, whatever it points at;
- and refuses the rest, saying what and why, for the class summary and the student's feedback.

The submission itself is left as it was: nothing the student handed in is changed or lost.
"""

import os
import shutil
import stat
from pathlib import Path

from cvlib.grading import registry

KEEP = ("timestamp.txt", "submission_secret.txt")  # nbgrader's own files in a submission
MAX_FILE_BYTES = 64 * 2**20


def expected(assignment, folder):
    """The file names a submission of ``assignment`` may bring into the box."""
    known = registry.find(assignment)
    if known is None:
        notebooks = [n for n in _names(folder) if n.endswith(".ipynb")]
    else:
        notebooks = [f"{known.notebook}.ipynb"]
    return {*notebooks, *(known.files if known else ()), *KEEP}


def _names(folder):
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def stage(submission, target, assignment):
    """Copy the expected regular files of the folder ``submission`` into ``target`` (created);
    return the list of what was refused, one line each (empty: everything was clean).

    A ``submission`` that is itself a link, or lies under one, is refused whole.
    """
    submission, target = Path(submission), Path(target)
    refused = []
    if _linked(submission):
        refused.append(f"{submission.name}/: the submission folder is a symbolic link")
        target.mkdir(parents=True, exist_ok=True)
        return refused
    allowed = expected(assignment, submission)
    target.mkdir(parents=True, exist_ok=True)
    for name in _names(submission):
        path = submission / name
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            refused.append(f"{name}: a symbolic link (to {os.readlink(path)!r}), not graded")
        elif name not in allowed:
            what = "folder" if stat.S_ISDIR(info.st_mode) else "file"
            if name != ".ipynb_checkpoints":
                refused.append(f"{name}: a {what} the assignment does not ask for, left out")
        elif not stat.S_ISREG(info.st_mode):
            refused.append(f"{name}: not a regular file, not graded")
        elif info.st_size > MAX_FILE_BYTES:
            refused.append(f"{name}: larger than {MAX_FILE_BYTES >> 20} MB, not graded")
        else:
            _copy(path, target / name)
    return refused


def _linked(path):
    """True if ``path`` or one of its parents below the course folder is a link."""
    path = Path(os.path.abspath(path))
    for part in [path, *path.parents][:3]:  # <assignment>, <student>, submitted
        if part.is_symlink():
            return True
    return False


def _copy(source, target):
    """Copy a regular file without following a link at ``source`` (it was checked with lstat;
    O_NOFOLLOW closes the race with a swap after that)."""
    descriptor = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(descriptor, "rb") as handle, open(target, "wb") as out:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(f"{source} is not a regular file")
        shutil.copyfileobj(handle, out)
