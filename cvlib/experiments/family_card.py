"""Write a family's Fashion-MNIST checkpoint and its model card (``NAME.pt``, ``NAME.md``).

The checkpoint holds everything the chapter shows: ``config`` and ``state_dict`` to rebuild the
network (:func:`cvlib.models.fashion_net`), ``history`` (the per-epoch curves of
:class:`cvlib.train.History`) and ``meta`` (settings, test accuracy, confusion matrix,
parameters, multiply-adds, seconds, machine, library). The card says the same in words.
"""

from dataclasses import asdict
from pathlib import Path

import torch

from cvlib.data.fashion_mnist import find_files

from .common import machine_stamp

__all__ = ["save_family"]

CARD = """# Model card: `{name}.pt`

`cvlib.models.fashion_net("{name}", weights="fashion-mnist")`: the {title} family scaled to
28x28 greyscale images (`cvlib.models.mini`), trained on Fashion-MNIST. Produced by
`python -m cvlib.experiments.pretrain {name}` (cvlib/experiments/families.py); run it again to
reproduce the file.

- **Architecture**: `{constructor}`;
  {params:,} parameters, {macs:,} multiply-adds per image.
- **Data**: Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017; MIT licence), read from
  `{folder}`. Training: {n_train:,} images of the 60,000-image training file, drawn at
  random with seed {seed}; validation (the curves): {n_val:,} other training images; test: the
  10,000 images of the test file, used once, at the end. Pixels in [0, 1], no augmentation.
- **Training**: Adam, lr {lr}, batch {batch}, {epochs} epoch(s), cross-entropy, seed {seed},
  `torch.use_deterministic_algorithms(True)`, 1 thread (the recipe shared by every family).
- **Figures**: test accuracy **{test:.1%}**; after the last epoch, training accuracy
  {train_acc:.1%} and validation accuracy {val_acc:.1%}.
- **Time**: {seconds:.0f} s in all, {per_epoch:.1f} s per epoch (training and validation) on
  {machine}, 1 thread, on a machine shared with other jobs: the times are indicative.
- **Library**: torch {torch_version}.
- **Intended use**: teaching; comparing the families under one small budget. Not tuned, not
  for any real application.
- **Limitations**: {n_train:,} of the 60,000 training images and {epochs} epochs, one seed:
  trained longer, on more images or with augmentation, a family may score higher, and the
  order of families whose figures are close may change with the seed.

| epoch | training loss | training accuracy | validation accuracy | seconds |
| --- | --- | --- | --- | --- |
{rows}
"""

TITLES = {
    "lenet": "LeNet-5",
    "alexnet": "AlexNet",
    "vgg": "VGG",
    "nin": "NiN",
    "googlenet": "GoogLeNet",
    "resnet": "ResNet",
    "densenet": "DenseNet",
}


def _rows(history):
    return "\n".join(
        f"| {i + 1} | {loss:.3f} | {train:.1%} | {val:.1%} | {t:.1f} |"
        for i, (loss, train, val, t) in enumerate(
            zip(
                history.train_loss,
                history.train_acc,
                history.val_acc,
                history.epoch_time,
                strict=True,
            )
        )
    )


def save_family(result, folder):
    """Write ``folder/NAME.pt`` and ``folder/NAME.md`` for a ``families.Result``."""
    s, history = result.settings, result.history
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "settings": asdict(s),
        "test_accuracy": result.test_accuracy,
        "confusion": result.confusion,
        "params": result.params,
        "macs": result.macs,
        "seconds": result.seconds,
        "seconds_per_epoch": result.seconds / s.epochs,
        "machine_text": result.machine,  # as the card words it
        **machine_stamp(),
    }
    checkpoint = {
        "config": {"num_classes": 10, "in_channels": 1},
        "state_dict": result.model.state_dict(),
        "history": asdict(history),
        "meta": meta,
    }
    pt = folder / f"{s.name}.pt"
    torch.save(checkpoint, pt)
    card = CARD.format(
        name=s.name,
        title=TITLES[s.name],
        constructor=f"cvlib.models.FAMILIES[{s.name!r}](num_classes=10, in_channels=1)",
        params=result.params,
        macs=result.macs,
        folder=find_files(),
        n_train=s.n_train,
        n_val=s.n_val,
        seed=s.seed,
        lr=s.lr,
        batch=s.batch_size,
        epochs=s.epochs,
        test=result.test_accuracy,
        train_acc=history.train_acc[-1],
        val_acc=history.val_acc[-1],
        seconds=result.seconds,
        per_epoch=meta["seconds_per_epoch"],
        machine=result.machine,
        torch_version=meta["torch"],
        rows=_rows(history),
    )
    path = folder / f"{s.name}.md"
    path.write_text(card)
    return pt, path
