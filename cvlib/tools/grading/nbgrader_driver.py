"""The one way the course runs nbgrader, in a course folder, as its command line would run there.

Two doors, one for each kind of caller, and the environment both give nbgrader:

- :func:`nbgrader` runs a command of nbgrader's command line (``nbgrader generate_assignment
  a1_convolution --force``) in a child process, with this interpreter. The instructor's one-off
  steps use it: releasing the student versions, the demo, the scratch course of the preflight and
  of the benchmarks, the tests. A child process starts from a clean slate each time (nbgrader's
  logging, its configuration, the gradebook's engine), and every command exists there, ``export``
  and ``db`` included, which nbgrader's Python API does not offer.
- :func:`nbgrader_api` gives nbgrader's Python API (``NbGraderAPI``) configured as that command
  line would be in the folder. A grading worker autogrades through it inside its own process:
  it pays nbgrader's start-up once, not once per submission, and the box around the student's
  kernel is then a child of the worker, so it dies with the worker (bubblewrap's
  ``--die-with-parent``); a child nbgrader process would outlive a killed worker, and its box
  with it, still able to write to the gradebook while the submission is graded again elsewhere.
  It also reads a course's settings (``.coursedir``: the gradebook's URL, the folders).
- :func:`environment`: nbgrader runs ``alembic`` (the gradebook's migrations) from ``PATH``, so
  this environment's folder of executables comes first, for both doors and for a gradebook
  opened directly (:mod:`cvlib.tools.grading.scores`).
"""

import contextlib
import os
import subprocess
import sys

from cvlib.tools.grading.sandbox import KERNEL_NAME

__all__ = ["environment", "nbgrader", "nbgrader_api", "search_path"]


def search_path():
    """``PATH`` with the folder of this interpreter's executables first (``alembic`` is there)."""
    return os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])


@contextlib.contextmanager
def environment(**values):
    """``os.environ`` with ``values`` (and ``PATH`` = :func:`search_path` unless given) for an
    nbgrader call in this process; restored afterwards. The environment is the process's: a
    caller that grades from several threads holds a lock around it."""
    values = {"PATH": search_path(), **values}
    old = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def nbgrader(course, *args, check=True):
    """Run ``nbgrader *args`` in ``course`` (with this interpreter); return the finished process.

    Raises
    ------
    RuntimeError
        If the command fails and ``check`` is true, with nbgrader's output.
    """
    env = dict(os.environ, PYTHONWARNINGS="ignore", PATH=search_path())
    command = [sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"]
    result = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"`nbgrader {' '.join(args)}` failed:\n{result.stdout}\n{result.stderr}")
    return result


def nbgrader_api(course, db_url=None, sandbox=True, submitted=None, not_run=None):
    """An ``NbGraderAPI`` configured as ``nbgrader`` run in ``course`` would be (its
    ``nbgrader_config.py`` and the user's Jupyter config), with the boxed kernel unless told;
    ``submitted`` replaces the folder nbgrader reads submissions from. With ``not_run`` (a
    reason), autograding runs no kernel: :class:`~cvlib.tools.grading.not_graded.NotRun` scores
    every test 0 with that reason."""
    from jupyter_core.application import JupyterApp
    from nbgrader.apps import NbGrader, NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Application

    from cvlib.tools.grading import not_graded

    app = NbGrader()
    JupyterApp.load_config_file(app)  # the user's Jupyter config folders, as nbgrader does
    Application.load_config_file(app, "nbgrader_config", path=str(course))  # not the cwd's
    config = app.config
    if db_url:
        config.CourseDirectory.db_url = db_url
    if sandbox:
        config.Execute.kernel_name = KERNEL_NAME
    if submitted:
        config.CourseDirectory.submitted_directory = submitted
    if not_run is not None:
        not_graded.settings(config, not_run)
    return NbGraderAPI(coursedir=CourseDirectory(config=config, root=str(course)), config=config)
