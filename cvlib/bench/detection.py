"""Beyond classification, measured: box regressor IoU, R-CNN-style detection, FCN segmentation.

``python -m cvlib.bench detection [--quick] [--seed S] [--only regressor|rcnn|fcn] [--threads N]``

Each experiment is one module of the library (so the book can call it and plot its results):
:mod:`cvlib.experiments.regressor`, :mod:`cvlib.experiments.rcnn`,
:mod:`cvlib.experiments.segmentation`.
All data are generated shapes; the test images come from another seed than the training ones.
Each line ends with the wall time and the CPU time; on a shared machine the CPU time is the better
guide. These small networks train faster on one thread than on two (``--threads``, default 1):
about ten times faster on a busy 2-core machine.
"""

import argparse
import os
import time

from cvlib.experiments import rcnn, regressor, segmentation

QUICK = {
    "regressor": {"n_train": 300, "n_test": 100, "epochs": 3},
    "rcnn": {"n_train": 60, "n_test": 20, "epochs": 2},
    "fcn": {"n_train": 100, "n_test": 50, "epochs": 3},
}


def run_regressor(seed, quick, threads):
    settings = QUICK["regressor"] if quick else {}
    r = regressor.run(seed=seed, num_threads=threads, **settings)
    print(
        f"box regressor (one shape per 32x32 image): mean IoU {r.mean_iou:.3f} "
        f"(always-the-mean-box baseline {r.baseline_iou:.3f}), IoU > 0.5 on "
        f"{r.iou_above_half:.1%}, class accuracy {r.accuracy:.1%}",
        end="",
    )
    return r


def run_rcnn(seed, quick, threads):
    r = rcnn.run(seed=seed, num_threads=threads, **(QUICK["rcnn"] if quick else {}))
    print(
        f"R-CNN-style pipeline ({r.num_proposals} sliding windows per image, "
        f"{r.num_crops} training crops): crop accuracy {r.crop_accuracy:.1%}, "
        f"detection precision {r.precision:.1%}, recall {r.recall:.1%}, images "
        f"exactly right {r.image_accuracy:.1%}",
        end="",
    )
    return r


def run_fcn(seed, quick, threads):
    r = segmentation.run(seed=seed, num_threads=threads, **(QUICK["fcn"] if quick else {}))
    per_class = ", ".join(f"{v:.2f}" for v in r.iou_per_class)
    print(
        f"FCN segmentation: mean IoU {r.mean_iou:.3f} (per class bg/circle/square/triangle "
        f"{per_class}), pixel accuracy {r.pixel_accuracy:.1%} (all-background baseline "
        f"{r.background_share:.1%})",
        end="",
    )
    return r


EXPERIMENTS = {"regressor": run_regressor, "rcnn": run_rcnn, "fcn": run_fcn}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cvlib.bench detection", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small settings (smoke test)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=sorted(EXPERIMENTS), default=None)
    parser.add_argument("--threads", type=int, choices=(1, 2), default=1)
    args = parser.parse_args(argv)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"timings are indicative: {args.threads} torch thread(s), load average {load}", flush=True
    )
    names = [args.only] if args.only else list(EXPERIMENTS)
    results = {}
    for name in names:
        cpu = time.process_time()
        results[name] = EXPERIMENTS[name](args.seed, args.quick, args.threads)
        print(
            f"  [{results[name].seconds:.0f} s wall, {time.process_time() - cpu:.0f} s CPU]",
            flush=True,
        )
    return results


if __name__ == "__main__":
    main()
