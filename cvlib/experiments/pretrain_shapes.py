"""The recipe of the shapes network that chapter 12 looks inside: ``shapes_cnn.pt``.

``python -m cvlib.experiments.pretrain shapes_cnn`` runs :func:`cvlib.experiments.shapes.run`
with its defaults (3,000 images of circles, squares and triangles, 32x32, 8 epochs of Adam under
a one-cycle rate) under deterministic algorithms on one thread, and writes
``cvlib/models/weights/shapes_cnn.pt`` (weights, the loss of every epoch, the test accuracy) with
``shapes_cnn.md``, its model card, beside it. Training takes about 20 s on one core, a third of a
chapter's budget, so the chapter loads the file (:func:`load`) and tests it live on the held-out
images instead. ``tests/test_experiments.py`` runs the recipe again and finds the shipped file to
the bit on the kind of machine that made it.
"""

from dataclasses import asdict
from pathlib import Path

import torch

from cvlib.data import TEST_SEED_OFFSET
from cvlib.models import ShapesCNN
from cvlib.train import deterministic

from . import shapes
from .common import machine_stamp

__all__ = ["CARD_NAME", "OUT", "load", "run", "save"]

OUT = Path(__file__).resolve().parents[1] / "models" / "weights" / "shapes_cnn.pt"
CARD_NAME = "shapes_cnn.md"

CARD = """# Model card: `shapes_cnn.pt`

The network whose inside chapter 12 shows: `cvlib.models.ShapesCNN(num_classes=3,
in_channels=3)`, {params:,} parameters. Produced by
`python -m cvlib.experiments.pretrain shapes_cnn` (cvlib/experiments/pretrain_shapes.py, which
runs `cvlib.experiments.shapes.run` with its defaults); run it again to reproduce the file, and
`cvlib.experiments.pretrain_shapes.load()` to use it.

- **Data**: `cvlib.data.shapes(n, size={size}, seed=...)`: one circle, square or triangle of a
  random colour, size and place on a random background; {n_train:,} training images (seed
  {seed}), {n_test} test images (seed {test_seed}).
- **Training**: Adam under a one-cycle learning rate (peak {lr}), batch 32, {epochs} epochs,
  cross-entropy, seed {seed}, `torch.use_deterministic_algorithms(True)`, 1 thread. Mean loss
  per epoch: {losses}.
- **Test accuracy**: **{accuracy:.1%}** on the {n_test} test images.
- **Time**: {seconds:.0f} s on {machine} (CPU, 1 thread).
- **Library**: torch {torch_version}, CPU kernels {capability} (the bits repeat where both
  match; elsewhere float rounding differs and only the accuracy does).
- **Intended use**: a small network that works, whose explanations (saliency, Grad-CAM,
  occlusion) can be checked against where the shape really is.
- **Limitations**: synthetic flat shapes; not meant for photographs.
"""


def run(progress=False, **overrides):
    """:func:`cvlib.experiments.shapes.run` (its defaults, or ``overrides``), deterministically."""
    with deterministic():  # one thread; the caller's settings come back after
        return shapes.run(progress=progress, **overrides)


def save(result, out=OUT):
    """Write the weights and the run's figures to ``out``, and the model card beside them."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    s = result.settings
    model = result.model
    meta = {
        "settings": asdict(s),
        "losses": [float(v) for v in result.losses],
        "test_accuracy": result.accuracy,
        "seconds": result.seconds,
        **machine_stamp(),
    }
    config = {"num_classes": model.head.out_features, "in_channels": 3}
    torch.save({"config": config, "state_dict": model.state_dict(), "meta": meta}, out)
    card = CARD.format(
        params=sum(p.numel() for p in model.parameters()),
        size=s.size,
        n_train=s.n_train,
        n_test=s.n_test,
        seed=s.seed,
        test_seed=s.seed + TEST_SEED_OFFSET,
        lr=s.lr,
        epochs=s.epochs,
        losses=", ".join(f"{v:.3f}" for v in meta["losses"]),
        accuracy=result.accuracy,
        seconds=result.seconds,
        machine=meta["machine"],
        torch_version=meta["torch"],
        capability=meta["cpu_capability"],
    )
    (out.parent / CARD_NAME).write_text(card)
    return out


def load(path=OUT):
    """``(model, meta)``: the shipped shapes network (eval mode) and the figures of its run."""
    saved = torch.load(path, weights_only=True)
    model = ShapesCNN(**saved["config"])
    model.load_state_dict(saved["state_dict"])
    return model.eval(), saved["meta"]
