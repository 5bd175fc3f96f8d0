"""What runs first inside a grading box (see :mod:`cvlib.tools.sandbox`); standard library only.

Two stages, both started by bubblewrap's command line, never by hand:

``python -I -S box_launcher.py setup --uid U --gid G --processes N --cpu S --workdir DIR -- ARGV``
    Stage 1. When the grader is root the box is set up by a privileged bubblewrap that keeps
    only ``CAP_SETUID``/``CAP_SETGID``; this stage drops to the unprivileged box user at once
    (which clears every capability), then enters a user namespace of its own, so that
    ``RLIMIT_NPROC`` counts the processes of this box only (Linux >= 5.14 counts it per user
    namespace), sets the limits (processes, CPU seconds, no core files), changes to the
    submission's folder and ``exec``s ``ARGV``. ``-I -S`` keep the student's folder off
    ``sys.path`` while this runs, and skip site-packages (the standard library is all it uses).

``python -P box_launcher.py kernel -f CONNECTION_FILE``
    Stage 2, the kernel itself (stage 1 rewrites ``python -m ipykernel_launcher`` into it):
    installs the handler of the watchdog's memory signal, then runs ipykernel in this process.
    When the box's resident memory passes its limit, the watchdog sends ``SIGUSR2`` and the
    running cell gets a ``MemoryError`` that names the limit; grading goes on with the next
    cell. A kernel that ignores it is killed.
"""

import argparse
import ctypes
import os
import resource
import signal
import sys

CLONE_NEWUSER = 0x10000000
PR_SET_DUMPABLE = 4
MEMORY_SIGNAL = signal.SIGUSR2


def drop_privileges(uid, gid):
    """Become ``uid``/``gid`` with no supplementary groups (and so no capabilities)."""
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.geteuid() == 0 or os.getuid() == 0:
        raise SystemExit("box_launcher: could not drop root privileges")


def enter_user_namespace():
    """A user namespace of our own, our uid and gid mapped to themselves."""
    uid, gid = os.geteuid(), os.getegid()
    libc = ctypes.CDLL(None, use_errno=True)
    # after setuid the process is not dumpable and its /proc/self files belong to root
    libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    if libc.unshare(CLONE_NEWUSER) != 0:
        error = ctypes.get_errno()
        raise SystemExit(
            f"box_launcher: cannot create a user namespace ({os.strerror(error)}); the process "
            "limit needs unprivileged user namespaces (sysctl user.max_user_namespaces > 0)"
        )
    with open("/proc/self/setgroups", "w") as handle:
        handle.write("deny")
    with open("/proc/self/uid_map", "w") as handle:
        handle.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as handle:
        handle.write(f"{gid} {gid} 1")


def set_limits(processes, cpu_seconds):
    """RLIMIT_NPROC, RLIMIT_CPU (soft: SIGXCPU, hard 5 s later: SIGKILL) and no core files."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if processes > 0:
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    if cpu_seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


def kernel_argv(argv):
    """``python -m ipykernel_launcher ...`` becomes stage 2; any other kernel runs as given."""
    if len(argv) >= 3 and argv[1:3] == ["-m", "ipykernel_launcher"]:
        return [argv[0], "-P", os.path.abspath(__file__), "kernel", *argv[3:]]
    return argv


def setup(args):
    if os.geteuid() == 0:
        drop_privileges(args.uid, args.gid)
        enter_user_namespace()
    set_limits(args.processes, args.cpu)
    os.chdir(args.workdir)
    argv = kernel_argv(args.argv)
    os.execv(argv[0], argv)


def _in_user_code(frame):
    while frame is not None:
        if frame.f_code.co_name == "run_code" and "IPython" in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


def _over_memory(signum, frame):
    if _in_user_code(frame):  # never inside ipykernel's own loop between cells
        limit = os.environ.get("CVLIB_BOX_MEMORY_MB", "?")
        raise MemoryError(
            f"the grading sandbox's memory limit was reached: this cell made the kernel use "
            f"more than {limit} MB of resident memory"
        )


def kernel(rest):
    signal.signal(MEMORY_SIGNAL, _over_memory)
    sys.path.insert(0, os.getcwd())  # as `python -m ipykernel_launcher` does
    sys.argv = ["ipykernel_launcher", *rest]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["kernel"]:
        return kernel(argv[1:])
    if "--" not in argv:
        raise SystemExit("box_launcher.py setup: the command to run is missing after --")
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="box_launcher.py setup")
    parser.add_argument("stage", choices=["setup"])
    parser.add_argument("--uid", type=int, required=True)
    parser.add_argument("--gid", type=int, required=True)
    parser.add_argument("--processes", type=int, default=0)
    parser.add_argument("--cpu", type=int, default=0)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args(argv[:split])
    args.argv = argv[split + 1 :]
    if not args.argv:
        parser.error("the command to run is missing after --")
    setup(args)


if __name__ == "__main__":
    main()
