"""The recipe of the course CNN pretrained on five clothing classes: the transfer chapter's base.

``python -m cvlib.experiments.pretrain course_cnn_fashion`` trains
:class:`~cvlib.models.CourseCNN` on every Fashion-MNIST training image of the **source classes**
(:data:`cvlib.experiments.transfer.SOURCE_CLASSES`: T-shirt/top, trouser, sandal, sneaker, bag;
30,000 images, relabelled 0-4) and writes ``cvlib/models/weights/course_cnn_fashion.pt`` (about
100 kB) with ``course_cnn_fashion.md``, its model card, beside it. It takes about two minutes on
one core. :mod:`cvlib.experiments.transfer` then asks the network for the other five classes
(pullover, dress, coat, shirt, ankle boot), which it never saw, from a few labels each. One
torch thread and deterministic algorithms make the file repeat to the bit on the kind of machine
that made it (``tests/test_experiments_transfer.py`` checks it).
"""

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from cvlib.data import class_subset, fashion_mnist
from cvlib.data.fashion_mnist import CLASSES
from cvlib.models import CourseCNN
from cvlib.train import deterministic, evaluate, fit, set_seed

from .common import machine_stamp
from .settings import resolve
from .transfer import SOURCE_CLASSES

__all__ = ["CARD_NAME", "OUT", "Result", "Settings", "run", "save"]

OUT = Path(__file__).resolve().parents[1] / "models" / "weights" / "course_cnn_fashion.pt"
CARD_NAME = "course_cnn_fashion.md"


@dataclass(frozen=True)
class Settings:
    epochs: int = 3
    lr: float = 3e-3
    batch_size: int = 64
    seed: int = 0
    n_train: int = 30_000  # every training image of the five source classes


@dataclass
class Result:
    model: nn.Module  # eval mode
    accuracy: float  # on the 5,000 test images of the source classes
    val_acc: list  # the same, after every epoch
    n_train: int
    seconds: float
    settings: Settings


CARD = """# Model card: `course_cnn_fashion.pt`

The small CNN that `cvlib.models.course_cnn(weights="fashion-source")` (and
`cvlib.train.transfer.load_pretrained(weights="fashion-source")`) returns. Produced by
`python -m cvlib.experiments.pretrain course_cnn_fashion`
(cvlib/experiments/pretrain_fashion.py); run it again to reproduce the file.

- **Architecture**: `cvlib.models.CourseCNN(num_classes=5, in_channels=1)`, {params:,}
  parameters (three 3x3 conv-BatchNorm-ReLU blocks of 16, 32, 64 channels, global average
  pooling, a Linear head).
- **Source data**: Fashion-MNIST (Xiao et al., 2017, MIT licence), the training file's images
  of **{classes}** only
  (labels {labels}, relabelled 0-4): {n_train:,} images, 28x28, values in [0, 1], no
  augmentation.
- **Training**: Adam, lr {lr}, batch {batch}, {epochs} epochs, cross-entropy, seed {seed},
  `torch.use_deterministic_algorithms(True)`, 1 thread.
- **Source accuracy**: **{accuracy:.1%}** on the 5,000 test images of those classes (after
  each epoch: {curve}).
- **Time**: {seconds:.0f} s on {machine} (CPU, 1 thread, a machine shared with other jobs).
- **Library**: torch {torch_version}, CPU kernels {capability} (the bits repeat where both
  match; elsewhere float rounding differs and only the accuracy does).
- **Intended use**: teaching transfer learning. `cvlib.experiments.transfer` asks it for the
  other five classes ({targets}), which it never saw.
- **Limitations**: 28x28 greyscale catalogue photographs on a plain background; the features
  are not meant for other photographs or any real application.
"""


def run(settings=None, progress=True, **overrides):
    """Train the course CNN on the source classes; a :class:`Result` (the model in eval mode)."""
    s = resolve(Settings, settings, overrides)
    if s.epochs < 1:
        raise ValueError(f"`epochs` must be at least 1, got {s.epochs}")
    if not 0 < s.n_train <= 30_000:
        raise ValueError(f"`n_train` must be in [1, 30000], got {s.n_train}")
    with deterministic():  # one thread; the caller's settings come back after
        return _train(s, progress)


def _train(s, progress):
    set_seed(s.seed)
    train = class_subset(fashion_mnist("train"), SOURCE_CLASSES)
    if s.n_train < len(train):
        order = torch.randperm(len(train), generator=torch.Generator().manual_seed(s.seed))
        keep = order[: s.n_train]
        train = torch.utils.data.TensorDataset(train.tensors[0][keep], train.tensors[1][keep])
    test = DataLoader(class_subset(fashion_mnist("test"), SOURCE_CLASSES), batch_size=500)
    g = torch.Generator().manual_seed(s.seed)
    model = CourseCNN(num_classes=len(SOURCE_CLASSES))
    start = time.perf_counter()
    history = fit(
        model,
        DataLoader(train, batch_size=s.batch_size, shuffle=True, generator=g),
        test,
        epochs=s.epochs,
        lr=s.lr,
        device="cpu",
        progress=progress,
    )
    seconds = time.perf_counter() - start
    accuracy = evaluate(model, test, device="cpu").accuracy
    return Result(model.eval(), accuracy, list(history.val_acc), len(train), seconds, s)


def save(result, out=OUT):
    """Write the weights (with the run's figures) to ``out`` and the model card beside them."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    s = result.settings
    meta = {
        "data": "fashion-mnist",
        "source_classes": list(SOURCE_CLASSES),
        "settings": asdict(s),
        "n_train": result.n_train,
        "source_test_accuracy": result.accuracy,
        "val_acc": result.val_acc,
        "seconds": result.seconds,
        **machine_stamp(),
    }
    config = {"num_classes": len(SOURCE_CLASSES), "in_channels": 1}
    torch.save({"config": config, "state_dict": result.model.state_dict(), "meta": meta}, out)
    targets = [CLASSES[c] for c in range(10) if c not in SOURCE_CLASSES]
    card = CARD.format(
        params=sum(p.numel() for p in result.model.parameters()),
        classes=", ".join(CLASSES[c] for c in SOURCE_CLASSES),
        labels=", ".join(str(c) for c in SOURCE_CLASSES),
        targets=", ".join(targets),
        n_train=result.n_train,
        lr=s.lr,
        batch=s.batch_size,
        epochs=s.epochs,
        seed=s.seed,
        accuracy=result.accuracy,
        curve=", ".join(f"{a:.1%}" for a in result.val_acc),
        seconds=result.seconds,
        machine=meta["machine"],
        torch_version=meta["torch"],
        capability=meta["cpu_capability"],
    )
    (out.parent / CARD_NAME).write_text(card)
    return out
