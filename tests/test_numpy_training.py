"""cvlib.numpy_training: the schedule, determinism, the loop against a hand-written one, the
overfit check, and evaluation one image at a time."""

import itertools
import math

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from cvlib import batchnorm
from cvlib.experiments.capstone import flipped_kernel_gradient
from cvlib.numpy_cnn import Ops, init_params, loss_and_grads, predict
from cvlib.numpy_training import Recipe, accuracy, cosine_lr, fit, overfit_tiny_batch
from cvlib.optim import sgd

TINY = Recipe(epochs=2, batch_size=8, channels=(3, 4))


def toy_data(n=24, seed=0):
    """Images whose class is the position of a bright 2x2 square (4 classes)."""
    rng = np.random.default_rng(seed)
    target = np.arange(n) % 4
    x = rng.normal(0, 0.1, size=(n, 1, 8, 8))
    for i, t in enumerate(target):
        r, c = divmod(int(t), 2)
        x[i, 0, 4 * r + 1 : 4 * r + 3, 4 * c + 1 : 4 * c + 3] += 1.0
    return x, target


def test_cosine_lr():
    lrs = [cosine_lr(0.1, t, 10) for t in range(10)]
    assert lrs[0] == 0.1 and all(a > b for a, b in itertools.pairwise(lrs))
    assert cosine_lr(0.1, 5, 10) == pytest.approx(0.05)
    assert lrs[-1] == pytest.approx(0.05 * (1 + math.cos(0.9 * math.pi)))
    with pytest.raises(ValueError, match="`step` must be an int in"):
        cosine_lr(0.1, 10, 10)


def test_fit_is_the_loop_it_describes():
    """Seeded init, a new permutation per epoch, cosine learning rate, SGD with momentum."""
    x, target = toy_data()
    run = fit(x, target, TINY, seed=3, num_classes=4)
    params, stats = init_params(1, 4, TINY.channels, seed=3, size=8)
    rng = np.random.default_rng(3)
    velocities, losses, step = None, [], 0
    for _ in range(TINY.epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), TINY.batch_size):
            batch = order[start : start + TINY.batch_size]
            loss, grads, stats = loss_and_grads(params, stats, x[batch], target[batch])
            lr = cosine_lr(TINY.lr, step, TINY.epochs * 3)
            params, velocities = sgd(
                params, grads, velocities, lr=lr, momentum=0.9, weight_decay=TINY.weight_decay
            )
            losses.append(loss)
            step += 1
    assert run.losses == losses
    assert all(np.array_equal(a, b) for a, b in zip(run.params, params, strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(run.stats, stats, strict=True))


def test_the_same_seed_gives_the_same_network_and_another_seed_another():
    x, target = toy_data()
    with threadpool_limits(1):
        a, b = (fit(x, target, TINY, seed=0, num_classes=4) for _ in range(2))
        c = fit(x, target, TINY, seed=1, num_classes=4)
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params, strict=True))
    assert a.losses == b.losses and a.losses != c.losses


def test_fit_learns_and_reports_progress():
    x, target = toy_data(48)
    seen = []

    def progress(epochs):
        seen.append(len(epochs))
        return epochs

    run = fit(
        x,
        target,
        Recipe(epochs=4, batch_size=8, channels=(4, 8)),
        0,
        num_classes=4,
        progress=progress,
    )
    assert seen == [4] and len(run.losses) == 4 * 6
    assert np.mean(run.losses[-6:]) < 0.5 * run.losses[0]
    test_x, test_target = toy_data(40, seed=1)
    assert accuracy(run.params, run.stats, test_x, test_target) > 0.9


def test_accuracy_goes_one_image_at_a_time():
    x, target = toy_data(12)
    params, stats = init_params(1, 4, (3, 4), seed=0, size=8)
    logits = predict(params, stats, x)
    assert accuracy(params, stats, x, target) == np.mean(logits.argmax(axis=1) == target)

    def batch_statistics(x, mean, var, weight=None, bias=None, training=False, momentum=0.1):
        return batchnorm.batch_norm(x, mean, var, weight, bias, True, momentum)

    calls = []

    def sized(x, *args):
        calls.append(len(x))
        return batch_statistics(x, *args)

    accuracy(params, stats, x, target, Ops(batch_norm=sized))
    assert set(calls) == {1}


def test_overfit_check_passes_and_a_wrong_backward_changes_its_losses():
    x, target = toy_data(8)
    x = x + np.random.default_rng(2).normal(0, 0.5, size=x.shape)  # 8 images to memorise
    target = np.arange(8)
    losses, acc = overfit_tiny_batch(x, target, channels=(8, 16))
    assert losses[0] > 1.5 and losses[-1] < 0.05 and acc == 1.0
    wrong = Ops(conv2d_backward=flipped_kernel_gradient)
    wrong_losses, _ = overfit_tiny_batch(x, target, channels=(8, 16), ops=wrong)
    # the dense layer reads every pixel of the last map, so it can learn 8 images by heart on its
    # own: a wrong kernel gradient shows in the path of the losses, not always in the last one
    assert wrong_losses[0] == losses[0]
    assert np.max(np.abs(np.subtract(wrong_losses[1:], losses[1:]))) > 1e-3


@pytest.mark.parametrize(
    ("x", "target", "error", "match"),
    [
        (np.zeros((2, 8, 8)), np.zeros(2, int), ValueError, r"`x` must be a numpy array of shape"),
        (np.zeros((2, 1, 8, 8)), np.zeros(2), TypeError, "`target` must be an integer"),
        (np.zeros((2, 1, 8, 8)), np.zeros(3, int), ValueError, r"`target` must have shape \(2,\)"),
    ],
)
def test_bad_data_is_named(x, target, error, match):
    with pytest.raises(error, match=match):
        fit(x, target, TINY)
