"""The book builder's time budgets: reported by default, enforced on request, never sticky.

A fake ``jupyter-book`` (``subprocess.run`` replaced) writes the Sphinx environment a real build
would leave, with the execution records myst-nb stores, so ``build_book.main`` runs end to end:
a fresh slow chapter fails only when budgets are enforced, and a slow run served from the
cache never fails a later build.
"""

import pickle
import subprocess
import time
from types import SimpleNamespace

import pytest

from cvlib.tools.book import build_book


def write_environment(root, runtimes, mtime):
    """The pickled Sphinx environment of a build whose notebooks ran for ``runtimes`` seconds."""
    docs = list(runtimes)
    env = SimpleNamespace(
        config=SimpleNamespace(root_doc="book/intro"),
        toctree_includes={"book/intro": docs[1:]},
        all_docs={doc: 0 for doc in docs},
        nb_metadata={
            doc: {"exec_data": {"runtime": seconds, "mtime": mtime, "method": "cache"}}
            for doc, seconds in runtimes.items()
        },
    )
    path = root / "_build" / ".doctrees" / "environment.pickle"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(env))


@pytest.fixture
def fake_build(tmp_path, monkeypatch):
    """Run ``main`` against a fake jupyter-book; ``runtimes`` and ``cached`` set what it records."""
    state = {"runtimes": {}, "cached": False}

    def run(command, cwd):
        # A cached record keeps the time stamp of the run that filled the cache (an hour ago).
        mtime = time.time() - 3600 if state["cached"] else time.time() + 1
        write_environment(tmp_path, state["runtimes"], mtime)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(build_book, "jupyter_book_command", lambda root: ["jupyter-book"])
    monkeypatch.setattr(build_book.subprocess, "run", run)
    monkeypatch.delenv(build_book.ENFORCE_ENV, raising=False)

    def main(*args, runtimes, cached=False, paces=(1.0, 1.0)):
        probe_results[0] = iter(paces)
        state.update(runtimes=runtimes, cached=cached)
        return build_book.main(["--root", str(tmp_path), *args])

    probe_results = [iter(())]  # the probe's results, before then after the chapters ran
    monkeypatch.setattr(build_book, "machine_pace", lambda root: next(probe_results[0]))

    return main


SLOW = {"book/intro": 2.0, "book/11-beyond-classification": 96.0}
FAST = {"book/intro": 2.0, "book/11-beyond-classification": 30.0}


def test_a_slow_chapter_is_reported_not_fatal_by_default(fake_build, capsys):
    assert fake_build(runtimes=SLOW) == 0
    out = capsys.readouterr().out
    assert "book/11-beyond-classification took 96.0 s" in out
    assert "not enforced" in out


def test_enforced_budgets_fail_a_fresh_slow_chapter(fake_build, capsys, monkeypatch):
    assert fake_build("--enforce-budgets", runtimes=SLOW) == 1
    assert "over the time budget" in capsys.readouterr().err
    monkeypatch.setenv(build_book.ENFORCE_ENV, "1")  # what .ci/run sets
    assert fake_build(runtimes=SLOW) == 1
    assert fake_build(runtimes=FAST) == 0


def test_a_busy_machine_stretches_the_budgets_and_a_quiet_one_never_shrinks_them(
    fake_build, capsys, monkeypatch
):
    monkeypatch.setenv(build_book.ENFORCE_ENV, "1")
    ran_long = {"book/intro": 2.0, "book/11-beyond-classification": 80.0}
    assert fake_build(runtimes=ran_long) == 1  # 80 s > 60 s on the reference machine's pace
    capsys.readouterr()
    # the probe ran 1.4x and 1.6x slower than on the reference machine: 60 s x 1.5 = 90 s
    assert fake_build(runtimes=ran_long, paces=(1.4, 1.6)) == 0
    out = capsys.readouterr().out
    assert "machine pace before and after the chapters ran: 1.40, 1.60" in out
    assert "budget 90 s each, 540 s in total" in out
    assert fake_build(runtimes=SLOW, paces=(1.4, 1.6)) == 1  # 96 s is over even 90 s
    # a faster machine keeps the quiet budgets, and a probe that failed stretches nothing
    assert fake_build(runtimes=ran_long, paces=(0.7, 0.8)) == 1
    assert fake_build(runtimes=ran_long, paces=(None, None)) == 1
    assert "budget 60 s each, 360 s in total" in capsys.readouterr().out


def test_the_pace_probe_runs_and_measures_against_the_reference():
    from cvlib.bench import pace

    pace_now = build_book.machine_pace(build_book.ROOT)  # the real probe, in a subprocess
    assert pace_now is not None and 0.2 < pace_now < 20, pace_now
    with pytest.raises(ValueError, match="`repeats`"):
        pace.pace(repeats=0)
    assert build_book.stretch([9.0, 9.0]) == pace.MAX_STRETCH  # the build's cap is the probe's


def test_a_slow_run_in_the_cache_does_not_stick(fake_build, monkeypatch, capsys):
    monkeypatch.setenv(build_book.ENFORCE_ENV, "1")
    assert fake_build(runtimes=SLOW) == 1  # the slow run itself fails under enforcement
    # The next build serves that notebook from the cache: its old time is shown, not judged.
    assert fake_build(runtimes=SLOW, cached=True) == 0
    assert "from the cache (executed" in capsys.readouterr().out


def test_total_budget_judged_on_a_fresh_build_only():
    rows = [build_book.ChapterTime(f"book/{i:02d}", 50.0, True) for i in range(7)]
    assert build_book.over_budget(rows, 60, 300) == [
        "the chapters took 350.0 s together, more than the 300 s allowed"
    ]
    mixed = [*rows[:-1], build_book.ChapterTime("book/06", 50.0, False)]
    assert build_book.over_budget(mixed, 60, 300) == []


def test_defaults_are_the_course_budgets():
    assert (build_book.CHAPTER_BUDGET, build_book.TOTAL_BUDGET) == (60.0, 360.0)
    assert build_book.budgets_enforced(False, {build_book.ENFORCE_ENV: "0"}) is False


def test_a_changed_library_empties_the_execution_cache(tmp_path):
    (tmp_path / "cvlib").mkdir()
    (tmp_path / "cvlib" / "conv.py").write_text("x = 1\n")
    build = tmp_path / "_build"
    cache, doctrees = build / ".jupyter_cache", build / ".doctrees"

    def fill():
        cache.mkdir(parents=True)
        doctrees.mkdir()  # Sphinx re-reads only changed sources: its environment goes too

    fill()
    first = build_book.library_fingerprint(tmp_path)
    assert build_book.clear_stale_cache(build, first)  # caches without a stamp are not trusted
    assert not cache.exists() and not doctrees.exists()
    fill()
    build_book.stamp_cache(build, first)
    assert not build_book.clear_stale_cache(build, first)  # same library: the caches stay
    assert cache.exists() and doctrees.exists()
    (tmp_path / "cvlib" / "grading").mkdir()
    (tmp_path / "cvlib" / "grading" / "a1.py").write_text("checks = 1\n")  # no chapter uses it
    assert build_book.library_fingerprint(tmp_path) == first
    (tmp_path / "cvlib" / "conv.py").write_text("x = 2\n")
    second = build_book.library_fingerprint(tmp_path)
    assert second != first
    assert build_book.clear_stale_cache(build, second)
    assert not cache.exists() and not doctrees.exists()
