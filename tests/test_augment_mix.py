"""cvlib.augment.mix (mixup, CutMix) and cvlib.augment.tta (test-time augmentation), against
small cases computed by hand and against the plain averages they stand for."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cvlib import augment as A
from cvlib.augment import functional as AF


def constant_batch(values, size=4):
    """Images (N, 1, size, size), image i filled with values[i]."""
    return torch.tensor(values, dtype=torch.float32)[:, None, None, None].expand(
        -1, 1, size, size).clone()  # fmt: skip


# --- mixup ------------------------------------------------------------------------------------


def test_blend_pairs_by_hand():
    # two images, 0.2 and 1.0 everywhere, classes 0 and 2 of 3; each paired with the other
    images = constant_batch([0.2, 1.0], size=2)
    labels = torch.tensor([0, 2])
    x, y = A.blend_pairs(images, labels, 3, perm=torch.tensor([1, 0]), lam=0.7)
    # 0.7 * 0.2 + 0.3 * 1.0 = 0.44 and 0.7 * 1.0 + 0.3 * 0.2 = 0.76
    assert torch.allclose(x[0], torch.full((1, 2, 2), 0.44))
    assert torch.allclose(x[1], torch.full((1, 2, 2), 0.76))
    assert torch.allclose(y, torch.tensor([[0.7, 0.0, 0.3], [0.3, 0.0, 0.7]]))


def test_mixup_mixes_pixels_and_labels_with_the_same_lambda():
    g = torch.Generator().manual_seed(3)
    images, labels = torch.rand(16, 1, 6, 6), torch.arange(16) % 5
    x, y, lam = A.mixup(images, labels, 5, alpha=0.4, generator=g)
    assert 0 < lam < 1
    # find each image's partner from its pixels, then check pixels and labels against it
    own = F.one_hot(labels, 5).float()
    partner = ((x - lam * images).flatten(1)[:, None, :]
               - (1 - lam) * images.flatten(1)[None]).abs().amax(2).argmin(1)  # fmt: skip
    assert sorted(partner.tolist()) == list(range(16))  # a permutation
    assert torch.allclose(x, lam * images + (1 - lam) * images[partner], atol=1e-6)
    assert torch.allclose(y, lam * own + (1 - lam) * own[partner], atol=1e-6)
    assert torch.allclose(y.sum(1), torch.ones(16))


def test_mixup_repeats_with_a_seed_and_draws_lambda_from_beta():
    images, labels = torch.rand(4, 1, 3, 3), torch.tensor([0, 1, 2, 3])
    a = A.mixup(images, labels, 4, seed=7)
    b = A.mixup(images, labels, 4, seed=7)
    assert torch.equal(a[0], b[0]) and a[2] == b[2]
    lams = [A.mixup(images, labels, 4, alpha=0.2, seed=s)[2] for s in range(400)]
    mean = sum(lams) / len(lams)
    assert abs(mean - 0.5) < 0.05  # Beta(a, a) is symmetric about 1/2
    assert sum(lam < 0.1 or lam > 0.9 for lam in lams) > 200  # alpha 0.2: mostly near 0 or 1


def test_soft_target_loss_is_the_lambda_weighted_pair_of_losses():
    images, labels = torch.rand(8, 1, 5, 5), torch.arange(8) % 3
    perm, lam = torch.randperm(8, generator=torch.Generator().manual_seed(0)), 0.35
    _, y = A.blend_pairs(images, labels, 3, perm, lam)
    logits = torch.randn(8, 3, generator=torch.Generator().manual_seed(1))
    pairwise = lam * F.cross_entropy(logits, labels) + (1 - lam) * F.cross_entropy(
        logits, labels[perm]
    )
    assert torch.allclose(F.cross_entropy(logits, y), pairwise)


# --- CutMix -----------------------------------------------------------------------------------


def test_paste_box_by_hand():
    images = constant_batch([0.0, 1.0], size=4)
    labels = torch.tensor([1, 0])
    x, y, lam = A.paste_box(images, labels, 2, torch.tensor([1, 0]), box=(1, 2, 2, 2))
    assert lam == 1 - 4 / 16 == 0.75
    expected = torch.zeros(4, 4)
    expected[1:3, 2:4] = 1.0  # the 2 x 2 rectangle at row 1, column 2 comes from image 1
    assert torch.equal(x[0, 0], expected)
    assert torch.equal(x[1, 0], 1 - expected)
    assert torch.allclose(y, torch.tensor([[0.25, 0.75], [0.75, 0.25]]))


@pytest.mark.parametrize("seed", range(12))
def test_cutmix_lambda_is_the_share_of_pixels_left_alone(seed):
    n, size = 6, 10
    images = constant_batch([float(i + 1) for i in range(n)], size=size)
    labels = torch.arange(n)
    x, y, lam = A.cutmix(images, labels, n, alpha=1.0, seed=seed)
    own = (x == images).float().mean(dim=(1, 2, 3))  # (N,) share of each picture its own
    moved = (x != images).flatten(1).any(1)  # images paired with themselves change nothing
    assert torch.allclose(own[moved], torch.full((int(moved.sum()),), lam))
    assert torch.allclose(y[torch.arange(n), labels][moved], torch.full((int(moved.sum()),), lam))
    assert torch.allclose(y.sum(1), torch.ones(n))


def test_cutmix_box_size_follows_lambda_and_is_cut_at_the_border():
    g = torch.Generator().manual_seed(0)
    boxes = [A.cutmix_box(20, 20, 0.84, generator=g) for _ in range(200)]  # sides 20 * 0.4 = 8
    assert all(0 <= t and 0 <= l and t + h <= 20 and l + w <= 20 for t, l, h, w in boxes)
    assert all(h <= 8 and w <= 8 for _, _, h, w in boxes)
    assert any(h < 8 for _, _, h, _ in boxes) and any((h, w) == (8, 8) for _, _, h, w in boxes)
    assert A.cutmix_box(5, 5, 1.0, generator=g)[2:] == (0, 0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda im, lb: A.mixup(im, lb, 1), "num_classes"),
        (lambda im, lb: A.mixup(im, lb + 5, 4), "labels"),
        (lambda im, lb: A.mixup(im[0], lb, 4), "images"),
        (lambda im, lb: A.mixup(im, lb, 4, alpha=0), "alpha"),
        (lambda im, lb: A.blend_pairs(im, lb, 4, torch.tensor([0, 0, 1, 2]), 0.5), "perm"),
        (lambda im, lb: A.blend_pairs(im, lb, 4, torch.arange(4), 1.5), "lam"),
        (lambda im, lb: A.paste_box(im, lb, 4, torch.arange(4), (2, 2, 3, 1)), "box"),
        (lambda im, lb: A.cutmix(im, lb[:2], 4), "labels"),
    ],
)
def test_bad_arguments_are_named(call, message):
    images, labels = torch.rand(4, 1, 4, 4), torch.tensor([0, 1, 2, 3])
    with pytest.raises(ValueError, match=message):
        call(images, labels)


def test_integer_images_are_refused():
    with pytest.raises(TypeError, match="images"):
        A.mixup(torch.zeros(2, 1, 3, 3, dtype=torch.uint8), torch.tensor([0, 1]), 2)


# --- test-time augmentation -------------------------------------------------------------------


def small_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Flatten(), nn.Linear(4 * 36, 3))  # fmt: skip


def test_tta_is_the_mean_of_the_softmax_over_the_views():
    model, images = small_model(), torch.rand(7, 1, 6, 6)
    model.train()
    probs = A.tta_predict(model, images, batch_size=3)  # three chunks
    assert model.training  # given back in the mode it had
    model.eval()
    with torch.no_grad():
        manual = torch.stack([
            F.softmax(model(images), 1),
            F.softmax(model(AF.hflip(images)), 1),
            F.softmax(model(AF.shift(images, -1, 0)), 1),
            F.softmax(model(AF.shift(images, 1, 0)), 1),
            F.softmax(model(AF.shift(images, 0, -1)), 1),
            F.softmax(model(AF.shift(images, 0, 1)), 1),
        ]).mean(0)  # fmt: skip
    assert torch.allclose(probs, manual, atol=1e-6)
    assert torch.allclose(probs.sum(1), torch.ones(7))


def test_tta_with_the_image_alone_is_the_plain_prediction():
    model, images = small_model().eval(), torch.rand(5, 1, 6, 6)
    probs = A.tta_predict(model, images, views=A.flip_shift_views(hflip=False, shift=0))
    with torch.no_grad():
        assert torch.allclose(probs, F.softmax(model(images), 1), atol=1e-6)


def test_tta_arguments_are_checked():
    model, images = small_model(), torch.rand(2, 1, 6, 6)
    with pytest.raises(ValueError, match="views"):
        A.tta_predict(model, images, views=[])
    with pytest.raises(ValueError, match="images"):
        A.tta_predict(model, images[0])
    with pytest.raises(ValueError, match="batch_size"):
        A.tta_predict(model, images, batch_size=0)
    with pytest.raises(ValueError, match="shift"):
        A.flip_shift_views(shift=-1)
