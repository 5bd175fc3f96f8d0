"""Tests of cvlib.tools.grading.a3_fashion_budget: the data it measures on and its two models."""

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from cvlib.data import fashion_mnist
from cvlib.grading.heldout import grader_seed, perturb
from cvlib.tools.grading.a3_fashion_budget import (
    Recipe,
    fashion_sets,
    linear_accuracy,
    pad32,
    train,
)


def test_pad32_puts_the_photograph_in_the_middle_of_zeros():
    x = torch.rand(3, 1, 28, 28)
    y = pad32(x)
    assert y.shape == (3, 1, 32, 32)
    assert torch.equal(y[:, :, 2:30, 2:30], x)
    border = y.clone()
    border[:, :, 2:30, 2:30] = 0
    assert not border.any()


def test_the_sets_are_a_stratified_subset_and_the_graders_perturbed_heldout():
    (x, y), (hx, hy), (px, py) = fashion_sets(7)
    assert x.shape == (70, 1, 32, 32) and np.bincount(y.numpy()).tolist() == [7] * 10
    heldout = fashion_mnist("heldout")
    train_images = fashion_mnist("train").images
    # every training image is one of the split's photographs, padded
    assert all((train_images == image[:, 2:30, 2:30]).flatten(1).all(1).any() for image in x[:5])
    assert torch.equal(hx[:, :, 2:30, 2:30], heldout.images) and torch.equal(hy, heldout.labels)
    assert torch.equal(px, perturb(hx, grader_seed())) and torch.equal(py, hy)
    (nx, _), _, _ = fashion_sets(7, normalise=True)
    assert abs(nx.mean().item() - ((x - 0.2860) / 0.3530).mean().item()) < 1e-6


def test_linear_accuracy_is_scikit_learns_logistic_regression():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(60, 1, 4, 4, generator=g), torch.randint(0, 3, (60,), generator=g)
    tx, ty = torch.rand(30, 1, 4, 4, generator=g), torch.randint(0, 3, (30,), generator=g)
    model = LogisticRegression(C=0.3, max_iter=3000).fit(x.reshape(60, -1).numpy(), y.numpy())
    expected = np.mean(model.predict(tx.reshape(30, -1).numpy()) == ty.numpy())
    assert linear_accuracy((x, y), [(tx, ty)], 0.3) == [expected]


def test_train_repeats_itself_for_a_seed_and_learns():
    (x, y), (hx, hy), _ = fashion_sets(20)
    recipe = Recipe("tiny", 20, 2, 5e-3, 1)
    first, _ = train(recipe, x, y, seed=3)
    second, _ = train(recipe, x, y, seed=3)
    for p, q in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(p, q)
    with torch.no_grad():
        right = (first.eval()(hx).argmax(1) == hy).double().mean().item()
    assert right > 0.3  # chance is 0.1; 200 photographs for 2 epochs reach about half
