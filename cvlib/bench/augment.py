"""Does augmentation help a small CNN on a few hundred clothing photographs?
``python -m cvlib.bench augment``.

Prints test accuracy with and without augmentation over several seeds (mean, spread and each
run). Options: ``--n-train 200 --epochs 30 --seeds 0 1 2``.
"""

import argparse

import torch

from cvlib.experiments import augmentation


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cvlib.bench augment")
    parser.add_argument("--n-train", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    result = augmentation.run(n_train=args.n_train, seeds=tuple(args.seeds), epochs=args.epochs)
    print(result.table())
    for test in ("clean", "moved"):
        gain = result.mean(f"augmented, {test} test") - result.mean(f"none, {test} test")
        print(f"augmented minus none on the {test} test set: {gain:+.3f} accuracy")
    print("(timings indicative: the CPU is shared)")
    return result


if __name__ == "__main__":
    main()
