"""The boxed kernel as a Jupyter kernel provisioner, and the watchdog that enforces its limits.

:class:`SandboxProvisioner` is what the ``cvlib-sandbox`` kernel spec names (entry point
``jupyter_client.kernel_provisioners``: ``cvlib-sandbox``): any Jupyter client, nbgrader
included, that starts that kernel gets it boxed by :func:`cvlib.tools.grading.sandbox.box_command`.
Before the launch it moves the connection to Unix sockets in a private folder the box shares
(``ipc`` transport) and, when the grader is root, hands the submission's working copy to the
box user (and takes it back afterwards). :class:`Watchdog` then samples the box's processes
every 0.1 s: resident memory of the whole box, number of processes and threads, wall clock.

Limits and what happens at each (also logged, and written to ``$CVLIB_SANDBOX_REPORT``):

- memory: ``SIGUSR2`` to the kernel, whose running cell raises ``MemoryError`` (see
  :mod:`.box_launcher`); if the box is still above the limit 3 s later, or above 1.5
  times the limit at any time, the box is killed;
- processes: ``fork`` fails (``RLIMIT_NPROC``) and the event is recorded;
- CPU seconds (``RLIMIT_CPU``): the kernel is killed by ``SIGXCPU``;
- wall clock: the box is killed.
"""

import json
import os
import shutil
import signal
import threading
import time

import psutil
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Integer, List, Unicode

from cvlib.tools.grading import box_launcher
from cvlib.tools.grading.sandbox import (
    Limits,
    box_command,
    box_ids,
    chown_tree,
    make_box_dir,
    write_masks,
)

SIGNAL_EXIT = 128  # bubblewrap exits with 128 + N when the kernel died of signal N
GRACE_SECONDS = 3.0
HARD_FACTOR = 1.5


def report(event, log=None):
    """Log ``event`` and append it to the report file: ``{"limit": ..., "detail": ...}`` for a
    limit, ``{"kernel": ...}`` for a kernel that died of something else."""
    if log is not None:
        text = event.get("kernel") or f"{event['limit']} limit: {event['detail']}"
        log.warning("cvlib sandbox: %s", text)
    path = os.environ.get("CVLIB_SANDBOX_REPORT")
    if path:
        with open(path, "a") as handle:
            handle.write(json.dumps(event) + "\n")


class Watchdog(threading.Thread):
    """Samples the process tree under ``pid`` and enforces memory, processes and wall clock."""

    interval = 0.1

    def __init__(self, pid, limits, workdir, log=None):
        super().__init__(daemon=True, name=f"cvlib-sandbox-watchdog-{pid}")
        self.pid, self.limits, self.workdir, self.log = pid, limits, workdir, log
        self.peak_mb, self.events = 0.0, []
        self.killed = False
        self._stop_event = threading.Event()
        self._reported = set()

    def processes(self):
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kernel_process(self):
        """The first process of the box that is not bubblewrap (the kernel), or None."""
        for proc in self.processes()[1:]:
            try:
                if proc.name() != "bwrap":
                    return proc
            except psutil.NoSuchProcess:
                continue
        return None

    def event(self, limit, detail, once=True):
        if once and limit in self._reported:
            return
        self._reported.add(limit)
        event = {"limit": limit, "detail": detail, "workdir": self.workdir}
        self.events.append(event)
        report(event, self.log)

    def kill_box(self):
        """SIGKILL every process of the box."""
        self.killed = True
        for proc in reversed(self.processes()):
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass

    def sample(self):
        """(resident MB, processes and threads) of the whole box.

        Resident memory is the sum of RSS, cheap to read; only when that passes the limit is
        it measured again as the sum of PSS, which counts a page shared by forked processes
        once instead of once per process.
        """
        procs, rss, tasks = self.processes(), 0, 0
        for proc in procs:
            try:
                rss += proc.memory_info().rss
                tasks += proc.num_threads()
            except psutil.NoSuchProcess:
                continue
        if self.limits.memory_mb and rss > self.limits.memory_mb * 2**20:
            rss = 0
            for proc in procs:
                try:
                    rss += proc.memory_full_info().pss
                except psutil.NoSuchProcess:
                    continue
        return (rss + self.tmp_bytes(procs)) / 2**20, tasks

    @staticmethod
    def tmp_bytes(procs):
        """Bytes written to the box's ``/tmp``, a memory file system: they count as memory."""
        for proc in procs[1:]:
            try:
                if proc.name() == "bwrap":  # still the host's /tmp
                    continue
                usage = os.statvfs(f"/proc/{proc.pid}/root/tmp")
            except (OSError, psutil.NoSuchProcess):
                continue
            return (usage.f_blocks - usage.f_bfree) * usage.f_frsize
        return 0

    def run(self):
        start, over_since = time.monotonic(), None
        memory, processes, wall = (
            self.limits.memory_mb,
            self.limits.processes,
            self.limits.wall_seconds,
        )
        while not self._stop_event.wait(self.interval):
            megabytes, tasks = self.sample()
            if not tasks:
                return
            self.peak_mb = max(self.peak_mb, megabytes)
            now = time.monotonic()
            if wall and now - start > wall:
                self.event("wall clock", f"the kernel ran longer than {wall} s and was killed")
                return self.kill_box()
            if processes and tasks >= processes - 1:
                self.event("processes", f"the box reached its {processes} processes and threads")
            if not memory or megabytes <= memory:
                over_since = None
                continue
            if over_since is None:  # first: a MemoryError in the running cell
                over_since = now
                self.event(
                    "memory",
                    f"{megabytes:.0f} MB resident, over the {memory} MB limit: MemoryError "
                    "raised in the running cell",
                    once=False,
                )
                self.signal_kernel(box_launcher.MEMORY_SIGNAL)
            elif now - over_since > GRACE_SECONDS or megabytes > HARD_FACTOR * memory:
                self.event(
                    "memory",
                    f"{megabytes:.0f} MB resident, over the {memory} MB limit: kernel killed",
                    once=False,
                )
                return self.kill_box()

    def signal_kernel(self, signum):
        proc = self.kernel_process()
        if proc is not None:
            try:
                proc.send_signal(signum)
            except psutil.NoSuchProcess:
                pass

    def stop(self):
        self._stop_event.set()


class SandboxProvisioner(LocalProvisioner):
    """Launches the kernel in a bubblewrap box with :class:`~cvlib.tools.grading.sandbox.Limits`."""

    memory_mb = Integer(Limits.memory_mb, config=True, help="MB of resident memory (0: none)")
    cpu_seconds = Integer(Limits.cpu_seconds, config=True, help="CPU s per process (0: none)")
    wall_seconds = Integer(Limits.wall_seconds, config=True, help="kernel lifetime s (0: none)")
    processes = Integer(Limits.processes, config=True, help="processes and threads (0: none)")
    hidden = List(Unicode(), config=True, help="files and folders absent from the box")

    box_dir = None
    workdir = None
    watchdog = None
    _owner = None
    _death_reported = False

    def limits(self):
        return Limits(self.memory_mb, self.cpu_seconds, self.wall_seconds, self.processes)

    async def pre_launch(self, **kwargs):
        km = self.parent
        self.box_dir = make_box_dir()
        km.transport = "ipc"
        km.ip = str(self.box_dir / "kernel")
        km.connection_file = str(self.box_dir / "kernel.json")
        km.cache_ports = False
        kwargs = await super().pre_launch(**kwargs)
        self.workdir = os.path.abspath(kwargs.get("cwd") or os.getcwd())
        masks = write_masks(self.box_dir, self.hidden)
        kwargs["cmd"] = box_command(
            kwargs["cmd"], self.workdir, self.box_dir, self.limits(), kwargs.get("env"), masks
        )
        if os.geteuid() == 0:  # the box user may write its working copy and read its key
            stat = os.stat(self.workdir)
            self._owner = (stat.st_uid, stat.st_gid)
            chown_tree(self.workdir, *box_ids())
            os.chown(km.connection_file, *box_ids())
        return kwargs

    async def launch_kernel(self, cmd, **kwargs):
        info = await super().launch_kernel(cmd, **kwargs)
        self.watchdog = Watchdog(self.process.pid, self.limits(), self.workdir, self.log)
        self.watchdog.start()
        return info

    async def poll(self):
        ret = await super().poll()
        if ret is not None and self.process is not None:
            self._ended(ret)
        return ret

    def _ended(self, returncode):
        if self.watchdog is None or self.watchdog.killed or returncode == 0:
            return
        if returncode in (SIGNAL_EXIT + signal.SIGXCPU, -signal.SIGXCPU):
            self.watchdog.event(
                "cpu time",
                f"the kernel used its {self.cpu_seconds} s of CPU time and was killed",
            )
        elif not self._death_reported:  # not a limit: the student's code ended its kernel
            self._death_reported = True
            how = (
                f"was killed by signal {returncode - SIGNAL_EXIT}"
                if returncode > SIGNAL_EXIT
                else f"exited with code {returncode}"
            )
            report({"kernel": f"the kernel {how} while running the notebook"}, self.log)

    async def send_signal(self, signum):
        if self.watchdog is None or self.process is None:
            return await super().send_signal(signum)
        if signum in (signal.SIGKILL, signal.SIGTERM):
            self.watchdog.kill_box()
        else:
            self.watchdog.signal_kernel(signum)

    async def cleanup(self, restart=False):
        if self.watchdog is not None:
            self.watchdog.stop()
            self.watchdog.kill_box()  # nothing of the box outlives its kernel
            self.watchdog.join(timeout=5)
            self.log.debug("cvlib sandbox: peak resident memory %.0f MB", self.watchdog.peak_mb)
        if self._owner is not None and self.workdir and os.path.isdir(self.workdir):
            chown_tree(self.workdir, *self._owner)
        if self.box_dir is not None:
            shutil.rmtree(self.box_dir, ignore_errors=True)
        await super().cleanup(restart=restart)
