"""Fresh Python environments for the tests that install the course as a student would.

Installing PyTorch into a new virtual environment costs a minute and 5.5 GB. These tests give a
fresh venv the packages a hosted runtime (or a pip cache) already has by *linking* them from the
project's environment instead: :func:`link_distributions` symlinks the files of the named
distributions and of everything they depend on into one folder, and :func:`fresh_venv` puts that
folder on the new environment's path with a ``.pth`` line. Only those distributions are visible
there, not the rest of the project's environment (no cvlib, no myst-nb, no Jupyter Book): a path
line in a ``.pth`` file does not process the ``.pth`` files inside that folder, and the folder
holds nothing else. pip sees the linked distributions as installed, outside the environment, so
it never removes or rewrites them.

:func:`run_notebook` executes a notebook top to bottom with a kernel of any of these
environments, in the notebook's own folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# What Colab and Kaggle runtimes come with, of what the course needs (no cvlib, no myst-nb).
HOSTED_RUNTIME = [
    "numpy",
    "torch",
    "torchvision",
    "matplotlib",
    "scikit-learn",
    "scikit-image",
    "tqdm",
    "ipykernel",
]
TORCH = ["torch", "torchvision"]  # the 5 GB a pip cache would hold
# pip skips compiling the installed files to bytecode (a minute of the install here; Python
# compiles what it imports anyway). pip reads "0" for its --no-... switches as "yes, don't".
NO_BYTECODE = {"PIP_NO_COMPILE": "0"}


def dependency_closure(names: list[str]) -> list:
    """The installed distributions ``names`` and, recursively, what they require (with extras)."""
    seen: dict[str, object] = {}
    extras_seen: set[tuple[str, str]] = set()
    todo = [(name, "") for name in names]
    while todo:
        name, extra = todo.pop()
        name = canonicalize_name(name)
        if (name, extra) in extras_seen:
            continue
        extras_seen.add((name, extra))
        try:
            dist = seen.get(name) or distribution(name)
        except PackageNotFoundError:
            continue  # a requirement for another platform or Python: not installed here either
        seen[name] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": extra}):
                todo += [(req.name, "")] + [(req.name, wanted) for wanted in req.extras]
    return list(seen.values())


def link_distributions(target: Path, names: list[str]) -> Path:
    """Symlink the files of ``names`` and of their dependencies into ``target``; return it."""
    target.mkdir(parents=True, exist_ok=True)
    for dist in dependency_closure(names):
        site = Path(dist.locate_file(""))
        tops = {Path(f).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in sorted(tops - {"__pycache__"}):
            if not top.endswith(".pth") and not (target / top).exists():
                (target / top).symlink_to(site / top)
    return target


def linked_names(target: Path) -> set[str]:
    """Canonical names of the distributions linked into ``target``."""
    return {canonicalize_name(p.name.split("-")[0]) for p in target.glob("*.dist-info")}


def link_into_venv(python: Path, linked: Path) -> None:
    """Put the folder ``linked`` on the path of the environment of ``python`` (a ``.pth`` line)."""
    if not Path(linked).is_dir():
        raise ValueError(f"`linked` must be a folder of linked packages, got {linked!r}")
    code = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = run_python(python, code, check=True).stdout.strip()
    (Path(site) / "linked-runtime.pth").write_text(f"{linked}\n")


def fresh_venv(path: Path, linked: Path | None = None) -> Path:
    """A new virtual environment (with pip) at ``path``; ``linked`` goes on its path. Its python."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=300)
    python = path / "bin" / "python"
    if linked is not None:
        link_into_venv(python, linked)
    return python


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would leak the project's packages, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not key.startswith("PIP_")
    }
    return env | extra


def run_python(python: Path, code: str, **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -c code`` in a clean environment, from ``/``."""
    return subprocess.run(
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        cwd="/",
        env=clean_env(),
        timeout=600,
        **kwargs,
    )


def installed_here(python: Path) -> dict[str, str]:
    """``{canonical name: version}`` of the distributions inside the environment of ``python``."""
    code = (
        "import importlib.metadata as m, json, sysconfig\n"
        "site = sysconfig.get_path('purelib')\n"
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions(path=[site])}))"
    )
    out = run_python(python, code, check=True).stdout
    return {canonicalize_name(name): version for name, version in json.loads(out).items()}


def lock_versions() -> dict[str, str]:
    """``{canonical name: version}`` of ``requirements-lock.txt``."""
    lines = (ROOT / "requirements-lock.txt").read_text().splitlines()
    pins = [Requirement(line) for line in lines if line and not line.startswith("#")]
    return {canonicalize_name(req.name): str(req.specifier).removeprefix("==") for req in pins}


def off_lock(installed: dict[str, str], allowed: set[str]) -> dict[str, str]:
    """The installed distributions (but ``allowed``) not at the lock's version, or not in it."""
    pinned = lock_versions()
    return {
        name: version
        for name, version in installed.items()
        if name not in allowed and pinned.get(name) != version
    }


def run_notebook(path: Path, python: Path, env: dict[str, str], timeout: int = 600):
    """Execute the notebook at ``path`` with a kernel of ``python``, in the notebook's folder.

    Raises ``nbclient.exceptions.CellExecutionError`` on the first failing cell; returns the
    executed notebook.
    """
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as kernels:
        spec = Path(kernels) / "runtime"
        spec.mkdir()
        argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        kernel = {"argv": argv, "display_name": "runtime", "language": "python"}
        (spec / "kernel.json").write_text(json.dumps(kernel))
        manager = AsyncKernelManager(
            kernel_name="runtime", kernel_spec_manager=KernelSpecManager(kernel_dirs=[kernels])
        )
        client = NotebookClient(
            nb, km=manager, timeout=timeout, resources={"metadata": {"path": str(path.parent)}}
        )
        client.execute(env=env)
    return nb


def copy_checkout(dest: Path) -> Path:
    """Copy the repository's files (tracked and untracked, not ignored) to ``dest``."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def outputs_text(cell) -> str:
    """The text a cell printed or displayed."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
        parts += output.get("traceback", [])
    return "".join(parts)
