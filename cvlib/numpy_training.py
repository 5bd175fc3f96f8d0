"""Training the numpy capstone CNN (:mod:`cvlib.numpy_cnn`): the recipe, the loop, the checks.

The recipe (:class:`Recipe`): mini-batches of 16 in a new random order every epoch, SGD with
momentum 0.9 and weight decay 5e-4, the learning rate falling from 0.05 to 0 along a half cosine
(:func:`cosine_lr`), 5 epochs. The seed fixes the run: it seeds the initial weights
(:func:`cvlib.numpy_cnn.init_params`) and ``numpy.random.default_rng(seed)``, which draws each
epoch's order; the same seed gives the same network, to the bit, with the same numpy and the
same number of BLAS threads.

Before a long run, two cheap checks catch most bugs: :func:`cvlib.numpy_cnn.gradient_check`
(every gradient of the whole network against a numerical one) and :func:`overfit_tiny_batch`
(a network that cannot learn 20 images by heart has a bug, not too little data).

Examples
--------
>>> rng = np.random.default_rng(0)
>>> x, target = rng.random((40, 1, 8, 8)), np.arange(40) % 4
>>> run = fit(x, target, Recipe(epochs=2, channels=(4, 8)), seed=0, num_classes=4)
>>> len(run.losses), run.params.fc_weight.shape
(6, (4, 32))
"""

import math
from dataclasses import dataclass

import numpy as np

from cvlib._validate import check_labels
from cvlib.numpy_cnn import REFERENCE, init_params, loss_and_grads, predict

__all__ = ["Recipe", "Trained", "accuracy", "cosine_lr", "fit", "overfit_tiny_batch"]


@dataclass(frozen=True)
class Recipe:
    """The training settings of the capstone (assignment 6's recipe for its 14x14 Fashion-MNIST;
    ``python -m cvlib.bench capstone`` measures what it reaches).

    ``bn_momentum`` is batch norm's weight of each new batch in its running estimates;
    ``channels`` the filter counts of the network's two blocks.
    """

    epochs: int = 5
    batch_size: int = 16
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    bn_momentum: float = 0.1
    channels: tuple = (10, 20)


@dataclass
class Trained:
    """A trained network: its parameters, batch norm's running estimates, the loss per step."""

    params: object  # cvlib.numpy_cnn.Params
    stats: object  # cvlib.numpy_cnn.Stats
    losses: list  # training-mode loss of each mini-batch, before its step


def cosine_lr(lr, step, total_steps):
    """The learning rate of ``step`` (0-based) on a half cosine from ``lr`` down towards 0.

    .. math:: \\eta_t = \\frac{\\eta}{2} \\left(1 + \\cos \\frac{\\pi t}{T}\\right)

    Examples
    --------
    >>> cosine_lr(0.1, 0, 100), cosine_lr(0.1, 50, 100), round(cosine_lr(0.1, 99, 100), 6)
    (0.1, 0.05, 2.5e-05)
    """
    if not (isinstance(step, int) and isinstance(total_steps, int)) or not 0 <= step < total_steps:
        raise ValueError(
            f"`step` must be an int in [0, total_steps), got {step!r}, {total_steps!r}"
        )
    return lr * (1 + math.cos(math.pi * step / total_steps)) / 2


def fit(x, target, recipe=None, seed=0, ops=REFERENCE, num_classes=10, progress=None):
    """Train a fresh capstone network on ``(x, target)`` with ``recipe``; a :class:`Trained`.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Training images (float64 keeps the gradients exact; float32 is faster).
    target : ndarray of int, shape (N,)
    recipe : Recipe, default Recipe()
    seed : int
        Seeds the initial weights and the order of the mini-batches.
    ops : cvlib.numpy_cnn.Ops
        The layer functions and the optimiser (a student's, or cvlib's by default).
    num_classes : int, default 10
    progress : callable, optional
        Wraps the range of epochs, e.g. ``cvlib.train.progress_bar`` (a bar that stays silent
        under nbgrader).

    Returns
    -------
    Trained

    Shape
    -----
    x : (N, C, H, W), target : (N,); ``len(losses) == epochs * ceil(N / batch_size)``
    """
    recipe = Recipe() if recipe is None else recipe
    x, target = _check_data(x, target)
    params, stats = init_params(
        x.shape[1], num_classes, recipe.channels, seed=seed, size=x.shape[2:]
    )
    rng = np.random.default_rng(seed)  # the order of the mini-batches
    steps_per_epoch = math.ceil(len(x) / recipe.batch_size)
    total, step, velocities, losses = recipe.epochs * steps_per_epoch, 0, None, []
    epochs = range(recipe.epochs)
    for _ in progress(epochs) if progress is not None else epochs:
        order = rng.permutation(len(x))
        for start in range(0, len(x), recipe.batch_size):
            batch = order[start : start + recipe.batch_size]
            loss, grads, stats = loss_and_grads(
                params, stats, x[batch], target[batch], ops, recipe.bn_momentum
            )
            params, velocities = ops.sgd(
                params,
                grads,
                velocities,
                lr=cosine_lr(recipe.lr, step, total),
                momentum=recipe.momentum,
                weight_decay=recipe.weight_decay,
            )
            losses.append(loss)
            step += 1
    return Trained(params, stats, losses)


def accuracy(params, stats, x, target, ops=REFERENCE, batch_size=1):
    """Share of ``x`` classified right in evaluation mode, ``batch_size`` images at a time.

    One image at a time by default: that is how a deployed classifier sees images, and in
    evaluation mode an answer must not depend on the other images of a batch. (A batch norm that
    normalises with the batch's statistics at evaluation passes on one large batch of mixed
    digits and fails here.)
    """
    x, target = _check_data(x, target)
    return float(np.mean(predict(params, stats, x, ops, batch_size).argmax(axis=1) == target))


def overfit_tiny_batch(x, target, steps=60, lr=0.05, seed=0, ops=REFERENCE, channels=(10, 20)):
    """The sanity check before training: learn one tiny batch by heart.

    Plain SGD with momentum 0.9 and no weight decay on the same few images at every step. A
    correct network drives the loss to nearly 0 and classifies all of them right; if it cannot,
    something is broken (a wrong gradient, a sign, a learning rate), whatever the data.

    Returns
    -------
    losses : list of float
        Training-mode loss before each step.
    accuracy : float
        Evaluation-mode accuracy on the batch after the last step.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> losses, acc = overfit_tiny_batch(rng.random((10, 1, 8, 8)), np.arange(10))
    >>> losses[0] > 2, losses[-1] < 0.05, acc
    (True, True, 1.0)
    """
    x, target = _check_data(x, target)
    params, stats = init_params(
        x.shape[1], int(target.max()) + 1, channels, seed=seed, size=x.shape[2:]
    )
    velocities, losses = None, []
    for _ in range(steps):
        loss, grads, stats = loss_and_grads(params, stats, x, target, ops)
        params, velocities = ops.sgd(params, grads, velocities, lr=lr, momentum=0.9)
        losses.append(loss)
    return losses, accuracy(params, stats, x, target, ops, batch_size=len(x))


def _check_data(x, target):
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        shape = getattr(x, "shape", None)
        raise ValueError(f"`x` must be a numpy array of shape (N, C, H, W), got {shape}")
    return x, check_labels(target, len(x), "one label per image")
