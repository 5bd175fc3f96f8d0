"""Transfer with few labels: ``python -m cvlib.bench transfer``.

Five Fashion-MNIST classes from at most 20 labelled photographs each: training the course CNN
from scratch vs feature extraction and fine-tuning from
``cvlib.train.transfer.load_pretrained(weights="fashion-source")`` (pretrained on the other five
classes). Prints test accuracy per method over several seeds. Options: ``--per-class 5 20
--steps 150 --seeds 0 1 2``.
"""

import argparse

import torch

from cvlib.experiments import transfer


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cvlib.bench transfer")
    parser.add_argument("--per-class", type=int, nargs="+", default=[5, 20])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    results = []
    for per_class in args.per_class:
        result = transfer.run(per_class=per_class, seeds=tuple(args.seeds), steps=args.steps)
        print(result.table(), "\n")
        results.append(result)
    print("(timings indicative: the CPU is shared)")
    return results


if __name__ == "__main__":
    main()
