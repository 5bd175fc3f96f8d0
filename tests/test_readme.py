"""The README's route without make, followed command by command in a fresh copy of the repository.

The commands are read from the README's "Without make" section and run with bash in a copy of
the checkout (its tracked and untracked files): create ``.venv``, activate it, install the lock,
install the course library. One shortcut, said here and nowhere hidden: after the environment is
created, the lock's torch and torchvision (and their dependencies) are linked into it from the
project's environment, as a pip cache would hold them, so that pip finds them installed at the
lock's versions instead of copying 5 GB (see ``env_helpers``). Everything else is installed.
The environment must then hold exactly the lock's versions and the course library from the copy,
and run a test file of the project.
"""

import re
import subprocess

import pytest
from env_helpers import (
    NO_BYTECODE,
    ROOT,
    TORCH,
    clean_env,
    copy_checkout,
    installed_here,
    link_distributions,
    link_into_venv,
    linked_names,
    lock_versions,
    off_lock,
)

pytestmark = pytest.mark.slow


def readme_commands() -> list[str]:
    """The commands of the first bash block of the README's "Without make" section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Without make", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "the README's 'Without make' section has no bash block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_names_the_plain_pip_route():
    commands = readme_commands()
    assert re.fullmatch(r"python3\.11 -m venv \.venv", commands[0]), commands
    assert commands[1:] == [
        "source .venv/bin/activate",
        "python -m pip install -r requirements-lock.txt",
        "python -m pip install -e .",
    ]


def test_following_the_readme_without_make_gives_the_course_environment(tmp_path):
    repo = copy_checkout(tmp_path / "repo")
    env = clean_env(**NO_BYTECODE)
    first, *rest = readme_commands()

    def bash(script):
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert result.returncode == 0, f"{script}\n{result.stderr[-3000:]}"
        return result.stdout

    bash(first)
    python = repo / ".venv" / "bin" / "python"
    link_into_venv(python, link_distributions(tmp_path / "torch", TORCH))
    bash("\n".join(rest))

    installed = installed_here(python)
    off = off_lock(installed, allowed={"cnn-course-cvlib", "pip"})
    assert not off, f"installed at versions other than the lock's: {off}"
    missing = set(lock_versions()) - set(installed)
    assert missing <= linked_names(tmp_path / "torch"), missing  # the whole lock is there

    out = bash(
        "source .venv/bin/activate\n"
        "python -c 'import cvlib; print(cvlib.__file__)'\n"
        "jupyter-book --version >/dev/null && nbgrader --version >/dev/null\n"
        "python -m pytest -q -p no:cacheprovider tests/test_conv.py"
    )
    assert out.splitlines()[0] == str(repo / "cvlib" / "__init__.py")
    assert " passed" in out.splitlines()[-1] and "failed" not in out


def test_the_cpu_route_names_the_lock_versions_and_binder_index():
    """The README's CPU-only route installs the lock's torch and torchvision as CPU builds, from
    the index the Binder image uses."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n### A smaller environment: PyTorch's CPU build", 1)[1]
    section = section.split("\n## ", 1)[0]
    lock = lock_versions()
    for name in ("torch", "torchvision"):
        assert f"`{name}=={lock[name]}+cpu`" in section, name
    index = "--extra-index-url https://download.pytorch.org/whl/cpu"
    assert index in section and index in (ROOT / "binder" / "requirements.txt").read_text()
    assert "-c requirements-lock.txt" in section
