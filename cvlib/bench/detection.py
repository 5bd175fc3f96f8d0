"""Beyond classification, measured: box regressor IoU, R-CNN-style detection, FCN segmentation.

``python -m cvlib.bench detection [--quick] [--seed S] [--only regressor|rcnn|fcn]``

Each experiment is one function in the library (so the book can call it and plot its results):
:func:`cvlib.detection.regressor.regressor_experiment`,
:func:`cvlib.detection.rcnn.rcnn_experiment`, :func:`cvlib.segmentation.fcn_experiment`.
All data are generated shapes; the test images come from another seed than the training ones.
"""

import argparse

import torch

from cvlib.detection.rcnn import rcnn_experiment
from cvlib.detection.regressor import regressor_experiment
from cvlib.segmentation import fcn_experiment

QUICK = {
    "regressor": {"n_train": 300, "n_test": 100, "epochs": 4},
    "rcnn": {"n_train": 80, "n_test": 30, "epochs": 3},
    "fcn": {"n_train": 120, "n_test": 60, "epochs": 4},
}


def run_regressor(seed, quick):
    r = regressor_experiment(seed=seed, **(QUICK["regressor"] if quick else {}))
    print(f"box regressor (one shape per 32x32 image): mean IoU {r['mean_iou']:.3f} "
          f"(always-the-mean-box baseline {r['baseline_iou']:.3f}), IoU > 0.5 on "
          f"{r['iou_above_0.5']:.1%}, class accuracy {r['accuracy']:.1%}  [{r['seconds']:.0f} s]")
    return r


def run_rcnn(seed, quick):
    r = rcnn_experiment(seed=seed, **(QUICK["rcnn"] if quick else {}))
    print(f"R-CNN-style pipeline ({r['num_proposals']} sliding windows per image, "
          f"{r['num_crops']} training crops): crop accuracy {r['crop_accuracy']:.1%}, "
          f"detection precision {r['precision']:.1%}, recall {r['recall']:.1%}, images "
          f"exactly right {r['image_accuracy']:.1%}  [{r['seconds']:.0f} s]")
    return r


def run_fcn(seed, quick):
    r = fcn_experiment(seed=seed, **(QUICK["fcn"] if quick else {}))
    per_class = ", ".join(f"{v:.2f}" for v in r["iou_per_class"])
    print(f"FCN segmentation: mean IoU {r['mean_iou']:.3f} (per class bg/circle/square/triangle "
          f"{per_class}), pixel accuracy {r['pixel_accuracy']:.1%} (all-background baseline "
          f"{r['background_share']:.1%})  [{r['seconds']:.0f} s]")
    return r


EXPERIMENTS = {"regressor": run_regressor, "rcnn": run_rcnn, "fcn": run_fcn}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cvlib.bench detection", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small settings (smoke test)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=sorted(EXPERIMENTS), default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    print("timings are indicative: the machine may be shared", flush=True)
    names = [args.only] if args.only else list(EXPERIMENTS)
    return {name: EXPERIMENTS[name](args.seed, args.quick) for name in names}


if __name__ == "__main__":
    main()
