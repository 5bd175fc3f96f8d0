"""The deep-training chapter's measurement: residual against plain networks of the same depth
(He et al., 2016).

``resnet_small`` and ``plain_small`` (the same layers without the skip connections) at each depth,
trained on the 8x8 digits or a few labelled Fashion-MNIST photographs (``data``,
:mod:`cvlib.experiments.deep_data`) with the same seed, optimiser (Adam) and budget. Every run
records the accuracy on a validation split held out of the training file (the test split is not
used) and the first
convolution's gradient norm on a fixed probe batch, before training and after each epoch: a plain
network too deep to train shows it at initialisation already.

K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image recognition", CVPR 2016,
Sec. 4.2.
"""

import time
from dataclasses import dataclass, field

import torch
from torch.utils.data import DataLoader

from cvlib.models import plain_small, preact_small, resnet_small
from cvlib.probes import first_layer_grad_norm
from cvlib.train import Pending, fit, run_parallel, set_seed, torch_threads

from .common import VAL_SIZE
from .deep_data import splits
from .settings import resolve

__all__ = ["DepthRun", "Settings", "depth_run", "probe_indices", "run", "submit"]

NETWORKS = {"resnet_small": resnet_small, "plain_small": plain_small, "preact_small": preact_small}


@dataclass(frozen=True)
class Settings:
    """Depths to compare, epochs of Adam at ``lr`` in batches of ``batch_size``, one seed;
    ``networks`` names the networks trained at each depth (keys of ``NETWORKS``; add
    ``"preact_small"`` for the pre-activation ResNet)."""

    depths: tuple = (20, 56)
    networks: tuple = ("resnet_small", "plain_small")
    epochs: int = 3
    lr: float = 1e-3
    seed: int = 0
    batch_size: int = 64
    image_size: int = None  # the data's own: 8 for the digits, 28 for Fashion-MNIST
    val_size: int = VAL_SIZE
    data: str = "digits"  # or "fashion": per_class + val_per_class photographs of each class
    per_class: int = 100
    val_per_class: int = 50
    keep_weights: bool = False  # each DepthRun then carries its trained weights (``state``)


@dataclass
class DepthRun:
    """One training run of :func:`depth_run`; lists have one entry per epoch.

    ``grad_norm[0]`` is the first layer's gradient norm at initialisation, ``grad_norm[e]`` after
    epoch ``e`` (so it has ``epochs + 1`` entries), all on the same probe batch.
    """

    name: str
    depth: int
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    seconds: float = 0.0
    state: dict = None  # the trained weights, when the settings ask to keep them


def depth_run(model, train_loader, val_loader, probe, epochs=3, lr=1e-3, name="", depth=0):
    """Train ``model`` with Adam (:func:`cvlib.train.fit`), recording the accuracy on
    ``val_loader`` and the first layer's gradient norm on the ``(images, labels)`` batch ``probe``
    before training and after each epoch. Runs on the CPU."""
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive int, got {epochs!r}")
    images, labels = probe
    run = DepthRun(name=name, depth=depth)
    run.grad_norm.append(first_layer_grad_norm(model, images, labels))

    def record(model, history):
        run.grad_norm.append(first_layer_grad_norm(model, images, labels))

    start = time.perf_counter()
    history = fit(
        model,
        train_loader,
        val_loader,
        epochs=epochs,
        lr=lr,
        device="cpu",
        progress=False,
        channels_last=True,
        on_epoch_end=record,
    )
    run.seconds = time.perf_counter() - start
    run.train_loss, run.train_acc, run.val_acc = (
        history.train_loss,
        history.train_acc,
        history.val_acc,
    )
    model.zero_grad()
    return run


def run(settings=None, **overrides):
    """A list of :class:`DepthRun`: for each depth, each of ``networks`` in order.

    The training images are shuffled by torch's global generator, which each run seeds
    (``set_seed(seed)`` before building its network); the probe batch is 256 of them spread
    evenly over the set (:func:`probe_indices`).
    One process per core.
    """
    return run_parallel(run_one, _jobs(settings, overrides))


def _jobs(settings, overrides):
    s = resolve(Settings, settings, overrides)
    unknown = [n for n in s.networks if n not in NETWORKS]
    if isinstance(s.networks, str) or not s.networks or unknown:
        raise ValueError(f"`networks` must be names from {sorted(NETWORKS)}, got {s.networks!r}")
    return [dict(name=name, depth=depth, settings=s) for depth in s.depths for name in s.networks]


def submit(workers, settings=None, **overrides):
    """Start :func:`run`'s runs on ``workers`` (a :class:`cvlib.train.Workers`), the deepest
    (slowest) first so that two processes finish together; a :class:`Pending` at once."""
    jobs = _jobs(settings, overrides)
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i]["depth"])
    futures = dict.fromkeys(range(len(jobs)))
    for i in order:
        futures[i] = workers.submit(run_one, **jobs[i])
    return Pending([futures[i] for i in range(len(jobs))])


def probe_indices(n, size=256):
    """``min(size, n)`` indices spread evenly over ``range(n)``: the probe batch of a training
    set whose images are ordered by class (as Fashion-MNIST's few-label part is) still holds
    every class.

    >>> probe_indices(10, 4).tolist()
    [0, 3, 6, 9]
    """
    return torch.linspace(0, n - 1, min(size, n)).round().long()


def run_one(name, depth, settings):
    """One :class:`DepthRun` of ``name`` (a key of ``NETWORKS``) at ``depth``, on one torch
    thread (as in a worker process: the same numbers whichever process runs it)."""
    s = settings
    train, val = splits(s.data, s.image_size, s.per_class, s.val_per_class, val_size=s.val_size)
    train_loader = DataLoader(train, batch_size=s.batch_size, shuffle=True)
    val_loader = DataLoader(val, batch_size=len(val))
    probe = train[probe_indices(len(train))]  # spread over the set: every class is in it
    with torch_threads(1):
        set_seed(s.seed)
        model = NETWORKS[name](depth, num_classes=10, in_channels=1)
        run = depth_run(model, train_loader, val_loader, probe, s.epochs, s.lr, name, depth)
    if s.keep_weights:
        run.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return run
