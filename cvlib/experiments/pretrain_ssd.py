"""The recipe of the one-stage detector that chapter 11 loads: ``ssd_shapes.pt``.

``python -m cvlib.experiments.pretrain ssd_shapes`` runs :func:`cvlib.experiments.ssd.run` with
its defaults (the R-CNN-style pipeline's 600 training images of up to two shapes, 32 x 32;
20 epochs of Adam under a one-cycle rate) under deterministic algorithms on one thread, and writes
``cvlib/models/weights/ssd_shapes.pt`` (weights, the loss and its two terms per epoch, the AP on
the 100 held-out images) with ``ssd_shapes.md``, its model card, beside it. Training takes 20
to 40 s on one core, up to two thirds of a chapter's budget, so the chapter loads the file
(:func:`load`), plots the recorded curves and measures the detector live on the held-out
images. ``tests/test_ssd.py`` runs the recipe again and finds the shipped file to the bit on
the kind of machine that made it.
"""

import textwrap
from dataclasses import asdict
from pathlib import Path

import torch

from cvlib.data import TEST_SEED_OFFSET
from cvlib.models.ssd import TinySSD
from cvlib.train import deterministic

from . import ssd
from .common import machine_stamp

__all__ = ["CARD_NAME", "OUT", "load", "run", "save"]

OUT = Path(__file__).resolve().parents[1] / "models" / "weights" / "ssd_shapes.pt"
CARD_NAME = "ssd_shapes.md"

CARD = """# Model card: `ssd_shapes.pt`

The one-stage detector of chapter 11: `cvlib.models.ssd.TinySSD(num_classes=3, in_channels=3)`,
{params:,} parameters, {n_anchors} square anchors (one of 6 pixels every 2 pixels; two, of 9 and 12
pixels, every 4). Produced by `python -m cvlib.experiments.pretrain ssd_shapes`
(cvlib/experiments/pretrain_ssd.py, which runs `cvlib.experiments.ssd.run` with its defaults); run
it again to reproduce the file, and `cvlib.experiments.pretrain_ssd.load()` to use it.

- **Data**: `cvlib.data.shapes(n, size={size}, max_objects={max_objects}, task="detect", seed=...)`:
  one or two circles, squares and triangles of random colour, size and place on a random
  background, with their boxes; {n_train:,} training images (seed {seed}), {n_test} test images
  (seed {test_seed}): the images of the R-CNN-style pipeline of `cvlib.experiments.rcnn`.
- **Anchor labels**: IoU >= {pos_iou} with a true box: that box's class and offsets (weights 10,
  10, 5, 5); IoU < {neg_iou} with every box: background; in between: ignored; the best anchor of
  every box: positive.
- **Training**: SSD's loss (cross-entropy over background and classes on the positives and the
  {neg_ratio} hardest negatives per positive, plus smooth L1 on the positives' offsets, over the
  number of positives); Adam under a one-cycle learning rate (peak {lr}), batch {batch},
  {epochs} epochs, seed {seed}, `torch.use_deterministic_algorithms(True)`, 1 thread. Mean loss
  per epoch:
  {losses}.
- **Test**: on the {n_test} test images, every detection scoring at least {threshold}, NMS per
  class at IoU 0.45: COCO's **AP50 {map_50:.3f}**, AP75 {map_75:.3f}, AP@[.5:.95] {map:.3f}
  (`cvlib.detection.mean_average_precision`); AP50 per class: {per_class}.
- **Time**: training {seconds:.0f} s, detection {ms:.1f} ms per image, on {machine} (CPU, 1
  thread; the machine was shared with other jobs, so the times are indicative).
- **Library**: torch {torch_version}, CPU kernels {capability} (the bits repeat where both
  match; elsewhere float rounding differs and only the figures do).
- **Intended use**: teaching how a one-stage detector learns, against the R-CNN-style pipeline.
- **Limitations**: synthetic, non-overlapping flat shapes 4 to 13 pixels wide on 32 x 32 images;
  the anchors are chosen for them. Not meant for photographs.
"""


def run(progress=False, **overrides):
    """:func:`cvlib.experiments.ssd.run` (its defaults, or ``overrides``), deterministically."""
    with deterministic():  # one thread; the caller's settings come back after
        return ssd.run(progress=progress, **overrides)


def _figures(result):
    ap = result.ap
    return {
        "map": ap["map"],
        "map_50": ap["map_50"],
        "map_75": ap["map_75"],
        "ap_50": {int(k): v[0] for k, v in ap["ap"].items()},
    }


def save(result, out=OUT):
    """Write the weights and the run's figures to ``out``, and the model card beside them."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    s, model = result.settings, result.model
    meta = {
        "settings": asdict(s),
        "history": {k: [float(v) for v in vs] for k, vs in result.history.items()},
        "ap": _figures(result),
        "seconds": result.seconds,
        "seconds_per_image": result.seconds_per_image,
        **machine_stamp(),
    }
    config = {"num_classes": model.num_classes, "in_channels": 3}
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    torch.save({"config": config, "state_dict": state, "meta": meta}, out)
    classes = result.test.classes
    card = CARD.format(
        params=sum(p.numel() for p in model.parameters()),
        n_anchors=sum((s.size // stride) ** 2 * len(sizes) for stride, sizes in model.anchor_spec),
        size=s.size, max_objects=s.max_objects, n_train=s.n_train, n_test=s.n_test, seed=s.seed,
        test_seed=s.seed + TEST_SEED_OFFSET, pos_iou=s.pos_iou, neg_iou=s.neg_iou,
        neg_ratio=s.neg_ratio, lr=s.lr, batch=s.batch_size, epochs=s.epochs,
        losses=textwrap.fill(", ".join(f"{v:.3f}" for v in meta["history"]["loss"]), 94)
        .replace("\n", "\n  "),
        threshold=s.score_threshold, **{k: meta["ap"][k] for k in ("map", "map_50", "map_75")},
        per_class=", ".join(f"{classes[k]} {v:.3f}" for k, v in meta["ap"]["ap_50"].items()),
        seconds=result.seconds, ms=1000 * result.seconds_per_image, machine=meta["machine"],
        torch_version=meta["torch"], capability=meta["cpu_capability"],
    )  # fmt: skip
    (out.parent / CARD_NAME).write_text(card)
    return out


def load(path=OUT):
    """``(model, meta)``: the shipped one-stage detector (eval mode) and the figures of its run."""
    saved = torch.load(path, weights_only=True)
    model = TinySSD(**saved["config"])
    model.load_state_dict(saved["state_dict"])
    return model.eval(), saved["meta"]
