"""A throwaway copy of the course's hub (deploy/hub) on loopback, for ``tests/test_hub.py``.

:class:`Hub` does what ``deploy/hub/setup.sh`` does, with what this machine already has instead
of apt, pip and npm: the hub environment is a fresh virtual environment whose site-packages are
hard links to the project's but PyTorch's (every file inside the environment, as pip would leave
it: the grading box shows the kernel that folder alone; assignment 1 needs no torch), running
on Debian's Python 3.11 as ``setup.sh``'s does, plus the course library as a built wheel
(``configure.py wheel``); the proxy is ``deploy/hub/node_modules`` (``make hub-proxy``). Then
the same ``configure.py`` steps as ``setup.sh``, three local users made with ``useradd``, and
JupyterHub started as root with the deployment's ``jupyterhub_config.py`` on free loopback
ports, and an API token of a service with the admin role. :meth:`Hub.stop` stops the hub (which
stops the servers and the proxy it started), ends whatever is still running as the test's
users, by process id, and removes the users, their homes and the environment.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from importlib.metadata import distributions
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy" / "hub"
PROXY = DEPLOY / "node_modules" / ".bin" / "configurable-http-proxy"
SCRIPT = "#!{python}\nimport sys\nfrom {module} import {name}\nsys.exit({call}())\n"
# The hub environment's interpreter: Debian's, as setup.sh uses (3.11.2 on Debian 12), which every
# user can run (this process's own may live in root's home).
BASE_PYTHON = "/usr/bin/python3.11"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Assignment 1 and the hub need no PyTorch: its 5 GB stay out of the hub's environment.
SKIPPED = ("torch", "nvidia", "triton", "cuda")


def copy_tree(source, target):
    """Hard links of ``source``'s files at ``target``; copies where /tmp is another disk."""
    link = subprocess.run(["cp", "-al", str(source), str(target)], capture_output=True)
    if link.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(["cp", "-a", str(source), str(target)], check=True)


def hub_environment(env):
    """A virtual environment at ``env`` holding this one's packages (hard links) but cvlib.

    Its ``share/`` (JupyterLab, the extensions, the kernel spec) is linked too, and its ``etc/``
    copied: ``configure.py`` writes there, which must not change the project's environment.
    """
    subprocess.run([BASE_PYTHON, "-m", "venv", "--without-pip", str(env)], check=True)
    site = Path(sysconfig.get_path("purelib"))
    target = env / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    target = target / "site-packages"
    for entry in site.iterdir():
        if "cnn_course_cvlib" in entry.name or entry.name in ("cvlib", "__pycache__"):
            continue  # the editable install of the checkout: the hub gets a wheel
        if entry.name.lower().startswith(SKIPPED):
            continue
        copy_tree(entry, target / entry.name)
    here = Path(sys.prefix)
    copy_tree(here / "share", env / "share")
    subprocess.run(["cp", "-a", str(here / "etc"), str(env / "etc")], check=True)  # written to
    for dist in distributions(path=[str(site)]):  # console scripts with this python
        for point in dist.entry_points.select(group="console_scripts"):
            module, _, attr = point.value.partition(":")
            script = env / "bin" / point.name
            name = attr.split(".")[0]
            text = SCRIPT.format(python=env / "bin" / "python", module=module, name=name, call=attr)
            script.write_text(text)
            script.chmod(0o755)
    return env / "bin" / "python"


class Hub:
    """The deployment on loopback; see the module's docstring."""

    def __init__(self, instructor, students):
        self.instructor, self.students = instructor, list(students)
        self.users = [instructor, *self.students]
        self.prefix = Path(tempfile.mkdtemp(prefix="cvlib-hub-", dir="/tmp"))
        self.prefix.chmod(0o755)
        self.python = self.prefix / "env" / "bin" / "python"
        self.exchange = self.prefix / "exchange"
        self.passwords = {user: secrets.token_urlsafe(12) for user in self.users}
        self.token = secrets.token_hex(32)
        self.process = None
        self.timings = {}
        self.url = f"http://127.0.0.1:{free_port()}"

    # --- set-up, as setup.sh ------------------------------------------------------------
    def configure(self, *args):
        command = [str(self.python), str(DEPLOY / "configure.py"), *args, "--prefix"]
        result = subprocess.run(
            [*command, str(self.prefix)], capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, f"configure.py {args}:\n{result.stdout}{result.stderr}"
        return result.stdout.strip()

    def set_up(self):
        start = time.perf_counter()
        for user in self.users:
            self.remove_user(user)  # left by an interrupted run
        hub_environment(self.prefix / "env")
        (self.prefix / "proxy").mkdir()
        (self.prefix / "proxy" / "node_modules").symlink_to(DEPLOY / "node_modules")
        (self.prefix / "etc").mkdir()
        shutil.copy2(DEPLOY / "jupyterhub_config.py", self.prefix / "etc")
        self.configure("environment", "--exchange", str(self.exchange))
        self.configure("wheel", "--repo", str(ROOT))
        for user in self.users:
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", user], check=True)
        passwords = "".join(f"{user}:{self.passwords[user]}\n" for user in self.users)
        subprocess.run(["chpasswd"], input=passwords, text=True, check=True)
        self.course = Path(self.configure("instructor", self.instructor, "--repo", str(ROOT)))
        for user in self.students:
            self.configure("student", user)
        self.timings["set up"] = time.perf_counter() - start

    def start(self):
        start = time.perf_counter()
        state = self.prefix / "state"
        state.mkdir(mode=0o700)
        config = self.prefix / "etc" / "test_config.py"
        config.write_text(
            "c = get_config()  # noqa: F821\n"
            f"load_subconfig({str(self.prefix / 'etc' / 'jupyterhub_config.py')!r})  # noqa: F821\n"
            f"c.JupyterHub.bind_url = {self.url!r}\n"
            f"c.JupyterHub.hub_bind_url = 'http://127.0.0.1:{free_port()}'\n"
            f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{free_port()}'\n"
            f"c.JupyterHub.services = [{{'name': 'course-test', 'api_token': {self.token!r}}}]\n"
            "c.JupyterHub.load_roles = [{'name': 'admin', 'services': ['course-test']}]\n"
        )
        self.log = open(self.prefix / "hub.log", "w")
        self.process = subprocess.Popen(
            [str(self.prefix / "env" / "bin" / "jupyterhub"), "-f", str(config)],
            cwd=state,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait(lambda: self.api("get", "/").ok, "the hub's API", 120)
        self.timings["hub start"] = time.perf_counter() - start

    def wait(self, ready, what, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the hub stopped while waiting for {what}:\n{self.log_tail()}"
                )
            try:
                if ready():
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"{what} not ready in {seconds} s:\n{self.log_tail()}")

    def log_tail(self):
        return (self.prefix / "hub.log").read_text()[-4000:]

    # --- the REST API -------------------------------------------------------------------
    def api(self, method, path, token=None, **kwargs):
        """A request to the hub's REST API (``/hub/api``), as the test service by default."""
        headers = {"Authorization": f"token {token or self.token}"}
        return requests.request(
            method, f"{self.url}/hub/api{path}", headers=headers, timeout=60, **kwargs
        )

    def start_servers(self):
        start = time.perf_counter()
        for user in self.users:
            response = self.api("post", f"/users/{user}/server")
            assert response.status_code in (201, 202), (user, response.status_code, response.text)

        def ready(user):
            servers = self.api("get", f"/users/{user}").json().get("servers", {})
            return servers.get("", {}).get("ready", False)

        for user in self.users:
            self.wait(lambda user=user: ready(user), f"{user}'s server", 180)
        self.tokens = {}
        for user in self.users:
            response = self.api("post", f"/users/{user}/tokens", json={"expires_in": 3600})
            assert response.status_code == 201, response.text
            self.tokens[user] = response.json()["token"]
        self.timings["servers start"] = time.perf_counter() - start

    def server(self, method, user, path, as_user=None, **kwargs):
        """A request to ``user``'s server (``/user/<user>/<path>``) with ``as_user``'s token."""
        token = self.tokens[as_user or user]
        return requests.request(
            method,
            f"{self.url}/user/{user}/{path}",
            headers={"Authorization": f"token {token}"},
            timeout=600,
            **kwargs,
        )

    def as_user(self, user, *command, cwd=None, timeout=900):
        """``command`` run as ``user`` with the hub environment first on PATH (a terminal)."""
        path = f"{self.prefix / 'env' / 'bin'}:/usr/local/bin:/usr/bin:/bin"
        home = pwd.getpwnam(user).pw_dir
        env = ["env", "-i", f"PATH={path}", f"HOME={home}", f"USER={user}", "LANG=C.UTF-8"]
        return subprocess.run(
            ["runuser", "-u", user, "--", *env, *command],
            cwd=cwd or home,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    # --- tear-down ----------------------------------------------------------------------
    def stop(self):
        if self.process is not None and self.process.poll() is None:
            for user in self.users:
                try:
                    self.api("delete", f"/users/{user}/server")
                except requests.RequestException:
                    pass
            self.process.send_signal(signal.SIGTERM)  # stops the proxy and the servers
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process is not None:
            try:  # anything the hub's session still holds (the proxy, if it outlived the hub)
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.log.close()
        for user in self.users:
            self.remove_user(user)
        shutil.rmtree(self.prefix, ignore_errors=True)

    @staticmethod
    def remove_user(user):
        try:
            uid = pwd.getpwnam(user).pw_uid
        except KeyError:
            return
        for _ in range(20):  # the user's processes, by id (their servers, kernels)
            left = [p for p in psutil.process_iter(["uids"]) if p.info["uids"].real == uid]
            if not left:
                break
            for process in left:
                try:
                    process.kill()
                except psutil.Error:
                    pass
            psutil.wait_procs(left, timeout=5)
        subprocess.run(["userdel", "--remove", user], capture_output=True)


def notebook_json(response):
    assert response.status_code == 200, (response.status_code, response.text[:500])
    return json.loads(json.dumps(response.json()["content"]))
