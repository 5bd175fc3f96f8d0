"""Pretrain the course CNN shipped with cvlib: ``python -m cvlib.pretrain [--out PATH]``.

Source task: scikit-learn's handwritten digits **0-4 only** (28x28, the fixed training split),
with light augmentation. The transfer experiments then ask the network for digits 5-9, which it
has never seen: same kind of strokes, different shapes to tell apart.

The run is reproducible: seeds are set, torch runs deterministic algorithms on 2 threads, and the
data are built in. It writes the weights (``course_cnn.pt``, about 100 kB) and, beside them,
``MODEL_CARD.md`` with the figures of the run. It takes well under a minute on one CPU core.
"""

import argparse
import platform
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from cvlib import augment as A
from cvlib.data import digits
from cvlib.experiments import SIZE, SOURCE_CLASSES, class_subset, default_augmentation
from cvlib.models.course_cnn import CourseCNN
from cvlib.train import evaluate, fit, set_seed

DEFAULT_OUT = Path(__file__).resolve().parent / "weights" / "course_cnn.pt"
EPOCHS, LR, BATCH_SIZE, SEED = 15, 3e-3, 32, 0

CARD = """# Model card: `course_cnn.pt`

The small CNN that `cvlib.transfer.load_pretrained()` returns. Produced by
`python -m cvlib.pretrain` (cvlib/pretrain.py); run it again to reproduce the file.

- **Architecture**: `cvlib.models.CourseCNN(num_classes={num_classes}, in_channels=1)`: three
  3x3 conv-BatchNorm-ReLU blocks (16, 32, 64 channels), two 2x2 max pools, global average
  pooling, a Linear head; {params:,} parameters.
- **Source data**: scikit-learn `load_digits` (UCI optical handwritten digits), **digits
  {classes} only**, upsampled bilinearly from 8x8 to 28x28, values in [0, 1]; the fixed training
  split of `cvlib.data.digits(seed=0)`: {n_train} images.
- **Augmentation**: `cvlib.experiments.default_augmentation()`: rotation up to 12 degrees,
  resized crop (scale 0.8-1), shift up to 2 pixels.
- **Training**: Adam, lr {lr}, batch {batch}, {epochs} epochs, cross-entropy, seed {seed},
  `torch.use_deterministic_algorithms(True)`, 1 thread.
- **Source accuracy**: **{accuracy:.1%}** on the {n_test} held-out test images of digits
  {classes}.
- **Time**: {seconds:.0f} s on {machine} (CPU, 1 thread; the machine was shared with other
  jobs, so the time is indicative).
- **Library**: torch {torch_version}.
- **Intended use**: teaching transfer learning. The target task of
  `cvlib.experiments.transfer_experiment` is digits 5-9, which this network never saw.
- **Limitations**: 8x8 scans of digits by 43 writers; tiny, clean, centred. The features are
  not meant for photographs or any real application.
"""


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cvlib.pretrain", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the .pt file")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)  # the model is tiny: one thread is fastest on a busy CPU
    torch.use_deterministic_algorithms(True)
    try:
        return _pretrain(args)
    finally:  # leave the caller's process as it was (tests run this in-process)
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _pretrain(args):
    set_seed(args.seed)
    train = class_subset(digits(size=SIZE, split="train"), SOURCE_CLASSES)
    test = class_subset(digits(size=SIZE, split="test"), SOURCE_CLASSES)
    generator = torch.Generator().manual_seed(args.seed)
    loader = DataLoader(
        A.Augmented(train, default_augmentation()),
        batch_size=BATCH_SIZE,
        shuffle=True,
        generator=generator,
    )
    model = CourseCNN(num_classes=len(SOURCE_CLASSES))

    start = time.perf_counter()
    fit(model, loader, epochs=args.epochs, lr=LR, device="cpu", progress=True)
    seconds = time.perf_counter() - start
    accuracy = evaluate(model, DataLoader(test, batch_size=256), device="cpu").accuracy

    args.out.parent.mkdir(parents=True, exist_ok=True)
    config = {"num_classes": len(SOURCE_CLASSES), "in_channels": 1}
    meta = {
        "source_classes": list(SOURCE_CLASSES),
        "epochs": args.epochs,
        "seed": args.seed,
        "source_test_accuracy": accuracy,
    }
    torch.save({"config": config, "state_dict": model.state_dict(), "meta": meta}, args.out)
    card = CARD.format(
        num_classes=len(SOURCE_CLASSES),
        params=sum(p.numel() for p in model.parameters()),
        classes="-".join(map(str, (SOURCE_CLASSES[0], SOURCE_CLASSES[-1]))),
        n_train=len(train),
        n_test=len(test),
        lr=LR,
        batch=BATCH_SIZE,
        epochs=args.epochs,
        seed=args.seed,
        accuracy=accuracy,
        seconds=seconds,
        machine=platform.machine(),
        torch_version=torch.__version__.split("+")[0],
    )
    (args.out.parent / "MODEL_CARD.md").write_text(card)
    size_kb = args.out.stat().st_size / 1024
    print(
        f"source accuracy {accuracy:.3f} on {len(test)} test digits "
        f"{SOURCE_CLASSES[0]}-{SOURCE_CLASSES[-1]}; {seconds:.1f} s; wrote {args.out} "
        f"({size_kb:.0f} kB) and MODEL_CARD.md"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
