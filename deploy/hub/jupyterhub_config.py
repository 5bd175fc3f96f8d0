"""JupyterHub's configuration for the course: one server, local Unix users, one environment.

``setup.sh`` copies this file to ``/opt/cnn-course/etc/``; ``configure.py`` writes ``hub.json``
beside it (the environment's prefix, the instructors and students). Run as root::

    /opt/cnn-course/env/bin/jupyterhub -f /opt/cnn-course/etc/jupyterhub_config.py

Users log in with their Unix password (PAM); each one's server runs as that user, from the
course environment, in their home folder. The hub listens on ``CVLIB_HUB_BIND_URL``
(``http://127.0.0.1:8000``): put a TLS proxy in front of it (nginx, Caddy), never expose plain
HTTP. ``tests/test_hub.py`` starts it with other ports on the command line.
"""

import json
import os
from pathlib import Path

c = get_config()  # noqa: F821

HERE = Path(__file__).resolve().parent
hub = json.loads((HERE / "hub.json").read_text())
prefix = Path(hub["prefix"])
state = prefix / "state"
state.mkdir(mode=0o700, exist_ok=True)

c.JupyterHub.bind_url = os.environ.get("CVLIB_HUB_BIND_URL", "http://127.0.0.1:8000")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.command = [str(prefix / "proxy/node_modules/.bin/configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")

# Local Unix users, with their passwords; only the course's.
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(hub["instructors"]) | set(hub["students"])

# Each server: the course environment as the user, in the home folder, JupyterLab first.
# PATH puts the environment first: nbgrader, python and the class grader are the course's.
c.Spawner.cmd = [str(prefix / "env/bin/jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {"PATH": f"{prefix / 'env/bin'}:/usr/local/bin:/usr/bin:/bin"}
c.Spawner.notebook_dir = "~"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
