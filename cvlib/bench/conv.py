"""Speed of the numpy convolution against PyTorch's CPU kernels: ``python -m cvlib.bench conv``.

The workload is a batch of 64 images with 16 channels of 32 x 32 pixels, 32 filters of 3 x 3,
padding 1, float32: the size of an early layer of a small CIFAR network. Both libraries run in
the same process, once on 1 thread and once on 2 (numpy's BLAS through threadpoolctl, torch
through ``torch.set_num_threads``), alternating run by run so that a change in the machine's
load hits both alike. Each figure is the median of ``--repeats`` runs, as wall-clock time and as
CPU time (``time.process_time``: all threads of the process), which is far less sensitive to
other programs competing for the cores. The naive loops are far too slow for the whole batch, so
they run on the first image only and their time is scaled by the batch size.

Figures depend on the machine and on what else is running on it (the load average is printed);
compare ratios, not seconds. Targets (issue 2): forward within 1.5x of torch, backward within 2x.
"""

import argparse
import os
import time

import numpy as np

TARGETS = {"forward": 1.5, "backward": 2.0}


def _median_times(fns, repeats):
    """Median (wall, cpu) seconds of each function, the functions run in turn ``repeats`` times."""
    for fn in fns.values():
        fn()  # warm up: first-touch allocation, BLAS thread start
    wall = {name: [] for name in fns}
    cpu = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - w0)
    return {n: (float(np.median(wall[n])), float(np.median(cpu[n]))) for n in fns}


def run(batch=64, channels=16, size=32, filters=32, repeats=15, threads=(1, 2), seed=0):
    """Time forward and backward of numpy and torch.

    Returns ``{threads: {name: (wall_seconds, cpu_seconds)}}`` and, under the key ``"naive"``,
    the wall time of the naive loops scaled to the batch.
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
    results = {}
    for n in threads:
        torch.set_num_threads(n)
        with torch.no_grad(), threadpool_limits(n, user_api="blas"):
            results[n] = _median_times(fns, repeats)
    start = time.perf_counter()
    conv2d_naive(x[:1], w, b, padding=1)
    results["naive"] = (time.perf_counter() - start) * batch
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cvlib.bench conv", description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print("x (64, 16, 32, 32) float32, weight (32, 16, 3, 3), padding 1")
    print(
        f"median of {args.repeats} runs; {os.cpu_count()} CPUs; load average before the run "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)"
    )
    if load[0] > (os.cpu_count() or 1):
        print(
            "NOTE: the machine is busier than its cores; wall times are inflated and noisy, "
            "the CPU-time ratios are the fairer comparison"
        )
    results = run(repeats=args.repeats, threads=tuple(args.threads))
    met = {}
    for n in args.threads:
        t = results[n]
        print(f"\n--- {n} thread{'s' if n > 1 else ''} (numpy BLAS and torch) ---")
        print(f"{'':16s} {'wall ms':>9s} {'cpu ms':>9s}")
        for name, (wall, cpu) in t.items():
            print(f"{name:16s} {wall * 1e3:9.2f} {cpu * 1e3:9.2f}")
        for step, target in TARGETS.items():
            ratios = [t[f"numpy {step}"][k] / t[f"torch {step}"][k] for k in (0, 1)]
            ok = [r <= target for r in ratios]
            met[(n, step)] = ok
            print(
                f"{step:8s} numpy / torch: wall {ratios[0]:5.2f}, cpu {ratios[1]:5.2f}   "
                f"target <= {target}: wall {'met' if ok[0] else 'NOT met'}, "
                f"cpu {'met' if ok[1] else 'NOT met'}"
            )
    last = results[args.threads[-1]]
    naive = results["naive"]
    print(
        f"\nnaive loops, 1 image x {64} (wall, {args.threads[-1]} threads for the others): "
        f"{naive * 1e3:.0f} ms = {naive / last['torch forward'][0]:.0f}x torch, "
        f"{naive / last['numpy forward'][0]:.0f}x numpy conv2d"
    )
    return results
