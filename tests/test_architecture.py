"""The shape of cvlib, read from its source with ``ast``: layers, private names, loops, sizes.

The layers, lowest first (README, "The library's layers"); a module imports its own layer or
lower ones only, lazily imported modules included:

0. the numpy core, ``cvlib/*.py`` at the top level (numpy and the standard library only, and
   threadpoolctl, which is how a program reads numpy's BLAS thread count: ``cvlib/_fast_conv.py``);
1. ``cvlib/nn``, ``cvlib/models``, ``cvlib/data``;
2. ``cvlib/train``, ``cvlib/augment``, ``cvlib/detection``, ``cvlib/segmentation``,
   ``cvlib/probes``;
3. ``cvlib/experiments``, ``cvlib/bench``;
4. ``cvlib/viz``, ``cvlib/grading``, ``cvlib/tools``; the tools in two packages of that layer by
   what they serve, ``cvlib/tools/grading`` (grading a class) and ``cvlib/tools/book`` (the site
   and its notebooks), neither of which imports the other.

``cvlib/__init__.py`` is the facade: it imports nothing of cvlib when loaded, and hands out the
submodules on first use (``cvlib.conv``, ``cvlib.summary``).
"""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CVLIB = ROOT / "cvlib"
LAYERS = {
    "nn": 1,
    "models": 1,
    "data": 1,
    "train": 2,
    "augment": 2,
    "detection": 2,
    "segmentation": 2,
    "probes": 2,
    "experiments": 3,
    "bench": 3,
    "viz": 4,
    "grading": 4,
    "tools": 4,
}
# packages split into subpackages of their layer: each subpackage is a package of its own
SUBPACKAGES = {"tools": {"grading", "book"}}
SPLIT_PACKAGES = {f"cvlib.{p}.{s}" for p, subs in SUBPACKAGES.items() for s in subs}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60  # the body, docstring excluded: one screen


def modules():
    """``(dotted name, path)`` of every module of cvlib."""
    for path in sorted(CVLIB.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def package_of(name):
    """``"cvlib"`` for the core, else ``cvlib.<package>`` (``cvlib.tools.<subpackage>``)."""
    parts = name.split(".")
    if len(parts) < 2 or parts[1] not in LAYERS:
        return "cvlib"
    if len(parts) > 2 and parts[2] in SUBPACKAGES.get(parts[1], ()):
        return ".".join(parts[:3])
    return ".".join(parts[:2])


def layer_of(name):
    parts = name.split(".")
    return LAYERS.get(parts[1], 0) if len(parts) > 1 else 0


def imports(name, path):
    """Every ``(imported module, imported names, line)`` of a module, relative ones resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            yield module, [alias.name for alias in node.names], node.lineno


def cvlib_targets(module, names):
    """The cvlib modules an import reaches: ``from cvlib import conv`` reaches ``cvlib.conv``."""
    if module == "cvlib":
        return [f"cvlib.{n}" for n in names]
    targets = [module]
    for n in names:  # ``from cvlib.train import transfer`` reaches the submodule too
        if (CVLIB.parent / f"{module}.{n}".replace(".", "/")).with_suffix(".py").exists():
            targets.append(f"{module}.{n}")
    return targets


def test_no_module_imports_a_higher_layer():
    breaks = []
    for name, path in modules():
        if name == "cvlib":
            continue
        for module, names, line in imports(name, path):
            if not module.startswith("cvlib"):
                continue
            for target in cvlib_targets(module, names):
                if layer_of(target) > layer_of(name):
                    breaks.append(
                        f"{name}:{line} (layer {layer_of(name)}) imports {target} "
                        f"(layer {layer_of(target)})"
                    )
    assert not breaks, "\n".join(breaks)


def test_the_numpy_core_imports_numpy_and_the_standard_library_only():
    allowed = set(sys.stdlib_module_names) | {"numpy", "cvlib"}
    readers_of_blas_threads = {"cvlib._fast_conv"}  # threadpoolctl: numpy's BLAS thread count
    found = [
        f"{name}:{line} imports {module}"
        for name, path in modules()
        if layer_of(name) == 0 and name != "cvlib"
        for module, _, line in imports(name, path)
        if (
            module.split(".")[0] not in allowed
            and not (name in readers_of_blas_threads and module == "threadpoolctl")
        )
        or (module.startswith("cvlib.") and layer_of(module))
    ]
    assert not found, "\n".join(found)


def _top_level_functions(path):
    """``{name: first parameter}`` of a module's top-level functions."""
    return {
        node.name: node.args.args[0].arg if node.args.args else None
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef)
    }


def test_a_public_op_and_its_backward_are_defined_in_the_same_module():
    """As in micrograd and CS231n's ``layers.py``: ``conv2d_backward`` sits beside ``conv2d``.

    A backward pass is a public ``f_backward(dout, ...)``, the upstream gradient first; the module
    that defines it defines its op ``f`` too (the fast path ``_fast_conv`` holds both as well).
    """
    apart = []
    for name, path in modules():
        functions = _top_level_functions(path)
        for function, first in functions.items():
            op = function.removesuffix("_backward")
            if function.startswith("_") or op == function or not (first or "").startswith("dout"):
                continue
            if op not in functions:
                apart.append(f"{name}.{function} is defined without its op {op}")
    assert not apart, "\n".join(apart)


def test_the_validator_and_the_fast_paths_of_the_numpy_core_import_no_cvlib_module():
    """Walking ``x`` through ``conv2d`` visits ``conv.py``, ``_validate.py`` and ``_fast_conv.py``:
    the two helpers are leaves, so the walk never climbs back up into an op's module."""
    leaves = [
        (name, path)
        for name, path in modules()
        if name == "cvlib._validate" or name.startswith("cvlib._fast_")
    ]
    assert "cvlib._fast_conv" in dict(leaves)
    found = [
        f"{name}:{line} imports {module}"
        for name, path in leaves
        for module, _, line in imports(name, path)
        if module.startswith("cvlib")
    ]
    assert not found, "\n".join(found)
    reached = {
        target
        for module, names, _ in imports("cvlib.conv", CVLIB / "conv.py")
        if module.startswith("cvlib")
        for target in cvlib_targets(module, names)
    }
    assert reached == {"cvlib._fast_conv", "cvlib._validate"}


def test_the_facade_imports_no_cvlib_module_when_loaded():
    tree = ast.parse((CVLIB / "__init__.py").read_text())
    top_level = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert all(
        isinstance(n, ast.Import) and n.names[0].name in sys.stdlib_module_names for n in top_level
    )


def test_no_private_name_is_imported_across_packages():
    found = []
    for name, path in modules():
        for module, names, line in imports(name, path):
            if not module.startswith("cvlib") or package_of(module) == package_of(name):
                continue
            private = [p for p in module.split(".") if p.startswith("_")]
            private += [n for n in names if n.startswith("_")]
            if private:
                found.append(f"{name}:{line} imports {private} from {module}")
    assert not found, "\n".join(found)


def _loops_with_gradient_steps(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.For | ast.While | ast.AsyncFor):
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Attribute)
                    and inner.func.attr in ("backward", "step")
                ):
                    yield node.lineno
                    break


def test_training_loops_live_in_cvlib_train():
    """A loop that calls ``.backward()`` or ``.step()`` is a training loop: one home for them."""
    found = [
        f"{name}:{line}"
        for name, path in modules()
        if package_of(name) != "cvlib.train"
        for line in _loops_with_gradient_steps(ast.parse(path.read_text()))
    ]
    assert not found, "\n".join(found)


def _declared_distributions():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return {
        re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements
    }


@pytest.mark.parametrize("folder", ["cvlib", "tests"])
def test_every_third_party_import_is_a_declared_dependency(folder):
    declared = _declared_distributions() | {"cvlib"}
    providers = importlib.metadata.packages_distributions()
    local = {p.stem for p in (ROOT / "tests").glob("*.py")}
    missing = set()
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top in sys.stdlib_module_names or top in local or top == "cvlib":
                    continue
                dists = {d.lower().replace("_", "-") for d in providers.get(top, [top])}
                if not dists & declared:
                    missing.add(f"{top} ({', '.join(sorted(dists))}) in {path.relative_to(ROOT)}")
    assert not missing, "\n".join(sorted(missing))


def test_modules_are_small_and_functions_fit_on_a_screen():
    long_modules = [
        f"{name}: {n} lines"
        for name, path in modules()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    ]
    long_functions = []
    for name, path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = node.body
                if (
                    body
                    and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                ):
                    body = body[1:]  # the docstring does not count
                if body and (n := body[-1].end_lineno - body[0].lineno + 1) > MAX_FUNCTION_LINES:
                    long_functions.append(f"{name}.{node.name}: {n} lines")
    problems = long_modules + long_functions
    assert not problems, "\n".join(problems)


def test_the_layer_table_names_every_package():
    packages = {p.name for p in CVLIB.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(LAYERS)
    for package, subpackages in SUBPACKAGES.items():
        found = {p.name for p in (CVLIB / package).iterdir() if (p / "__init__.py").exists()}
        assert found == subpackages, f"cvlib/{package}: {sorted(found)}"


@pytest.mark.parametrize("package", sorted(SUBPACKAGES))
def test_a_split_package_keeps_its_modules_in_its_subpackages(package):
    """``cvlib/tools`` holds the grading tools and the book's tools, and nothing beside them: its
    ``__init__`` only maps the old paths of moved modules (``MOVED``) to their new homes."""
    folder = CVLIB / package
    loose = sorted(p.name for p in folder.glob("*.py") if p.name != "__init__.py")
    assert not loose, f"cvlib/{package}/ holds modules outside its subpackages: {loose}"
    tree = ast.parse((folder / "__init__.py").read_text())
    moved = next(
        (
            ast.literal_eval(n.value)
            for n in tree.body
            if isinstance(n, ast.Assign)
            and [t.id for t in n.targets if isinstance(t, ast.Name)] == ["MOVED"]
        ),
        {},
    )
    missing = [
        f"cvlib.{package}.{old} -> cvlib.{package}.{sub}.{old}"
        for old, sub in moved.items()
        if not (folder / sub / f"{old}.py").exists()
    ]
    assert not missing, "aliases to modules that do not exist: " + ", ".join(missing)


def test_the_split_packages_do_not_import_each_other():
    """The book builds without the grading tools (nbgrader, bubblewrap) and grading never needs
    the site's: ``cvlib.tools.book`` and ``cvlib.tools.grading`` are siblings, not layers."""
    found = []
    for name, path in modules():
        for module, names, line in imports(name, path):
            if not module.startswith("cvlib"):
                continue
            for target in cvlib_targets(module, names):
                here, there = package_of(name), package_of(target)
                if here != there and {here, there} <= SPLIT_PACKAGES:
                    found.append(f"{name}:{line} imports {target}")
    assert not found, "\n".join(found)
