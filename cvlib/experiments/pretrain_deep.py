"""The recipes of the deep-training chapter's recorded runs on Fashion-MNIST.

``python -m cvlib.experiments.pretrain deep_fashion`` (and ``deep_fashion_depth``) train, on the
fixed few-label part of Fashion-MNIST's training file
(:func:`cvlib.experiments.deep_data.fashion_splits`: 100 training and 50 validation photographs
of every class), for each seed of ``seeds``:

1. **depth**, only when ``depths`` is given: ``resnet_small`` and ``plain_small`` at each depth,
   and ``preact_small`` at the deepest when ``preact`` (:mod:`~cvlib.experiments.depth`), Adam
   at 0.001 in batches of 32 for ``epochs`` epochs, on photographs of ``image_size`` pixels a
   side (14: each 2x2 block averaged), optionally keeping the deepest networks of the first
   seed; at 28x28 a 56-layer network costs about 100 million multiply-adds per image, some 25
   minutes of one core per seed for ``depths=(20, 56)``, at 14x14 about a quarter of that;
2. **learning rates** (:mod:`~cvlib.experiments.batchnorm_rates`, when ``grids``): the small CNN
   with and without batch norm, SGD with momentum at six learning rates, ``lr_epochs`` epochs;
3. **tiny batches** (:mod:`~cvlib.experiments.small_batches`, when ``grids``): batch, group and
   layer norm with 1, 2 and 32 images per batch, one epoch.

``RECORDS`` names the two shipped records: ``deep_fashion`` (the normalisation grids, no depth
runs) and ``deep_fashion_depth`` (residual and plain networks of depth 20 and 56 at 14x14, 5
epochs; no grids, no weights). Both take more than a chapter's budget, so the chapter loads
them, plots them and repeats a short part live. :func:`save` writes the ``.pt`` file (the
results; with depth runs, their histories and any kept weights in half precision) and its card
beside it (same name, ``.md``). The runs go to a :class:`cvlib.train.Workers` pool;
``CVLIB_WORKERS=1`` runs them one after the other in this process, with the same results (every
run seeds itself).
"""

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from cvlib.train import Workers

from . import batchnorm_rates, depth, small_batches
from .common import machine_stamp
from .settings import resolve

__all__ = ["CARD_NAME", "DEPTH_OUT", "OUT", "RECORDS", "Record", "Settings", "card_path",
           "depth_settings", "load", "run", "save"]  # fmt: skip

OUT = Path(__file__).resolve().parents[1] / "models" / "weights" / "deep_fashion.pt"
DEPTH_OUT = OUT.with_name("deep_fashion_depth.pt")
CARD_NAME = "deep_fashion.md"
KEPT = ("resnet_small", "plain_small")  # the 56-layer networks of the first seed, saved


@dataclass(frozen=True)
class Settings:
    seeds: tuple = (0, 1, 2)
    epochs: int = 10  # the depth runs
    lr_epochs: int = 10  # the learning-rate runs
    depths: tuple = ()  # (20, 56) adds the depth runs
    image_size: int = 28  # of the depth runs' photographs; 14 averages each 2x2 block
    grids: bool = True  # the learning-rate and tiny-batch runs
    keep_weights: bool = True  # the deepest networks of the first seed's depth runs
    preact: bool = True  # the depth runs include preact_small at the deepest depth


RECORDS = {  # name -> (settings, file) of each shipped record
    "deep_fashion": (Settings(), OUT),
    "deep_fashion_depth": (
        Settings(
            depths=(20, 56), epochs=5, image_size=14, grids=False, keep_weights=False, preact=False
        ),
        DEPTH_OUT,
    ),
}


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


def depth_settings(s, seed):
    """The :class:`~cvlib.experiments.depth.Settings` of seed ``seed``'s depth runs under the
    recipe's settings ``s`` (a chapter repeats part of them live with these)."""
    return depth.Settings(
        depths=s.depths,
        networks=("resnet_small", "plain_small") + (("preact_small",) if s.preact else ()),
        epochs=s.epochs,
        lr=1e-3,
        batch_size=32,
        seed=seed,
        image_size=s.image_size,
        data="fashion",
        keep_weights=s.keep_weights and seed == s.seeds[0],
    )


def run(settings=None, **overrides):
    """Every run of every seed on a :class:`cvlib.train.Workers` pool; a :class:`Record`.

    The preact network (when ``preact``) trains at the deepest depth only.
    """
    s = resolve(Settings, settings, overrides)
    if not s.seeds or s.epochs < 1 or s.lr_epochs < 1:
        raise ValueError(f"need at least one seed and one epoch, got {s}")
    if not s.depths and not s.grids:
        raise ValueError("nothing to run: give `depths` or keep `grids`")
    start = time.perf_counter()
    workers = Workers()
    pending = {}
    for seed in s.seeds if s.depths else ():  # slowest first: the deep networks, then the grids
        ds = depth_settings(s, seed)
        jobs = [
            dict(name=n, depth=d, settings=ds)
            for d in sorted(s.depths, reverse=True)
            for n in ds.networks
            if n != "preact_small" or d == max(s.depths)
        ]
        pending[("depth", seed)] = [workers.submit(depth.run_one, **job) for job in jobs]
    for seed in s.seeds if s.grids else ():
        pending[("rates", seed)] = batchnorm_rates.submit(workers, seed=seed, epochs=s.lr_epochs)
        pending[("batches", seed)] = small_batches.submit(workers, seed=seed)
    record = Record({}, {}, {}, {}, {})
    for (kind, seed), job in tqdm(pending.items(), desc="recorded runs", unit="group"):
        if kind == "depth":
            runs = [future.result() for future in job]
            record.depth[seed] = runs
        else:
            getattr(record, kind)[seed] = job.result()
    for run_ in record.depth.get(s.seeds[0], []):
        if run_.name in KEPT and run_.depth == max(s.depths) and run_.state is not None:
            record.weights[run_.name] = run_.state
    for runs in record.depth.values():
        for run_ in runs:
            run_.state = None
    record.meta = {"settings": asdict(s), "seconds": time.perf_counter() - start, **machine_stamp()}
    return record


def _norm_result(result):
    """A NormResult as plain data: ``{"norm@value": accuracy}``."""
    return {f"{norm}@{value}": acc for (norm, value), acc in result.accuracy.items()}


def card_path(out):
    """Where :func:`save` writes the card of the record ``out``: beside it, ending in ``.md``."""
    return Path(out).with_suffix(".md")


def save(record, out=OUT):
    """Write the record to ``out`` (``.pt``: histories, half-precision weights, meta) and the
    model card beside it (:func:`card_path`); returns ``out``."""
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
    card_path(out).write_text(card(record, out.name))
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


CARD = """# Model card: `{name}`

Recorded runs of the deep-training chapter (book/08-deep-training.md). Produced by
`python -m cvlib.experiments.pretrain {recipe}` (cvlib/experiments/pretrain_deep.py); run
it again to reproduce the figures.

- **Data**: Fashion-MNIST (Xiao et al., 2017, MIT licence), a fixed part of the training file:
  {per_class} training and {val_per_class} validation photographs of each class, 28x28, values in
  [0, 1], drawn once with seed 0 (`cvlib.experiments.deep_data.fashion_splits`). No test image
  is used.
- **Seeds**: {seeds} (a seed sets the initial weights and the order of the batches).
- **Depth runs**: {depth_line}
{grid_lines}- **Time**: {seconds:.0f} s on {machine}, {cpu} (a machine shared with other
  jobs, so the time is indicative); torch {torch_version}, CPU kernels {capability}.
- **Intended use**: {use} Not for any application.
"""

GRID_LINES = """\
- **Learning-rate runs**: `NormCNN` with and without batch norm, SGD momentum 0.9, batch 32,
  {lr_epochs} epochs at each of 0.003-1.
- **Tiny-batch runs**: `NormCNN` with batch, group and layer norm, Adam lr 0.001, one epoch in
  batches of 1, 2 and 32.
"""


USES = {
    True: "teaching what normalisation allows (large learning rates) and where batch norm fails "
    "(tiny batches).",
    False: "teaching the degradation of deep plain networks and what skip connections change.",
}


def _depth_line(record):
    """The card's line on the depth runs: settings and each network's mean final accuracy."""
    s = record.meta["settings"]
    finals = []
    for net, d in {(r.name, r.depth): None for r in record.depth.get(s["seeds"][0], [])}:
        accs = [r.val_acc[-1] for runs in record.depth.values() for r in runs
                if (r.name, r.depth) == (net, d)]  # fmt: skip
        finals.append(f"{net}-{d} {100 * sum(accs) / len(accs):.1f}%")
    if not finals:
        return "none (`depths=()`)"
    size = s.get("image_size", 28)
    kept = (
        f"the deepest two of seed {s['seeds'][0]} kept in half precision (`weights`)"
        if s.get("keep_weights", True)
        else "no weights kept"
    )
    return (
        f"`resnet_small`, `plain_small` (depths {s['depths']})"
        + (" and `preact_small` (the deepest)" if s.get("preact", True) else "")
        + f", on the photographs at {size}x{size}, Adam lr 0.001, batch 32, {s['epochs']} epochs; "
        f"{kept}; final validation accuracy (mean over the seeds): {', '.join(finals)}"
    )


def card(record, name=OUT.name):
    """The model card's text for the record saved as ``name``."""
    s = record.meta["settings"]
    grids = s.get("grids", True)
    return CARD.format(
        name=name,
        recipe=next((n for n, (st, _) in RECORDS.items() if asdict(st) == s), Path(name).stem),
        per_class=depth.Settings.per_class,
        val_per_class=depth.Settings.val_per_class,
        seeds=", ".join(str(x) for x in s["seeds"]),
        depth_line=_depth_line(record),
        grid_lines=GRID_LINES.format(lr_epochs=s["lr_epochs"]) if grids else "",
        seconds=record.meta["seconds"],
        machine=record.meta["machine"],
        cpu=record.meta.get("cpu", "processor not recorded"),
        torch_version=record.meta["torch"],
        capability=record.meta["cpu_capability"],
        use=USES[grids],
    )
