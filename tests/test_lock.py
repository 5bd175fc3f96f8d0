"""The lock (``requirements-lock.txt``) installs on every Python the course allows.

The README and the guide say "Python 3.11": Debian 12 ships 3.11.2, and a pinned release that
needs 3.11.5 (soupsieve 3.0.2 and later do) made pip refuse the whole lock there, with a message
about another package. Every pin's ``Requires-Python``, read from the installed distribution,
must admit 3.11.0 and the last 3.11.
"""

import tomllib
from importlib.metadata import distribution

from env_helpers import ROOT, lock_versions
from packaging.specifiers import SpecifierSet

PYTHONS = ["3.11.0", "3.11.2", "3.11.99"]


def test_every_pin_installs_on_every_python_3_11():
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert all(SpecifierSet(requires).contains(v) for v in PYTHONS), requires
    refused = {}
    for name, version in lock_versions().items():
        dist = distribution(name)
        assert dist.version == version, f"{name}: the lock pins {version}, installed {dist.version}"
        spec = SpecifierSet(dist.metadata.get("Requires-Python") or "")
        refused |= {f"{name}=={version}": str(spec) for v in PYTHONS if not spec.contains(v)}
    assert not refused, f"pins that some Python 3.11 cannot install: {refused}"


def test_the_lock_has_what_a_hub_needs():
    pinned = lock_versions()
    for name in ("jupyterhub", "jupyterlab", "nbgrader", "distributed", "psycopg2-binary"):
        assert name in pinned, name
