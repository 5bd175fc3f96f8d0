"""The timing loop of ``python -m cvlib.bench conv``: which run each timed run follows."""

from cvlib.bench.conv import _times


def _recording():
    calls = []
    return calls, {name: (lambda name=name: calls.append(name)) for name in ("numpy", "torch")}


def test_each_timed_run_follows_an_untimed_run_of_itself():
    calls, fns = _recording()
    wall, cpu = _times(fns, repeats=3, settle=True)
    warm_up = ["numpy", "torch"]
    assert calls == warm_up + ["numpy", "numpy", "torch", "torch"] * 3
    assert all(len(times[name]) == 3 for times in (wall, cpu) for name in fns)


def test_by_default_each_run_follows_the_other_librarys():
    calls, fns = _recording()
    _times(fns, repeats=3)
    assert calls == ["numpy", "torch"] + ["numpy", "torch"] * 3
