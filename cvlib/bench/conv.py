"""Speed of the numpy convolution against PyTorch's CPU kernels: ``python -m cvlib.bench conv``.

The workload is a batch of 64 images with 16 channels of 32 x 32 pixels, 32 filters of 3 x 3,
padding 1, float32: the size of an early layer of a small CIFAR network. Both libraries run in
the same process on the same number of threads, once on 1 thread and once on 2 (numpy's BLAS
through threadpoolctl, torch through ``torch.set_num_threads``), their runs interleaved so that a
change in the machine's load hits both alike. The figure compared is the **fastest** of
``--repeats`` runs of each: on a shared machine the fastest run is the least disturbed one, while
medians swing with whatever else runs (ratios of medians moved from 0.9x to 2.2x between three
runs here). The medians and the CPU times (``time.process_time``, all threads of the process) are
printed beside it. The naive loops are far too slow for the whole batch, so they run on the first
image only and their time is scaled by the batch size. The teaching path (``fast=False``: the
im2col and col2im code of ``cvlib/conv.py`` on the whole batch, no chunks or threads) is timed
too, beside the fast path that ``conv2d`` takes by default.

Interleaving has a price: each run starts in the state the other library left behind, and that
state costs both. After a call on 2 threads, torch's OpenMP worker keeps spinning for a few
milliseconds on the core that numpy's second thread then needs, and ``process_time`` charges
that spinning to numpy (numpy leaves no thread spinning): numpy's 2-thread runs took 25-35%
longer right after torch than right after numpy. Memory moves between them too: on 1 thread,
torch's forward right after numpy's took 2048 page faults instead of 4064 and about 25% less CPU
time than right after its own, and numpy's forward right after torch's took about 1000 instead
of none and 30% more. Like ``make bench`` (the Makefile exports it) and :mod:`cvlib.bench.train`,
this module asks torch's idle threads to sleep (``OMP_WAIT_POLICY=PASSIVE``; with it torch's
worker spun 0 ms after a call) unless the environment says otherwise; the policy in force is
printed. ``--settled`` times each run after an untimed run of the same function,
so that each library is timed in the state it leaves itself, as in a loop of its own calls; the
default keeps the order this bench has always used, so that figures stay comparable.

Figures depend on the machine and on what else is running on it (the load average is printed);
compare ratios, not seconds. Targets: forward within 1.2x of torch, backward within 1x.
"""

import argparse
import os
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch is imported (see above)

import numpy as np

TARGETS = {"forward": 1.2, "backward": 1.0}


def _times(fns, repeats, settle=False):
    """Wall and CPU seconds of every run of each function, the functions run in turn.

    With ``settle`` each timed run follows an untimed run of the same function (see above).
    """
    for fn in fns.values():
        fn()  # warm up: first-touch allocation, BLAS thread start
    wall = {name: [] for name in fns}
    cpu = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            if settle:
                fn()  # untimed: the other library's threads go quiet meanwhile
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - w0)
    return wall, cpu


def _fastest(wall, cpu):
    """``{name: (fastest wall, fastest cpu)}``: the least disturbed run of each."""
    return {n: (min(wall[n]), min(cpu[n])) for n in wall}


def run(
    batch=64,
    channels=16,
    size=32,
    filters=32,
    repeats=15,
    threads=(1, 2),
    seed=0,
    medians=None,
    settle=False,
):
    """Time forward and backward of numpy and torch.

    Returns ``{threads: {name: (wall_seconds, cpu_seconds)}}``, the fastest run of each;
    under the key ``"naive"``, the wall time of the naive loops scaled to the batch; under
    ``"teaching"``, ``{threads: {"forward": s, "backward": s}}``, the fastest wall times of the
    teaching path (``fast=False``). With a dict as ``medians``, it receives
    ``{threads: {name: median wall seconds}}`` too. ``settle=True`` times each run after an
    untimed run of the same function, not right after the other library's (see the module's
    docstring).
    """
    import torch
    from threadpoolctl import threadpool_limits

    from cvlib.conv import conv2d, conv2d_backward, conv2d_naive

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels, size, size), dtype=np.float32)
    w = rng.standard_normal((filters, channels, 3, 3), dtype=np.float32)
    b = rng.standard_normal(filters, dtype=np.float32)
    dout = rng.standard_normal((batch, filters, size, size), dtype=np.float32)
    xt, wt, bt, dt = (torch.from_numpy(a) for a in (x, w, b, dout))

    def torch_backward():
        return torch.ops.aten.convolution_backward(
            dt, xt, wt, [filters], [1, 1], [1, 1], [1, 1], False, [0, 0], 1, [True, True, True]
        )

    fns = {
        "numpy forward": lambda: conv2d(x, w, b, padding=1),
        "torch forward": lambda: torch.nn.functional.conv2d(xt, wt, bt, padding=1),
        "numpy backward": lambda: conv2d_backward(dout, x, w, padding=1),
        "torch backward": torch_backward,
    }
    teaching = {
        "forward": lambda: conv2d(x, w, b, padding=1, fast=False),
        "backward": lambda: conv2d_backward(dout, x, w, padding=1, fast=False),
    }
    results = {"teaching": {}}
    for n in threads:
        torch.set_num_threads(n)
        with torch.no_grad(), threadpool_limits(n, user_api="blas"):
            wall, cpu = _times(fns, repeats, settle)
            slow, _ = _times(teaching, max(1, repeats // 5), settle)  # apart from the rest
        results[n] = _fastest(wall, cpu)
        results["teaching"][n] = {step: min(times) for step, times in slow.items()}
        if medians is not None:
            medians[n] = {name: float(np.median(times)) for name, times in wall.items()}
    start = time.perf_counter()
    conv2d_naive(x[:1], w, b, padding=1)
    results["naive"] = (time.perf_counter() - start) * batch
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cvlib.bench conv", description=__doc__)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--settled",
        action="store_true",
        help="time each run after an untimed run of itself, not right after the other library's",
    )
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print("x (64, 16, 32, 32) float32, weight (32, 16, 3, 3), padding 1")
    print(
        f"fastest of {args.repeats} interleaved runs; {os.cpu_count()} CPUs; load average "
        f"before the run {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min); "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}; "
        + (
            "each timed run after an untimed run of itself"
            if args.settled
            else "each run right after the other library's"
        )
    )
    medians = {}
    results = run(
        repeats=args.repeats,
        threads=tuple(args.threads),
        medians=medians,
        settle=args.settled,
    )
    for n in args.threads:
        t = results[n]
        print(f"\n--- {n} thread{'s' if n > 1 else ''} (numpy BLAS and torch) ---")
        print(f"{'':16s} {'fastest ms':>11s} {'median ms':>10s} {'cpu ms':>9s}")
        for name, (wall, cpu) in t.items():
            print(f"{name:16s} {wall * 1e3:11.2f} {medians[n][name] * 1e3:10.2f} {cpu * 1e3:9.2f}")
        for step, target in TARGETS.items():
            ratio = t[f"numpy {step}"][0] / t[f"torch {step}"][0]
            median = medians[n][f"numpy {step}"] / medians[n][f"torch {step}"]
            verdict = "met" if ratio <= target else "NOT met"
            print(
                f"{step:8s} numpy / torch, fastest runs: {ratio:5.2f}x (target <= {target}: "
                f"{verdict}; medians {median:.2f}x)"
            )
        for step, wall in results["teaching"][n].items():
            print(
                f"{step:8s} teaching path (fast=False): {wall * 1e3:7.2f} ms = "
                f"{wall / t[f'torch {step}'][0]:.2f}x torch"
            )
    last = results[args.threads[-1]]
    naive = results["naive"]
    print(
        f"\nnaive loops, 1 image x {64} (wall, {args.threads[-1]} threads for the others): "
        f"{naive * 1e3:.0f} ms = {naive / last['torch forward'][0]:.0f}x torch, "
        f"{naive / last['numpy forward'][0]:.0f}x numpy conv2d"
    )
    return results
