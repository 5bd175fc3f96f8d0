"""The recipe of the deep-training chapter's recorded runs on Fashion-MNIST.

``python -m cvlib.experiments.pretrain deep_fashion`` trains, on the fixed few-label part of
Fashion-MNIST's training file (:func:`cvlib.experiments.deep_data.fashion_splits`: 100 training
and 50 validation photographs of every class), for each seed of ``seeds``:

1. **depth**, only when ``depths`` is given (the shipped record has none: the chapter's depth
   experiment runs live on the digits): ``resnet_small`` and ``plain_small`` at each depth and
   ``preact_small`` at the deepest (:mod:`~cvlib.experiments.depth`), Adam at 0.001 in batches
   of 32 for ``epochs`` epochs, keeping the deepest networks of the first seed; at 28x28 a
   56-layer network costs about 100 million multiply-adds per image, some 25 minutes of one
   core per seed for ``depths=(20, 56)``;
2. **learning rates** (:mod:`~cvlib.experiments.batchnorm_rates`): the small CNN with and
   without batch norm, SGD with momentum at six learning rates, ``lr_epochs`` epochs;
3. **tiny batches** (:mod:`~cvlib.experiments.small_batches`): batch, group and layer norm
   with 1, 2 and 32 images per batch, one epoch.

It takes more than a chapter's budget (a few minutes of one core per seed), so the chapter
loads the record, plots it and repeats a short part live. :func:`save` writes
``cvlib/models/weights/deep_fashion.pt`` (the results; with depth runs, their histories and the
kept weights in half precision) and ``deep_fashion.md``, its card.
"""

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from cvlib.train import Workers

from . import batchnorm_rates, depth, small_batches
from .common import machine_stamp
from .settings import resolve

__all__ = ["CARD_NAME", "OUT", "Record", "Settings", "load", "run", "save"]

OUT = Path(__file__).resolve().parents[1] / "models" / "weights" / "deep_fashion.pt"
CARD_NAME = "deep_fashion.md"
KEPT = ("resnet_small", "plain_small")  # the 56-layer networks of the first seed, saved


@dataclass(frozen=True)
class Settings:
    seeds: tuple = (0, 1, 2)
    epochs: int = 10  # the depth runs
    lr_epochs: int = 10  # the learning-rate runs
    depths: tuple = ()  # (20, 56) adds the depth runs (long; not in the shipped record)


@dataclass
class Record:
    """What the recipe measured: ``depth[seed]`` a list of :class:`~cvlib.experiments.depth.
    DepthRun`, ``rates[seed]`` and ``batches[seed]`` a
    :class:`~cvlib.experiments.norm_runs.NormResult`; ``weights[name]`` the state of the
    deepest ``name`` network of the first seed; ``meta`` the settings, machine and time."""

    depth: dict
    rates: dict
    batches: dict
    weights: dict
    meta: dict


def _depth_settings(s, seed):
    return depth.Settings(
        depths=s.depths,
        networks=("resnet_small", "plain_small", "preact_small"),
        epochs=s.epochs,
        lr=1e-3,
        batch_size=32,
        seed=seed,
        data="fashion",
        keep_weights=seed == s.seeds[0],
    )


def run(settings=None, **overrides):
    """Every run of every seed on a :class:`cvlib.train.Workers` pool; a :class:`Record`.

    The preact network trains at the deepest depth only.
    """
    s = resolve(Settings, settings, overrides)
    if not s.seeds or s.epochs < 1 or s.lr_epochs < 1:
        raise ValueError(f"need at least one seed and one epoch, got {s}")
    start = time.perf_counter()
    workers = Workers()
    pending = {}
    for seed in s.seeds if s.depths else ():  # slowest first: the deep networks, then the grids
        ds = _depth_settings(s, seed)
        jobs = [
            dict(name=n, depth=d, settings=ds)
            for d in sorted(s.depths, reverse=True)
            for n in ds.networks
            if n != "preact_small" or d == max(s.depths)
        ]
        pending[("depth", seed)] = [workers.submit(depth.run_one, **job) for job in jobs]
    for seed in s.seeds:
        pending[("rates", seed)] = batchnorm_rates.submit(workers, seed=seed, epochs=s.lr_epochs)
        pending[("batches", seed)] = small_batches.submit(workers, seed=seed)
    record = Record({}, {}, {}, {}, {})
    for (kind, seed), job in pending.items():
        if kind == "depth":
            runs = [future.result() for future in job]
            record.depth[seed] = runs
        else:
            getattr(record, kind)[seed] = job.result()
    for run_ in record.depth.get(s.seeds[0], []):
        if run_.name in KEPT and run_.depth == max(s.depths):
            record.weights[run_.name] = run_.state
    for runs in record.depth.values():
        for run_ in runs:
            run_.state = None
    record.meta = {"settings": asdict(s), "seconds": time.perf_counter() - start, **machine_stamp()}
    return record


def _norm_result(result):
    """A NormResult as plain data: ``{"norm@value": accuracy}``."""
    return {f"{norm}@{value}": acc for (norm, value), acc in result.accuracy.items()}


def save(record, out=OUT):
    """Write the record to ``out`` (``.pt``: histories, half-precision weights, meta) and the
    model card beside it; returns ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    depth_runs = {
        str(seed): [{k: v for k, v in asdict(r).items() if k != "state"} for r in runs]
        for seed, runs in record.depth.items()
    }
    payload = {
        "depth": depth_runs,
        "rates": {str(seed): _norm_result(r) for seed, r in record.rates.items()},
        "batches": {str(seed): _norm_result(r) for seed, r in record.batches.items()},
        "weights": {
            name: {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
            for name, state in record.weights.items()
        },
        "meta": record.meta,
    }
    torch.save(payload, out)
    (out.parent / CARD_NAME).write_text(card(record))
    return out


def load(path=OUT):
    """The saved record as a :class:`Record` (weights back in float32; norm results keyed
    ``(norm, value)`` as :class:`~cvlib.experiments.norm_runs.NormResult` keys are)."""
    payload = torch.load(path, weights_only=True)

    def keys(flat):
        out = {}
        for key, acc in flat.items():
            norm, value = key.split("@")
            out[(norm, float(value) if "." in value else int(value))] = acc
        return out

    return Record(
        depth={int(s): [depth.DepthRun(**r) for r in runs] for s, runs in payload["depth"].items()},
        rates={int(s): keys(r) for s, r in payload["rates"].items()},
        batches={int(s): keys(r) for s, r in payload["batches"].items()},
        weights={
            name: {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
            for name, state in payload["weights"].items()
        },
        meta=payload["meta"],
    )


CARD = """# Model card: `deep_fashion.pt`

The recorded runs of the deep-training chapter (book/08-deep-training.md). Produced by
`python -m cvlib.experiments.pretrain deep_fashion` (cvlib/experiments/pretrain_deep.py); run
it again to reproduce the figures.

- **Data**: Fashion-MNIST (Xiao et al., 2017, MIT licence), a fixed part of the training file:
  {per_class} training and {val_per_class} validation photographs of each class, 28x28, values in
  [0, 1], drawn once with seed 0 (`cvlib.experiments.deep_data.fashion_splits`). No test image
  is used.
- **Seeds**: {seeds} (a seed sets the initial weights and the order of the batches).
- **Depth runs**: {depth_line}
- **Learning-rate runs**: `NormCNN` with and without batch norm, SGD momentum 0.9, batch 32,
  {lr_epochs} epochs at each of 0.003-1.
- **Tiny-batch runs**: `NormCNN` with batch, group and layer norm, Adam lr 0.001, one epoch in
  batches of 1, 2 and 32.
- **Time**: {seconds:.0f} s on {machine} (a machine shared with other jobs, so the time is
  indicative); torch {torch_version}, CPU kernels {capability}.
- **Intended use**: teaching what normalisation allows (large learning rates) and where batch
  norm fails (tiny batches). Not for any application.
"""


def card(record):
    """The model card's text."""
    s = record.meta["settings"]
    finals = []
    for name, d in {(r.name, r.depth): None for r in record.depth.get(s["seeds"][0], [])}:
        accs = [r.val_acc[-1] for runs in record.depth.values() for r in runs
                if (r.name, r.depth) == (name, d)]  # fmt: skip
        finals.append(f"{name}-{d} {100 * sum(accs) / len(accs):.1f}%")
    return CARD.format(
        per_class=depth.Settings.per_class,
        val_per_class=depth.Settings.val_per_class,
        lr_epochs=s["lr_epochs"],
        seeds=", ".join(str(x) for x in s["seeds"]),
        depth_line=(
            f"`resnet_small`, `plain_small` (depths {s['depths']}) and `preact_small`, Adam lr "
            f"0.001, batch 32, {s['epochs']} epochs; the deepest two of seed {s['seeds'][0]} "
            f"kept in half precision (`weights`); final validation accuracy (mean over the "
            f"seeds): {', '.join(finals)}"
            if finals
            else "none (`depths=()`): the chapter's depth experiment runs live on the digits"
        ),
        seconds=record.meta["seconds"],
        machine=record.meta["machine"],
        torch_version=record.meta["torch"],
        capability=record.meta["cpu_capability"],
    )
