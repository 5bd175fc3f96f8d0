"""A throwaway PostgreSQL server on loopback, for trying (and testing) nbgrader's ``db_url``.

``python -m cvlib.tools.grading.pgserver`` starts one and prints the ``db_url`` to give nbgrader
(``nbgrader autograde a1_convolution --db=postgresql://...``); Ctrl-C stops it and deletes its
files. The tests start one per module through :class:`PostgresServer`.

The server is Debian's PostgreSQL (``/usr/lib/postgresql/<version>/bin``, package ``postgresql``):
a fresh cluster (``initdb``) in a temporary folder, listening on ``127.0.0.1`` on a free port and
on a unix socket in that folder, with ``trust`` authentication (loopback only, nothing to steal).
PostgreSQL refuses to run as root, so when this process is root the cluster belongs to the
unprivileged user ``nobody`` and every server command runs through ``runuser -u nobody``.
Durability settings are off (``fsync=off``): this is a scratch server, never a real gradebook.
"""

import argparse
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not installed, or the server could not be started."""


def find_bindir():
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has ``initdb``, or raise."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not candidates:
        found = shutil.which("initdb")
        if found is None:
            raise PostgresUnavailable(
                "PostgreSQL is not installed (no initdb): install the Debian package `postgresql`"
            )
        return Path(found).parent
    return Path(candidates[-1]).parent


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """A scratch PostgreSQL cluster: ``start()``, ``create_database(name) -> url``, ``stop()``.

    Also a context manager. ``url(database)`` is the SQLAlchemy URL nbgrader's ``db_url`` takes.
    """

    user = "postgres"  # the cluster's superuser (a database role, not a system account)

    def __init__(self, directory=None, bindir=None):
        self.bindir = Path(bindir) if bindir else find_bindir()
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="cvlib-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        self.port = None
        self._as = []  # command prefix that drops root privileges
        if os.geteuid() == 0:
            runuser = shutil.which("runuser") or shutil.which("setpriv")
            if runuser is None:
                raise PostgresUnavailable(
                    "running as root and neither runuser nor setpriv is "
                    "available to start PostgreSQL as `nobody`"
                )
            if runuser.endswith("runuser"):
                self._as = [runuser, "-u", "nobody", "--"]
            else:
                self._as = [runuser, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]

    def _run(self, *command, timeout=120):
        result = subprocess.run(
            [*self._as, *map(str, command)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.directory,
        )
        if result.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise PostgresUnavailable(
                f"`{' '.join(map(str, command))}` failed "
                f"({result.returncode}):\n{result.stdout}\n{result.stderr}"
                f"\n{log}"
            )
        return result

    def start(self):
        """initdb (once) and start the server on a free port; return ``self``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._as:  # the unprivileged server user must own its folder
            os.chmod(self.directory, 0o700)
            shutil.chown(self.directory, "nobody", "nogroup")
        if not (self.data / "PG_VERSION").exists():
            self._run(
                self.bindir / "initdb",
                "-D",
                self.data,
                "-U",
                self.user,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            )
        for attempt in range(3):
            self.port = free_port()
            options = (
                f"-p {self.port} -h 127.0.0.1 -k {self.directory} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                "-c shared_buffers=32MB"
            )
            try:
                self._run(
                    self.bindir / "pg_ctl",
                    "-D",
                    self.data,
                    "-l",
                    self.log,
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                )
                return self
            except PostgresUnavailable:
                if attempt == 2:
                    raise
                time.sleep(0.5)  # the port was taken in the meantime: try another
        return self

    def url(self, database="postgres"):
        """``postgresql+psycopg2://postgres@127.0.0.1:PORT/database``.

        SQLAlchemy 2.1 reads a bare ``postgresql://`` as the psycopg 3 driver; the course has
        psycopg2, so the driver is named.
        """
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name):
        """Create database ``name`` (dropping an old one) and return its URL."""
        import psycopg2

        if not name.replace("_", "").isalnum():
            raise ValueError(f"name: use letters, digits and underscores, got {name!r}")
        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres"
        )
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url(name)

    def stop(self):
        """Stop the server and delete its folder (when this object created it)."""
        if self.port is not None and (self.data / "postmaster.pid").exists():
            try:
                self._run(
                    self.bindir / "pg_ctl",
                    "-D",
                    self.data,
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                    timeout=60,
                )
            except (PostgresUnavailable, subprocess.TimeoutExpired):
                pass
        self.port = None
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cvlib.tools.grading.pgserver",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database", default="cnn_cv", help="database to create")
    args = parser.parse_args(argv)
    with PostgresServer() as server:
        url = server.create_database(args.database)
        print(f"PostgreSQL {server.bindir.parent.name} running in {server.directory}")
        print(f"db_url: {url}")
        print("Ctrl-C stops it and deletes its files.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
