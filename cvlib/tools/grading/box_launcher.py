"""What runs first inside a grading box (see :mod:`.sandbox`); standard library only.

Two stages, both started by bubblewrap's command line, never by hand:

``python -I -S box_launcher.py setup --uid U --gid G --processes N --cpu S --workdir DIR -- ARGV``
    Stage 1. When the grader is root the box is set up by a privileged bubblewrap that keeps
    only ``CAP_SETUID``/``CAP_SETGID``; this stage drops to the unprivileged box user at once
    (which clears every capability), then enters a user namespace of its own, so that
    ``RLIMIT_NPROC`` counts the processes of this box only (Linux >= 5.14 counts it per user
    namespace), forbids any further user namespace (a seccomp filter), sets the limits
    (processes, CPU seconds, no core files), changes to the
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
import errno
import os
import platform
import resource
import signal
import struct
import sys

CLONE_NEWUSER = 0x10000000
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
# machine -> (AUDIT_ARCH_*, unshare, clone, clone3) system call numbers
SYSCALLS = {
    "x86_64": (0xC000003E, 272, 56, 435),
    "aarch64": (0xC00000B7, 97, 220, 435),
}
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


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def no_more_user_namespaces():
    """A seccomp filter: ``unshare``/``clone`` with ``CLONE_NEWUSER`` fail with EPERM, ``clone3``
    with ENOSYS (glibc then uses ``clone``), other architectures' calls with ENOSYS. Returns
    False on a machine it does not know (the box still works, nested namespaces stay possible).
    """
    if platform.machine() not in SYSCALLS:
        return False
    arch, unshare, clone, clone3 = SYSCALLS[platform.machine()]
    load, jeq, jset, ret = 0x20, 0x15, 0x45, 0x06
    allow, eperm = 0x7FFF0000, 0x00050000 | errno.EPERM
    enosys = 0x00050000 | errno.ENOSYS
    program = [
        (load, 0, 0, 4),  # seccomp_data.arch
        (jeq, 1, 0, arch),
        (ret, 0, 0, enosys),
        (load, 0, 0, 0),  # seccomp_data.nr
        (jeq, 0, 1, clone3),
        (ret, 0, 0, enosys),
        (jeq, 1, 0, unshare),
        (jeq, 0, 3, clone),
        (load, 0, 0, 16),  # low 32 bits of the first argument: the flags
        (jset, 0, 1, CLONE_NEWUSER),
        (ret, 0, 0, eperm),
        (ret, 0, 0, allow),
    ]
    code = b"".join(struct.pack("HBBI", *op) for op in program)
    libc = ctypes.CDLL(None, use_errno=True)
    fprog = _Program(len(program), code)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or libc.prctl(
        PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0
    ):
        raise SystemExit(f"box_launcher: seccomp failed ({os.strerror(ctypes.get_errno())})")
    return True


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
    no_more_user_namespaces()  # the box's code may not make namespaces of its own
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
