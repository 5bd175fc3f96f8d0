"""A box around every kernel that runs student code: bubblewrap, plus limits a watchdog enforces.

The kernel of a boxed notebook runs

- as an unprivileged user (``nobody`` when the grader is root; the grader's own uid, mapped to
  65534, otherwise), with no capabilities;
- with no network at all: a network namespace of its own holds only its own loopback, so
  nothing of the host, its loopback included, can be reached;
- with a private ``/tmp`` and ``/dev``, its own process tree (pid namespace), hostname and IPC,
  and no way to make user namespaces of its own (a seccomp filter, :mod:`.box_launcher`);
- seeing only the system (``/usr``, a few files of ``/etc``), the Python environment and the
  course library (``cvlib``), all read-only, and, writable, the submission's own working copy
  (the kernel's folder, ``autograded/<student>/<assignment>/``) and a private folder in
  ``/tmp`` that holds the kernel's connection file and sockets. The rest of the course folder
  (source, other submissions, gradebook, exchange, feedback) and the grader's home do not exist
  in the box.

The kernel and its client talk through Unix sockets in that private folder (jupyter_client's
``ipc`` transport), so no TCP port is needed. Limits (:class:`Limits`): resident memory of the
whole box (the watchdog first raises ``MemoryError`` in the running cell, then kills the box),
CPU seconds per process (``RLIMIT_CPU``), wall-clock seconds per kernel and a number of
processes and threads (``RLIMIT_NPROC``, counted for this box alone), which stops fork bombs.

It plugs into Jupyter as a kernel provisioner: the kernel spec ``cvlib-sandbox`` names
:class:`cvlib.tools.grading.sandbox_kernel.SandboxProvisioner`, so every client boxes it,
``nbgrader autograde`` included::

    python -m cvlib.tools.grading.sandbox check              # is bubblewrap installed and working?
    python -m cvlib.tools.grading.sandbox install --memory 3072
    # then in the course's nbgrader_config.py:  c.Execute.kernel_name = "cvlib-sandbox"

``python -m cvlib.tools.grading.autograde_class`` does this by itself (a kernel spec in a private
folder). What a limit stopped is logged and, when ``CVLIB_SANDBOX_REPORT`` names a file,
appended to it as one JSON line per event.
"""

import argparse
import json
import os
import pwd
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

KERNEL_NAME = "cvlib-sandbox"
LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "box_launcher.py")
INSTALL_HINT = "install bubblewrap: `apt-get install bubblewrap` (Debian, Ubuntu)"
BOX_USER = "nobody"
# environment variables a kernel may inherit; everything else (tokens, database URLs) stays out
PASSED_ENV = ("NBGRADER_EXECUTION", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONHASHSEED")
PASSED_PREFIXES = ("OMP_", "MKL_", "OPENBLAS_", "CVLIB_")
# never in a kernel: the instructor's held-out seed (cvlib.grading.heldout) stays with the grader
WITHHELD_ENV = ("CVLIB_HELDOUT_SEED",)
ETC = (
    "alternatives",
    "fonts",
    "group",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "passwd",
)


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot build a box on this machine."""


@dataclass(frozen=True)
class Limits:
    """What one boxed kernel may use; 0 means no limit.

    ``memory_mb``: resident memory of all the box's processes together, in MB.
    ``cpu_seconds``: CPU time of each process. ``wall_seconds``: lifetime of the kernel.
    ``processes``: processes and threads of the box together.
    """

    memory_mb: int = 2048
    cpu_seconds: int = 900
    wall_seconds: int = 1200
    processes: int = 256

    def __post_init__(self):
        for name, value in asdict(self).items():
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"`{name}` must be an int, got {type(value).__name__}")
            if value < 0:
                raise ValueError(f"`{name}` must be >= 0 (0: no limit), got {value}")


def find_bwrap():
    """Path of ``bwrap``, or raise :class:`SandboxUnavailable` saying how to install it."""
    found = shutil.which("bwrap")
    if found is None:
        raise SandboxUnavailable(f"bubblewrap (`bwrap`) is not installed: {INSTALL_HINT}")
    return found


def box_ids():
    """(uid, gid) the kernel runs as: ``nobody`` for a root grader, else the grader's own."""
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid()
    try:
        entry = pwd.getpwnam(BOX_USER)
    except KeyError:
        raise SandboxUnavailable(
            f"the grader runs as root and there is no user {BOX_USER!r} to drop to: "
            f"create one (`useradd --system --no-create-home {BOX_USER}`)"
        ) from None
    return entry.pw_uid, entry.pw_gid


def read_only_paths():
    """What the box shows read-only besides ``/usr``: Python's prefixes and the cvlib package."""
    import cvlib

    paths = {sys.base_prefix, sys.prefix, *cvlib.__path__}
    paths = {os.path.realpath(p) for p in paths} | paths
    shown = (p for p in paths if p != "/usr" and not p.startswith("/usr/"))  # /usr: always
    return sorted(p for p in shown if os.path.isdir(p))


def kernel_env(env, limits):
    """The kernel's environment: a few passed-through variables, the rest fixed."""
    kept = {k: v for k, v in env.items() if k in PASSED_ENV or k.startswith(PASSED_PREFIXES)}
    kept = {k: v for k, v in kept.items() if k not in WITHHELD_ENV}
    kept.setdefault("OMP_NUM_THREADS", "1")  # one kernel per core
    return {
        **kept,
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
        "MPLCONFIGDIR": "/tmp/.matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        "CVLIB_BOX_MEMORY_MB": str(limits.memory_mb),
        "JPY_PARENT_PID": "1",  # ipykernel: started by a client (no banner), no parent poller
    }


def box_command(argv, workdir, box_dir, limits, env=None, masks=()):
    """The bubblewrap command line that runs ``argv`` boxed, writing only ``workdir``/``box_dir``.

    Both folders keep their host paths inside the box, so the connection file written in
    ``box_dir`` is valid on both sides. ``masks`` (from :func:`write_masks`) lists
    ``(path, stand_in)`` pairs: each file or folder ``path`` is absent from the box, a module
    that says so (``stand_in``) in its place. The box's ``/tmp`` is a memory file system of at
    most ``limits.memory_mb`` (the watchdog counts what is in it as the box's memory).
    """
    bwrap = find_bwrap()
    uid, gid = box_ids()
    root = os.geteuid() == 0
    command = [bwrap, "--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid"]
    command += ["--unshare-net", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "box"]
    if root:  # privileged set-up; stage 1 of box_launcher drops to `nobody` at once
        command += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        command += ["--unshare-user", "--disable-userns", "--uid", "65534", "--gid", "65534"]
    command += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = f"/{name}"
        if os.path.islink(path):
            command += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            command += ["--ro-bind", path, path]
    command += ["--perms", "0755", "--dir", "/etc"]  # bwrap would make it 0700 root
    for name in ETC:
        command += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    command += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777"]
    if limits.memory_mb:
        command += ["--size", str(limits.memory_mb * 2**20)]
    command += ["--tmpfs", "/tmp"]
    shown, writable = read_only_paths(), [str(box_dir), str(workdir)]
    for parent in _ancestors([*shown, *writable]):  # bwrap would make them 0700 root
        command += ["--perms", "0755", "--dir", parent]
    for path in shown:
        command += ["--ro-bind", path, path]
    for path in writable:
        command += ["--bind", path, path]
    for path, stand_in in masks:
        if os.path.isdir(path):  # an empty folder whose __init__ says the package is absent
            command += ["--tmpfs", path, "--ro-bind", stand_in, os.path.join(path, "__init__.py")]
        else:
            command += ["--ro-bind", stand_in, path]
    command += ["--chdir", "/", "--clearenv"]
    for key, value in sorted(kernel_env(env or os.environ, limits).items()):
        command += ["--setenv", key, value]
    command += ["--", sys.executable, "-I", "-S", LAUNCHER, "setup", f"--uid={uid}", f"--gid={gid}"]
    command += [f"--processes={limits.processes}", f"--cpu={limits.cpu_seconds}"]
    return [*command, f"--workdir={workdir}", "--", *argv]


def mask_paths(hidden, allowed=()):
    """Files and folders that make the modules ``hidden`` absent from a box, except the
    submodules ``allowed`` (``mask_paths(["torch", "cvlib"], ["cvlib.kernels"])``).

    A top-level name is masked wherever the box could find it (every folder of ``sys.path``);
    ``"cvlib"`` (or any package) is masked module by module, so that its ``__init__`` and the
    allowed modules stay, and its compiled caches (``__pycache__``) go with the modules.
    """
    import importlib.util

    paths = []
    for name in hidden:
        top, _, _ = name.partition(".")
        inside = [a for a in allowed if a.startswith(top + ".")]
        spec = importlib.util.find_spec(top)
        if spec is None:
            continue
        folders = spec.submodule_search_locations or []
        launcher = any(LAUNCHER.startswith(os.path.join(f, "")) for f in folders)
        if (inside or launcher) and folders:  # module by module: the box's launcher stays
            for folder in spec.submodule_search_locations:
                paths += _package_masks(folder, top, allowed)
            continue
        for entry in sys.path:
            for candidate in (
                os.path.join(entry or ".", top),
                os.path.join(entry or ".", f"{top}.py"),
            ):
                if os.path.exists(candidate):
                    paths.append(os.path.realpath(candidate))
    return sorted(set(paths))


def _package_masks(folder, package, allowed):
    """Every module and subpackage of ``package`` (in ``folder``) but the ``allowed`` ones and
    ``__init__``, plus its ``__pycache__``. The box's own launcher always stays."""
    launcher = os.path.realpath(LAUNCHER)
    paths = []
    for entry in sorted(os.listdir(folder)):
        path = os.path.realpath(os.path.join(folder, entry))
        stem = entry[:-3] if entry.endswith(".py") else entry
        if entry == "__init__.py" or f"{package}.{stem}" in allowed or path == launcher:
            continue
        if os.path.isdir(path) and launcher.startswith(path + os.sep):
            paths += _package_masks(path, f"{package}.{stem}", allowed)
        elif entry == "__pycache__" or entry.endswith(".py") or os.path.isdir(path):
            paths.append(path)
    return paths


def write_masks(box_dir, paths):
    """Write the stand-in module for every path of :func:`mask_paths` into ``box_dir``; the
    ``masks`` argument of :func:`box_command`."""
    folder = Path(box_dir) / "masks"
    folder.mkdir(exist_ok=True)
    masks = []
    for number, path in enumerate(paths):
        stand_in = folder / f"m{number}.py"
        name = os.path.basename(path.rstrip(os.sep))
        module = name[:-3] if name.endswith(".py") else name
        message = f"{module} is not available to this assignment's answers (not in the box)"
        stand_in.write_text(f"raise ImportError({message!r})\n")
        stand_in.chmod(0o644)
        masks.append((path, str(stand_in)))
    return masks


def _ancestors(paths):
    """Folders above ``paths`` that the box must create, outermost first."""
    above = {str(p) for path in paths for p in Path(path).parents if str(p) not in ("/", "/tmp")}
    return sorted(above, key=lambda p: (p.count("/"), p))


def chown_tree(path, uid, gid):
    """``chown -R`` without following symbolic links (what the box made stays in the box)."""
    os.chown(path, uid, gid, follow_symlinks=False)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


def make_box_dir():
    """A private folder for the connection file and sockets, with a short path (socket paths
    are limited to 107 bytes), owned by the box user."""
    box_dir = Path(tempfile.mkdtemp(prefix="cvlib-box-", dir="/tmp"))
    if os.geteuid() == 0:
        os.chown(box_dir, *box_ids())
    return box_dir


def kernel_spec(limits=Limits(), python=None):
    """The ``kernel.json`` of the boxed Python kernel, with ``limits`` as provisioner config."""
    return {
        "argv": [python or sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (cvlib sandbox)",
        "language": "python",
        "interrupt_mode": "message",  # the interrupt travels on the control channel, no signals
        "metadata": {
            "kernel_provisioner": {"provisioner_name": KERNEL_NAME, "config": asdict(limits)}
        },
    }


def write_kernel_spec(folder, limits=Limits()):
    """Write ``folder/kernels/cvlib-sandbox/kernel.json``; ``folder`` goes on ``JUPYTER_PATH``."""
    target = Path(folder) / "kernels" / KERNEL_NAME
    target.mkdir(parents=True, exist_ok=True)
    (target / "kernel.json").write_text(json.dumps(kernel_spec(limits), indent=1) + "\n")
    return target


def check():
    """Start a box that tries the network, prints its uid and reads ``/etc``; raise if the box
    fails or reaches the network."""
    import subprocess

    box_dir = make_box_dir()
    try:
        probe = (
            "import os, socket\n"
            "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\n"
            "    print('network: REACHABLE')\n"
            "except OSError:\n    print('network: none')\n"
            "print('uid', os.getuid())\n"
            "print('/etc readable:', os.access('/etc/passwd', os.R_OK))"
        )
        command = box_command([sys.executable, "-c", probe], box_dir, box_dir, Limits())
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(box_dir, ignore_errors=True)
    expected = ("network: none", "/etc readable: True")
    if result.returncode != 0 or not all(e in result.stdout for e in expected):
        raise SandboxUnavailable(
            f"bubblewrap could not build a box (exit {result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )
    return result.stdout


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cvlib.tools.grading.sandbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["check", "install"])
    parser.add_argument("--memory", type=int, default=Limits.memory_mb, help="MB resident")
    parser.add_argument("--cpu", type=int, default=Limits.cpu_seconds, help="CPU s/process")
    parser.add_argument("--wall", type=int, default=Limits.wall_seconds, help="s per kernel")
    parser.add_argument("--processes", type=int, default=Limits.processes)
    parser.add_argument("--prefix", default=sys.prefix, help="where to install the kernel spec")
    args = parser.parse_args(argv)
    try:
        print(check(), end="")
    except SandboxUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.action == "install":
        limits = Limits(args.memory, args.cpu, args.wall, args.processes)
        folder = write_kernel_spec(Path(args.prefix) / "share" / "jupyter", limits)
        print(f"kernel spec {KERNEL_NAME!r} written to {folder}; in nbgrader_config.py set")
        print(f'c.Execute.kernel_name = "{KERNEL_NAME}"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
