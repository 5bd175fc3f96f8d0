"""Configure the course's JupyterHub: environment, exchange, course folder, users. Run as root.

``setup.sh`` installs the packages and then runs this file with the hub environment's Python;
``tests/test_hub.py`` runs the same steps on loopback. Each step is one subcommand::

    python deploy/hub/configure.py environment --exchange /srv/nbgrader/exchange
    python deploy/hub/configure.py wheel --repo .
    python deploy/hub/configure.py instructor teacher --repo .
    python deploy/hub/configure.py student alice

(each with ``--prefix``, by default ``/opt/cnn-course``).

What each step leaves (the paths under ``--prefix``):

- ``environment``: ``env/etc/jupyter/`` holds what every user shares, the course id and the
  exchange folder (``nbgrader_config.py``), and the students' view of nbgrader, the default for
  every account: the server extension without formgrader, and JupyterLab's *Formgrader* and
  *Create Assignment* disabled and locked. The exchange folder is made, writable by all and sticky
  (nobody deletes another's files). ``etc/hub.json`` lists the users for ``jupyterhub_config.py``.
- ``wheel``: the course library built as a wheel from the repository and installed into ``env``,
  without its dependencies (the lock's, installed by ``setup.sh``). Students import ``cvlib`` from
  site-packages; nothing of the repository (``solutions/``) is on the hub but the instructor's copy.
- ``instructor USER``: the course folder ``~USER/cnn-cv`` (``solutions/``, the course's
  ``nbgrader_config.py`` with this hub's exchange, a private held-out seed), mode 700 like the home
  folder, and USER's own Jupyter config (``~USER/.jupyter``): formgrader and *Create Assignment*
  enabled for USER alone, and nbgrader pointed at the course folder (formgrader finds it there).
- ``student USER``: a home folder only its owner can open (Debian makes them readable by all).

Zero to JupyterHub on Kubernetes maps one to one: the environment is the single-user image (with
``env/etc/jupyter`` baked in), the exchange a shared ``ReadWriteMany`` volume mounted at the same
path, the instructor's folder a volume only the instructor's pod mounts, and the per-user files
``singleuser.extraFiles`` chosen by a profile for the instructor (book/instructors.md, section 9).
"""

import argparse
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

COURSE_ID = "cnn-cv"
COURSE_FOLDER = "cnn-cv"
# nbgrader's server extensions: students get the first three, instructors formgrader as well (the
# gradebook, releasing, collecting, grading by hand).
STUDENT_PARTS = ["assignment_list", "course_list", "validate_assignment"]
INSTRUCTOR_PLUGINS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"]


def write_json(path, data, owner=None):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    if owner:
        chown_tree(path.parent, owner)


def chown_tree(path, user):
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.chown(name, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def server_extensions(instructor):
    """``jpserver_extensions`` for a student (no formgrader) or an instructor (formgrader too)."""
    parts = {f"nbgrader.server_extensions.{p}": True for p in STUDENT_PARTS}
    parts["nbgrader.server_extensions.formgrader"] = instructor
    return {"ServerApp": {"jpserver_extensions": parts}}


def lab_page_config(instructor):
    """JupyterLab's page config: the instructor plugins off and locked for students."""
    flags = dict.fromkeys(INSTRUCTOR_PLUGINS, not instructor)
    return {"disabledExtensions": flags, "lockedExtensions": flags}


def environment(prefix, exchange, users=None):
    """What every user of the environment shares; see the module's docstring."""
    etc = Path(prefix) / "env" / "etc" / "jupyter"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "nbgrader_config.py").write_text(
        "# Every user of the course's hub (deploy/hub/configure.py)\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
    )
    # In one folder the files of jupyter_server_config.d/ come after jupyter_server_config.json,
    # in name order: this one sorts after nbgrader's own nbgrader.json, which enables all of it.
    students = etc / "jupyter_server_config.d" / "nbgrader_students.json"
    write_json(students, server_extensions(instructor=False))
    write_json(etc / "labconfig" / "page_config.json", lab_page_config(instructor=False))
    Path(exchange).mkdir(parents=True, exist_ok=True)
    os.chmod(exchange, 0o1777)
    hub = Path(prefix) / "etc" / "hub.json"
    known = json.loads(hub.read_text()) if hub.exists() else {"instructors": [], "students": []}
    write_json(hub, {"prefix": str(prefix), "exchange": str(exchange), **known, **(users or {})})


def add_user(prefix, kind, user):
    hub = Path(prefix) / "etc" / "hub.json"
    known = json.loads(hub.read_text())
    known[kind] = sorted(set(known[kind]) | {user})
    write_json(hub, known)


def build_wheel(repo, out):
    """Build the course library's wheel from a copy of what the wheel needs; its path."""
    with tempfile.TemporaryDirectory() as tmp:
        for name in ["pyproject.toml", "README.md", "LICENSE", "LICENSE-TEXT.md"]:
            shutil.copy2(Path(repo) / name, tmp)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(Path(repo) / "cvlib", Path(tmp) / "cvlib", ignore=ignore)
        command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
        subprocess.run([*command, "--no-build-isolation", "-w", str(out), tmp], check=True)
    (wheel,) = Path(out).glob("cnn_course_cvlib-*.whl")
    return wheel


def install_wheel(repo, python):
    """Install the course library into the environment of ``python`` as a built wheel."""
    with tempfile.TemporaryDirectory() as out:
        wheel = build_wheel(repo, out)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall"]
        subprocess.run([*pip, str(wheel)], check=True)


def course_config(repo, exchange):
    """The course folder's ``nbgrader_config.py``: the repository's, with this hub's exchange."""
    text = (Path(repo) / "nbgrader_config.py").read_text()
    return text + (
        "\n# --- this hub (deploy/hub/configure.py) --------------------------------------------\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
    )


def instructor(prefix, repo, user):
    """The instructor's private course folder and Jupyter config; the folder's path."""
    home = Path(pwd.getpwnam(user).pw_dir)
    exchange = json.loads((Path(prefix) / "etc" / "hub.json").read_text())["exchange"]
    course = home / COURSE_FOLDER
    course.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    shutil.copytree(
        Path(repo) / "solutions", course / "solutions", ignore=ignore, dirs_exist_ok=True
    )
    (course / "nbgrader_config.py").write_text(course_config(repo, exchange))
    seed = course / ".heldout_seed"
    if not seed.exists():
        seed.write_text(f"{secrets.randbelow(2**31)}\n")
    jupyter = home / ".jupyter"
    (jupyter / "nbgrader_config.py").parent.mkdir(parents=True, exist_ok=True)
    (jupyter / "nbgrader_config.py").write_text(
        "# The course this instructor grades: formgrader and nbgrader read it from here.\n"
        "c = get_config()  # noqa: F821\n"
        f"load_subconfig({str(course / 'nbgrader_config.py')!r})  # noqa: F821\n"
    )
    write_json(jupyter / "jupyter_server_config.json", server_extensions(instructor=True))
    write_json(jupyter / "labconfig" / "page_config.json", lab_page_config(instructor=True))
    chown_tree(course, user)
    chown_tree(jupyter, user)
    for path in (home, course):
        os.chmod(path, 0o700)
    os.chmod(seed, 0o600)
    add_user(prefix, "instructors", user)
    return course


def student(prefix, user):
    """A student: a home folder for its owner alone."""
    os.chmod(pwd.getpwnam(user).pw_dir, 0o700)
    add_user(prefix, "students", user)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    for name in ("environment", "wheel", "instructor", "student"):
        step = sub.add_parser(name)
        step.add_argument("--prefix", default="/opt/cnn-course")
        if name in ("instructor", "student"):
            step.add_argument("user")
        if name in ("wheel", "instructor"):
            step.add_argument("--repo", default=str(Path(__file__).resolve().parents[2]))
    sub.choices["environment"].add_argument("--exchange", default="/srv/nbgrader/exchange")
    args = parser.parse_args(argv)
    if args.step == "environment":
        environment(args.prefix, args.exchange)
    elif args.step == "wheel":
        install_wheel(args.repo, Path(args.prefix) / "env" / "bin" / "python")
    elif args.step == "instructor":
        print(instructor(args.prefix, args.repo, args.user))
    else:
        student(args.prefix, args.user)


if __name__ == "__main__":
    main()
