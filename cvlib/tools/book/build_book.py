"""Build the course website strictly and report how long each chapter took to execute.

``python -m cvlib.tools.book.build_book`` (what ``make book`` runs) does two things:

1. runs ``jupyter-book build . -W -n --keep-going`` with the executables of the running Python
   environment, so any warning (a broken reference, a missing file, a failing cell) fails the build;
2. prints every executed notebook's execution time as a table with the total.

Time budgets (``--chapter-budget`` seconds per chapter, ``--total-budget`` for the site) are
*reported* by default: a slow laptop still gets its site, with a note on the chapters that ran
long. They are *enforced* (the build fails) only when asked, with ``--enforce-budgets`` or
``CVLIB_BOOK_BUDGETS=1`` in the environment, which is what CI (``.ci/run``) sets. Only notebooks
executed in this build are judged: a chapter served from the execution cache was judged when it ran,
so one slow run on a busy machine can never make every later build fail.

The budgets are for a quiet machine like the reference one. When they are enforced, the build also
measures the machine's *pace* just before and just after executing the chapters
(:func:`cvlib.bench.pace.pace`: a fixed sample of the chapters' kind of work, timed against the
reference machine), and stretches both budgets by the mean of the two when it is above 1: a
machine running that work 20 % slower gets 20 % more time, never less than the quiet budget.

Where the times come from: myst-nb executes each notebook through jupyter-cache
(``execute_notebooks: cache`` in ``_config.yml``) and stores the run time of the execution in the
cache record (``_build/.jupyter_cache``, field ``execution_seconds``). For every document it copies
that record's data into the Sphinx environment (``_build/.doctrees/environment.pickle``,
``env.nb_metadata[docname]["exec_data"]``). Reading the environment gives exactly the documents of
this build, in the order of the table of contents.

jupyter-cache re-executes a notebook when its code cells change, but not when the library they
call changes, which would leave figures on the site that the current cvlib no longer computes.
So the cache carries a fingerprint of ``cvlib/`` and ``requirements-lock.txt``; when it differs,
the cache is emptied first and every chapter runs again.

Examples
--------
>>> format_seconds(83.456)
'83.5'
>>> over_budget([ChapterTime("book/03-convolution", 95.0, True)], 90, 600)
['book/03-convolution took 95.0 s, more than the 90 s allowed for one chapter']
>>> over_budget([ChapterTime("book/03-convolution", 95.0, False)], 90, 600)  # from the cache
[]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CHAPTER_BUDGET = 60.0  # seconds, one chapter on 2 CPU cores
TOTAL_BUDGET = 360.0  # seconds, the whole site, quiet (issue 22)
ENFORCE_ENV = "CVLIB_BOOK_BUDGETS"  # "1": fail the build over budget (CI sets it)


@dataclass(frozen=True)
class ChapterTime:
    """Execution record of one notebook in the build.

    Attributes
    ----------
    docname : str
        Sphinx document name, e.g. ``"book/03-convolution"``.
    seconds : float or None
        Execution time of the notebook's last real run (None if myst-nb recorded none).
    fresh : bool
        True if the notebook ran in this build, False if its outputs came from the cache.
    executed_at : float or None
        POSIX time of that run.
    """

    docname: str
    seconds: float | None
    fresh: bool
    executed_at: float | None = None


def format_seconds(seconds: float | None) -> str:
    """Seconds with one decimal, or ``"?"`` when unknown."""
    return "?" if seconds is None else f"{seconds:.1f}"


def jupyter_book_command(root: Path) -> list[str]:
    """The strict build command, using ``jupyter-book`` beside the running interpreter."""
    exe = Path(sys.executable).parent / "jupyter-book"
    if not exe.exists():
        found = shutil.which("jupyter-book")
        if found is None:
            raise FileNotFoundError(
                f"jupyter-book is not installed beside {sys.executable}; run `make venv` first"
            )
        exe = Path(found)
    return [str(exe), "build", str(root), "--builder", "html", "-W", "-n", "--keep-going"]


FINGERPRINT_FILE = ".cvlib-fingerprint"  # in _build/: which library filled the caches


NOT_IN_CHAPTERS = ("grading",)  # cvlib packages no chapter imports: they cannot change a figure


def library_fingerprint(root: Path) -> str:
    """SHA-256 of every file the chapters' results depend on besides the chapters themselves."""
    files = sorted(
        path
        for path in (root / "cvlib").rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.relative_to(root / "cvlib").parts[0] not in NOT_IN_CHAPTERS
    )
    lock = root / "requirements-lock.txt"
    digest = hashlib.sha256()
    for path in [*files, lock] if lock.exists() else files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def clear_stale_cache(build_dir: Path, fingerprint: str) -> bool:
    """Empty the caches of a build made with another library; True if there were any.

    Both go: the execution cache (``.jupyter_cache``) and Sphinx's environment (``.doctrees``),
    since Sphinx re-reads, and so re-executes, only the documents whose source changed.
    """
    stamp = build_dir / FINGERPRINT_FILE
    caches = [build_dir / ".jupyter_cache", build_dir / ".doctrees"]
    if stamp.exists() and stamp.read_text() == fingerprint:
        return False
    stale = [cache for cache in caches if cache.exists()]
    for cache in stale:
        shutil.rmtree(cache)
    return bool(stale)


def stamp_cache(build_dir: Path, fingerprint: str) -> None:
    """Record that the caches in ``build_dir`` now hold this library's results."""
    if build_dir.exists():
        (build_dir / FINGERPRINT_FILE).write_text(fingerprint)


def load_environment(build_dir: Path):
    """Unpickle the Sphinx build environment written by the last build."""
    path = build_dir / ".doctrees" / "environment.pickle"
    if not path.exists():
        raise FileNotFoundError(f"no Sphinx environment at {path}: has the book been built?")
    with path.open("rb") as f:
        return pickle.load(f)


def toc_order(env) -> list[str]:
    """Document names in reading order: a depth-first walk of the toctrees from the root page."""
    root = env.config.root_doc
    seen: list[str] = []
    stack = [root]
    while stack:
        doc = stack.pop()
        if doc in seen:
            continue
        seen.append(doc)
        stack.extend(reversed(env.toctree_includes.get(doc, [])))
    seen += sorted(set(env.all_docs) - set(seen))
    return seen


def chapter_times(build_dir: Path, since: float | None = None) -> list[ChapterTime]:
    """Execution records of every executed notebook of the last build, in reading order.

    Parameters
    ----------
    build_dir : Path
        The book's ``_build`` folder.
    since : float, optional
        POSIX time the build started; runs at or after it count as fresh.
    """
    env = load_environment(build_dir)
    metadata = getattr(env, "nb_metadata", {})
    rows = []
    for docname in toc_order(env):
        data = metadata.get(docname, {}).get("exec_data")
        if not data:  # plain page, or a notebook excluded from execution (assignments)
            continue
        mtime = data.get("mtime")
        fresh = since is not None and mtime is not None and mtime >= since
        rows.append(ChapterTime(docname, data.get("runtime"), fresh, mtime))
    return rows


def over_budget(rows: list[ChapterTime], chapter_budget: float, total_budget: float) -> list[str]:
    """One message per broken budget, judging only the notebooks executed in this build.

    A chapter served from the cache keeps the time of the run that filled the cache; it was
    judged then. The total is judged when every chapter ran in this build (a fresh build, as in
    CI), since a sum of old and new times measures no one run.
    """
    fresh = [row for row in rows if row.fresh and row.seconds is not None]
    problems = [
        f"{row.docname} took {row.seconds:.1f} s, more than the {chapter_budget:g} s allowed "
        "for one chapter"
        for row in fresh
        if row.seconds > chapter_budget
    ]
    total = sum(row.seconds for row in fresh)
    if rows and len(fresh) == len(rows) and total > total_budget:
        problems.append(
            f"the chapters took {total:.1f} s together, more than the {total_budget:g} s allowed"
        )
    return problems


def format_table(rows: list[ChapterTime]) -> str:
    """The execution-time table printed after the build."""
    width = max([len("chapter"), *(len(row.docname) for row in rows)])
    lines = [f"{'chapter':<{width}}  {'seconds':>8}  run", "-" * (width + 40)]
    for row in rows:
        if row.fresh:
            when = "executed in this build"
        elif row.executed_at is not None:
            stamp = datetime.fromtimestamp(row.executed_at).strftime("%Y-%m-%d %H:%M")
            when = f"from the cache (executed {stamp})"
        else:
            when = "from the cache"
        lines.append(f"{row.docname:<{width}}  {format_seconds(row.seconds):>8}  {when}")
    total = sum(row.seconds or 0.0 for row in rows)
    lines += ["-" * (width + 40), f"{'total':<{width}}  {total:>8.1f}"]
    return "\n".join(lines)


def machine_pace(root: Path) -> float | None:
    """:func:`cvlib.bench.pace.pace` in a fresh interpreter (this one stays free of torch); None
    (and a note) when the probe cannot run."""
    code = "from cvlib.bench.pace import pace; print(pace())"
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    try:
        return float(run.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        print(f"build_book: the pace probe failed, budgets not stretched:\n{run.stderr[-2000:]}")
        return None


def stretch(paces: list[float | None], limit: float = 2.0) -> float:
    """The factor the budgets are multiplied by: the mean measured pace, between 1 and ``limit``
    (:data:`cvlib.bench.pace.MAX_STRETCH`: a machine slower than that cannot judge the book).

    >>> stretch([1.1, 1.3]), stretch([0.9, 0.95]), stretch([None, 1.2]), stretch([None])
    (1.2, 1.0, 1.2, 1.0)
    >>> stretch([2.5, 3.0])
    2.0
    """
    known = [p for p in paces if p is not None]
    return min(limit, max(1.0, round(sum(known) / len(known), 3))) if known else 1.0


def budgets_enforced(flag: bool, environ=os.environ) -> bool:
    """True with ``--enforce-budgets`` or ``CVLIB_BOOK_BUDGETS=1`` (CI).

    >>> budgets_enforced(False, {}), budgets_enforced(False, {"CVLIB_BOOK_BUDGETS": "1"})
    (False, True)
    """
    return flag or environ.get(ENFORCE_ENV, "").strip() not in ("", "0")


def build(root: Path, build_dir: Path) -> bool:
    """Run the strict jupyter-book build once; False (and a message) when it failed."""
    command = jupyter_book_command(root)
    fingerprint = library_fingerprint(root)
    if clear_stale_cache(build_dir, fingerprint):
        print("build_book: cvlib or the lock file changed: every chapter runs again", flush=True)
    print("build_book: " + " ".join(command), flush=True)
    started = time.time()
    code = subprocess.run(command, cwd=root).returncode
    elapsed = time.time() - started
    stamp_cache(build_dir, fingerprint)  # the cache's entries now come from this library
    if code != 0:
        print(
            f"\nbuild_book: FAILED: jupyter-book exited with status {code} after "
            f"{elapsed:.0f} s. Warnings count as errors (-W): look above for "
            "'WARNING' or 'Executing notebook failed' (with the failing cell's traceback).",
            file=sys.stderr,
        )
        return False
    print(f"\nbuild_book: site built in {elapsed:.0f} s: {build_dir / 'html' / 'index.html'}")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cvlib.tools.book.build_book", description=__doc__
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="the folder with _config.yml")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="do not build; report the times of the last build",
    )
    parser.add_argument("--chapter-budget", type=float, default=CHAPTER_BUDGET)
    parser.add_argument("--total-budget", type=float, default=TOTAL_BUDGET)
    parser.add_argument(
        "--enforce-budgets",
        action="store_true",
        help=f"fail when a chapter run in this build is over budget (also: {ENFORCE_ENV}=1)",
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    build_dir = root / "_build"
    enforce = budgets_enforced(args.enforce_budgets)

    started = None
    paces = []
    if not args.report_only:
        if enforce:
            paces.append(machine_pace(root))
        started = time.time()
        if not build(root, build_dir):
            return 1
        if enforce:
            paces.append(machine_pace(root))
    rows = chapter_times(build_dir, since=started)
    factor = stretch(paces)
    chapter_budget, total_budget = args.chapter_budget * factor, args.total_budget * factor
    mode = "enforced" if enforce else f"reported, not enforced; {ENFORCE_ENV}=1 enforces them"
    print(
        f"\nExecution time per notebook (jupyter-cache records; budget {chapter_budget:g} s "
        f"each, {total_budget:g} s in total, {mode})"
    )
    if paces:
        shown = ", ".join("-" if p is None else f"{p:.2f}" for p in paces)
        print(
            f"machine pace before and after the chapters ran: {shown} (1 = the quiet reference "
            f"machine); budgets x {factor:.3f}"
        )
    print(format_table(rows))
    problems = over_budget(rows, chapter_budget, total_budget)
    if problems and enforce:
        print("\nbuild_book: FAILED: over the time budget:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    if problems:
        print("\nbuild_book: OK: the site is built, but slower than the budgets (a busy machine?):")
        for problem in problems:
            print(f"  - {problem}")
        return 0
    print("\nbuild_book: OK: strict build passed and every chapter run is within its time budget.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
