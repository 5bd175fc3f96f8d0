"""The recipes of the shipped weights: ``python -m cvlib.experiments.pretrain NAME``.

``NAME`` is ``course_cnn`` (the default), ``course_cnn_fashion`` (the same network on five
clothing classes, :mod:`cvlib.experiments.pretrain_fashion`), ``shapes_cnn`` (chapter 12's
shapes network, :mod:`cvlib.experiments.pretrain_shapes`), ``ssd_shapes`` (chapter 11's one-stage
detector, :mod:`cvlib.experiments.pretrain_ssd`), ``deep_fashion`` and ``deep_fashion_depth``
(chapter 8's recorded runs, :mod:`cvlib.experiments.pretrain_deep`) or one of the classic families
scaled to 28x28 (``lenet``, ``alexnet``, ``vgg``, ``nin``, ``googlenet``, ``resnet``,
``densenet``; ``families`` runs them all in turn).

**course_cnn.** Source task: scikit-learn's handwritten digits **0-4 only** (28x28, the fixed
training split), with light augmentation. The transfer experiments
(:mod:`cvlib.experiments.transfer`) then ask the network for digits 5-9, which it has never
seen: same kind of strokes, different shapes to tell apart. :func:`main` writes the weights
(``course_cnn.pt``, about 100 kB, by default into ``cvlib/models/weights/``) and, beside them,
``MODEL_CARD.md`` with the figures of the run. It takes well under a minute on one CPU core;
``tests/test_experiments.py`` runs it again and finds the shipped weights to the bit.

**The families.** Each is trained on Fashion-MNIST under the one recipe of
:mod:`cvlib.experiments.families` (more than a chapter's time budget); :func:`save_family` writes
``weights/fashion/NAME.pt`` (weights, training history, figures) and ``NAME.md``, its model card.

The runs are reproducible: seeds are set, torch runs deterministic algorithms on one thread, and
the data are on disk.
"""

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from cvlib import augment as A
from cvlib.data import class_subset, digits
from cvlib.models import FAMILIES, CourseCNN
from cvlib.train import deterministic, evaluate, fit, set_seed

from . import families, pretrain_deep, pretrain_fashion, pretrain_shapes, pretrain_ssd
from .common import SIZE, machine_stamp
from .family_card import save_family
from .settings import resolve

__all__ = ["DEFAULT_OUT", "FAMILY_DIR", "NAMES", "Result", "Settings", "main", "run", "save"]

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "models" / "weights" / "course_cnn.pt"
FAMILY_DIR = DEFAULT_OUT.parent / "fashion"
SOURCE_CLASSES = (0, 1, 2, 3, 4)  # the digits the course CNN is pretrained on
NAMES = (
    "course_cnn",
    "course_cnn_fashion",
    "shapes_cnn",
    "ssd_shapes",
    "deep_fashion",
    "deep_fashion_depth",
    *FAMILIES,
    "families",
)


@dataclass(frozen=True)
class Settings:
    epochs: int = 15
    lr: float = 3e-3
    batch_size: int = 32
    seed: int = 0


@dataclass
class Result:
    model: nn.Module
    accuracy: float  # on the held-out test images of the source digits
    n_train: int
    n_test: int
    seconds: float
    settings: Settings


CARD = """# Model card: `course_cnn.pt`

The small CNN that `cvlib.models.course_cnn(weights="digits-0-4")` (and
`cvlib.train.transfer.load_pretrained()`) returns. Produced by
`python -m cvlib.experiments.pretrain` (cvlib/experiments/pretrain.py); run it again to reproduce
the file.

- **Architecture**: `cvlib.models.CourseCNN(num_classes={num_classes}, in_channels=1)`: three
  3x3 conv-BatchNorm-ReLU blocks (16, 32, 64 channels), two 2x2 max pools, global average
  pooling, a Linear head; {params:,} parameters.
- **Source data**: scikit-learn `load_digits` (UCI optical handwritten digits), **digits
  {classes} only**, upsampled bilinearly from 8x8 to 28x28, values in [0, 1]; the fixed training
  split of `cvlib.data.digits(seed=0)`: {n_train} images.
- **Augmentation**: `cvlib.augment.default_augmentation()`: rotation up to 12 degrees,
  resized crop (scale 0.8-1), shift up to 2 pixels.
- **Training**: Adam, lr {lr}, batch {batch}, {epochs} epochs, cross-entropy, seed {seed},
  `torch.use_deterministic_algorithms(True)`, 1 thread.
- **Source accuracy**: **{accuracy:.1%}** on the {n_test} held-out test images of digits
  {classes}.
- **Time**: {seconds:.0f} s on {machine} (CPU, 1 thread; the machine was shared with other
  jobs, so the time is indicative).
- **Library**: torch {torch_version}, CPU kernels {capability} (the bits repeat where both
  match; elsewhere float rounding differs and only the accuracy does).
- **Intended use**: teaching transfer learning. The target task of
  `cvlib.experiments.transfer` is digits 5-9, which this network never saw.
- **Limitations**: 8x8 scans of digits by 43 writers; tiny, clean, centred. The features are
  not meant for photographs or any real application.
"""


def run(settings=None, progress=True, **overrides):
    """Train the course CNN on digits 0-4; a :class:`Result` (the model in eval mode)."""
    s = resolve(Settings, settings, overrides)
    if s.epochs < 1:
        raise ValueError(f"`epochs` must be at least 1, got {s.epochs}")
    # one thread (the model is tiny: fastest on a busy CPU); the caller's settings come back
    # after (tests run this in-process)
    with deterministic():
        return _train(s, progress)


def _train(s, progress):
    set_seed(s.seed)
    train = class_subset(digits(size=SIZE, split="train"), SOURCE_CLASSES)
    test = class_subset(digits(size=SIZE, split="test"), SOURCE_CLASSES)
    generator = torch.Generator().manual_seed(s.seed)
    loader = DataLoader(
        A.Augmented(train, A.default_augmentation(SIZE)),
        batch_size=s.batch_size,
        shuffle=True,
        generator=generator,
    )
    model = CourseCNN(num_classes=len(SOURCE_CLASSES))
    start = time.perf_counter()
    fit(model, loader, epochs=s.epochs, lr=s.lr, device="cpu", progress=progress)
    seconds = time.perf_counter() - start
    accuracy = evaluate(model, DataLoader(test, batch_size=256), device="cpu").accuracy
    return Result(model.eval(), accuracy, len(train), len(test), seconds, s)


def save(result, out=DEFAULT_OUT):
    """Write the weights to ``out`` and ``MODEL_CARD.md`` beside them."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    s, model = result.settings, result.model
    config = {"num_classes": len(SOURCE_CLASSES), "in_channels": 1}
    meta = {
        "source_classes": list(SOURCE_CLASSES),
        "epochs": s.epochs,
        "seed": s.seed,
        "source_test_accuracy": result.accuracy,
        **machine_stamp(),
    }
    torch.save({"config": config, "state_dict": model.state_dict(), "meta": meta}, out)
    card = CARD.format(
        num_classes=len(SOURCE_CLASSES),
        params=sum(p.numel() for p in model.parameters()),
        classes=f"{SOURCE_CLASSES[0]}-{SOURCE_CLASSES[-1]}",
        n_train=result.n_train,
        n_test=result.n_test,
        lr=s.lr,
        batch=s.batch_size,
        epochs=s.epochs,
        seed=s.seed,
        accuracy=result.accuracy,
        seconds=result.seconds,
        machine=meta["machine"],
        torch_version=meta["torch"],
        capability=meta["cpu_capability"],
    )
    (out.parent / "MODEL_CARD.md").write_text(card)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cvlib.experiments.pretrain", description=__doc__.split("\n")[0]
    )
    parser.add_argument("name", nargs="?", default="course_cnn", choices=NAMES)
    parser.add_argument("--out", type=Path, help="the .pt file (course_cnn) or folder (families)")
    parser.add_argument("--epochs", type=int, help="default: the recipe's")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.name == "course_cnn":
        return _course_cnn(args)
    if args.name == "course_cnn_fashion":
        return _course_cnn_fashion(args)
    if args.name in pretrain_deep.RECORDS:
        return _deep_fashion(args)
    if args.name == "shapes_cnn":
        epochs = {} if args.epochs is None else {"epochs": args.epochs}
        result = pretrain_shapes.run(seed=args.seed, **epochs)
        out = pretrain_shapes.save(result, args.out or pretrain_shapes.OUT)
        print(f"test accuracy {result.accuracy:.3f}; {result.seconds:.0f} s; wrote {out} "
              f"({out.stat().st_size / 1024:.0f} kB) and {pretrain_shapes.CARD_NAME}")  # fmt: skip
        return 0
    if args.name == "ssd_shapes":
        return _ssd_shapes(args)
    names = list(FAMILIES) if args.name == "families" else [args.name]
    epochs = {} if args.epochs is None else {"epochs": args.epochs}
    for name in names:
        result = families.run(name=name, seed=args.seed, **epochs)
        pt, card = save_family(result, args.out or FAMILY_DIR)
        print(
            f"{name}: test accuracy {result.test_accuracy:.3f}; {result.seconds:.0f} s; wrote {pt} "
            f"({pt.stat().st_size / 1024:.0f} kB) and {card.name}"
        )
    return 0


def _course_cnn(args):
    epochs = Settings.epochs if args.epochs is None else args.epochs
    result = run(epochs=epochs, seed=args.seed)
    out = save(result, args.out or DEFAULT_OUT)
    print(
        f"source accuracy {result.accuracy:.3f} on {result.n_test} test digits "
        f"{SOURCE_CLASSES[0]}-{SOURCE_CLASSES[-1]}; {result.seconds:.1f} s; wrote {out} "
        f"({out.stat().st_size / 1024:.0f} kB) and MODEL_CARD.md"
    )
    return 0


def _deep_fashion(args):
    settings, default_out = pretrain_deep.RECORDS[args.name]
    epochs = {} if args.epochs is None else {"epochs": args.epochs}
    record = pretrain_deep.run(settings, **epochs)
    out = pretrain_deep.save(record, args.out or default_out)
    print(f"{record.meta['seconds']:.0f} s; wrote {out} ({out.stat().st_size / 1024:.0f} kB) "
          f"and {pretrain_deep.card_path(out).name}")  # fmt: skip
    return 0


def _course_cnn_fashion(args):
    epochs = {} if args.epochs is None else {"epochs": args.epochs}
    result = pretrain_fashion.run(seed=args.seed, **epochs)
    out = pretrain_fashion.save(result, args.out or pretrain_fashion.OUT)
    print(
        f"source accuracy {result.accuracy:.3f} on the 5,000 test images of its classes; "
        f"{result.seconds:.0f} s; wrote {out} ({out.stat().st_size / 1024:.0f} kB) and "
        f"{pretrain_fashion.CARD_NAME}"
    )
    return 0


def _ssd_shapes(args):
    epochs = {} if args.epochs is None else {"epochs": args.epochs}
    result = pretrain_ssd.run(seed=args.seed, **epochs)
    out = pretrain_ssd.save(result, args.out or pretrain_ssd.OUT)
    print(
        f"AP50 {result.ap['map_50']:.3f}, AP@[.5:.95] {result.ap['map']:.3f} on "
        f"{len(result.test)} test images; {result.seconds:.0f} s; wrote {out} "
        f"({out.stat().st_size / 1024:.0f} kB) and {pretrain_ssd.CARD_NAME}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
