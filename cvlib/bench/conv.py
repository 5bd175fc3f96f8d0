"""Speed of the numpy convolution against PyTorch's CPU kernels: ``python -m cvlib.bench conv``.

The workload is a batch of 64 images with 16 channels of 32 x 32 pixels, 32 filters of 3 x 3,
padding 1, float32: the size of an early layer of a small CIFAR network. Both libraries run in
the same process on the same number of threads (``--threads``, default 2, numpy's BLAS and
torch alike), and each time is the median of ``--repeats`` runs. The naive loops are far too
slow for the whole batch, so they run on the first image only and their time is scaled by the
batch size (the work per output pixel is the same), which the output says.

Figures depend on the machine and on what else is running on it; compare ratios, not seconds.
"""

import argparse
import time

import numpy as np


def _median_time(fn, repeats):
    fn()  # warm up: first-touch allocation, BLAS thread start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run(batch=64, channels=16, size=32, filters=32, repeats=15, threads=2, seed=0):
    """Time forward and backward of numpy and torch; return a dict of seconds and ratios."""
    import torch
    from threadpoolctl import threadpool_limits

    from cvlib.conv import conv2d, conv2d_backward, conv2d_naive

    torch.set_num_threads(threads)
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

    with torch.no_grad(), threadpool_limits(threads, user_api="blas"):
        t = {
            "numpy forward": _median_time(lambda: conv2d(x, w, b, padding=1), repeats),
            "torch forward": _median_time(
                lambda: torch.nn.functional.conv2d(xt, wt, bt, padding=1), repeats
            ),
            "numpy backward": _median_time(lambda: conv2d_backward(dout, x, w, padding=1), repeats),
            "torch backward": _median_time(torch_backward, repeats),
        }
    start = time.perf_counter()
    conv2d_naive(x[:1], w, b, padding=1)
    t["naive forward (1 image, x batch)"] = (time.perf_counter() - start) * batch
    return t


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cvlib.bench conv", description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    t = run(repeats=args.repeats, threads=args.threads)
    print(f"x (64, 16, 32, 32) float32, weight (32, 16, 3, 3), padding 1, {args.threads} threads")
    print(f"median of {args.repeats} runs; the naive loops ran once on 1 image, scaled x64\n")
    for name, seconds in t.items():
        print(f"{name:34s} {seconds * 1e3:10.2f} ms")
    print()
    fwd = t["numpy forward"] / t["torch forward"]
    bwd = t["numpy backward"] / t["torch backward"]
    naive = t["naive forward (1 image, x batch)"] / t["torch forward"]
    print(f"forward  numpy / torch = {fwd:6.2f}   (target <= 1.5)")
    print(f"backward numpy / torch = {bwd:6.2f}   (target <= 2.0)")
    print(f"naive    loops / torch = {naive:6.0f}")
    print(f"naive    loops / numpy = {naive * t['torch forward'] / t['numpy forward']:6.0f}")
    return t
