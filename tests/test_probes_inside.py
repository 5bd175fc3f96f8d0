"""Tests for the chapter-12 probes: occlusion, receptive-field windows and top patches,
penultimate features, and the cascading-randomisation sanity check."""

import numpy as np
import pytest
import torch
from torch import nn

import cvlib
from cvlib.models import CourseCNN
from cvlib.probes import (
    cascading_randomisation,
    map_similarity,
    occlusion,
    penultimate_features,
    saliency,
    top_activating_patches,
    unit_window,
)


class ReadsRegion(nn.Module):
    """Logit 0 = sum of the pixels in a region (weights ``weight``), logit 1 = 0."""

    def __init__(self, weight):
        super().__init__()
        self.weight = weight  # (C, H, W)

    def forward(self, x):
        score = (x * self.weight).sum(dim=(1, 2, 3))  # (N,)
        return torch.stack([score, torch.zeros_like(score)], dim=1)  # (N, 2)


def brute_force_occlusion(model, image, patch, stride, fill):
    """Every square position by hand (an independent loop), then the per-pixel mean."""
    _, h, w = image.shape
    rows = sorted({*range(0, h - patch + 1, stride), h - patch})
    cols = sorted({*range(0, w - patch + 1, stride), w - patch})
    base = model(image[None])[0, 0]
    total, count = torch.zeros(h, w), torch.zeros(h, w)
    for i in rows:
        for j in cols:
            hidden = image.clone()
            hidden[:, i : i + patch, j : j + patch] = fill
            total[i : i + patch, j : j + patch] += base - model(hidden[None])[0, 0]
            count[i : i + patch, j : j + patch] += 1
    return torch.where(count > 0, total / count.clamp(min=1), 0.0)  # uncovered pixels: 0


def test_occlusion_peaks_on_the_one_pixel_the_model_reads():
    weight = torch.zeros(1, 12, 12)
    weight[0, 7, 4] = 1.0
    image = torch.ones(1, 12, 12)
    heat = occlusion(ReadsRegion(weight), image, target=0, patch=3, stride=1, score="logit")
    # every square over (7, 4) hides it (drop 1); a pixel's mean is the share of its squares
    # that also cover (7, 4): 1 at (7, 4) itself, 0 two or more pixels away from it
    assert heat[7, 4].item() == pytest.approx(1.0)
    assert torch.nonzero(heat > 1e-6).min(dim=0).values.tolist() == [5, 2]
    assert torch.nonzero(heat > 1e-6).max(dim=0).values.tolist() == [9, 6]
    assert heat[6, 4].item() == pytest.approx(2 / 3)  # 6 of its 9 squares cover (7, 4)


@pytest.mark.parametrize(("patch", "stride"), [(4, 2), (5, 3), (3, 4)])
def test_occlusion_equals_a_brute_force_loop(patch, stride):
    g = torch.Generator().manual_seed(patch)
    weight = torch.rand(3, 11, 13, generator=g) * (torch.rand(3, 11, 13, generator=g) > 0.7)
    image = torch.rand(3, 11, 13, generator=g)
    model = ReadsRegion(weight)
    ours = occlusion(model, image, target=0, patch=patch, stride=stride, score="logit")
    torch.testing.assert_close(ours, brute_force_occlusion(model, image, patch, stride, 0.0))
    mean = image.mean(dim=(1, 2), keepdim=True).expand(3, patch, patch)
    ours = occlusion(model, image, 0, patch, stride, fill="mean", score="logit", batch_size=5)
    torch.testing.assert_close(ours, brute_force_occlusion(model, image, patch, stride, mean))


def test_occlusion_probability_and_bad_arguments():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
    image = torch.rand(1, 8, 8)
    heat = occlusion(model, image, patch=8, stride=8)  # one square hides everything
    p = model(image[None]).softmax(1)[0]
    p0 = model(torch.zeros(1, 1, 8, 8)).softmax(1)[0]
    k = int(p.argmax())
    torch.testing.assert_close(heat, torch.full((8, 8), (p[k] - p0[k]).item()))
    for kwargs, name in (
        ({"patch": 9}, "patch"),
        ({"stride": 0}, "stride"),
        ({"score": "x"}, "score"),
    ):
        with pytest.raises(ValueError, match=name):
            occlusion(model, image, **kwargs)
    with pytest.raises(ValueError, match="target"):
        occlusion(model, image, target=3)


def linear_cnn():
    """Convolutions and pools without ReLU, all weights positive: a unit's input gradient is
    non-zero exactly on its receptive field."""
    net = nn.Sequential(
        nn.Conv2d(1, 1, 3, padding=1),
        nn.AvgPool2d(2),
        nn.Conv2d(1, 1, 5, padding=1, dilation=1),
        nn.AvgPool2d(2),
        nn.Conv2d(1, 1, 3, padding=0),
    )
    for m in net:
        if isinstance(m, nn.Conv2d):
            nn.init.uniform_(m.weight, 0.5, 1.0)
    return net


@pytest.mark.parametrize(("layer", "y", "x"), [("0", 4, 5), ("2", 3, 1), ("4", 2, 2), ("4", 0, 0)])
def test_unit_window_is_the_support_of_the_input_gradient(layer, y, x):
    net = linear_cnn()
    image = torch.zeros(1, 1, 40, 40, requires_grad=True)
    window = unit_window(net, layer, (1, 40, 40))
    out = net[: int(layer) + 1](image)  # (1, 1, H_l, W_l)
    (grad,) = torch.autograd.grad(out[0, 0, y, x], image)
    rows, cols = torch.nonzero(grad[0, 0]).T
    top, left = window.box(y, x)
    assert rows.min().item() == max(top, 0) and cols.min().item() == max(left, 0)
    assert rows.max().item() == min(top + window.size, 40) - 1
    assert cols.max().item() == min(left + window.size, 40) - 1
    row = cvlib.summary(net, (1, 40, 40)).rows[int(layer)]
    assert (window.size, window.jump) == (row.receptive_field, row.jump)


def test_top_activating_patches_find_the_brightest_dots():
    conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 1, 1] = 1.0  # the unit copies its centre pixel
    net = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2))
    images = torch.zeros(6, 1, 16, 16)
    spots = [(2, 3, 0.2), (9, 12, 0.9), (5, 6, 0.5), (12, 2, 0.7), (0, 0, 0.1), (14, 9, 0.8)]
    for n, (r, c, v) in enumerate(spots):
        images[n, 0, r, c] = v
    patches, acts, where = top_activating_patches(net, images, "2", channel=0, k=3)
    assert [n for n, _, _ in where] == [1, 5, 3]  # images by their dot's brightness
    torch.testing.assert_close(acts, torch.tensor([0.9, 0.8, 0.7]))
    assert patches.shape == (3, 1, 4, 4)  # pool after a 3x3 conv: a 4 x 4 field
    for patch, value in zip(patches, (0.9, 0.8, 0.7), strict=True):
        assert patch.max().item() == pytest.approx(value)  # the dot lies inside its patch


def test_penultimate_features_are_what_the_head_reads():
    torch.manual_seed(0)
    model = CourseCNN(num_classes=4).eval()
    images = torch.rand(7, 1, 16, 16)
    feats = penultimate_features(model, images, batch_size=3)
    torch.testing.assert_close(feats, model.features(images))
    torch.testing.assert_close(model.head(feats), model(images))
    with pytest.raises(ValueError, match="Linear"):
        penultimate_features(nn.Sequential(nn.Conv2d(1, 1, 3)), images)


def rank_correlation(a, b):
    """Spearman's rho without ties: Pearson's correlation of the ranks."""
    ra, rb = np.argsort(np.argsort(a.ravel())), np.argsort(np.argsort(b.ravel()))
    return np.corrcoef(ra, rb)[0, 1]


def test_cascading_randomisation_of_a_linear_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(100, 3))
    images = torch.rand(4, 1, 10, 10)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    check = cascading_randomisation(model, images, saliency, seed=3)
    assert check.layers == ["trained", "1"]
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])  # the model itself is untouched
    targets = model(images).argmax(1)
    for n, t in enumerate(targets.tolist()):  # saliency of a linear model: |w_target|
        trained = model[1].weight[t].abs().reshape(10, 10).detach()
        torch.testing.assert_close(check.maps[0, n], trained)
        random = check.maps[1, n].numpy()
        assert check.spearman[1, n] == pytest.approx(rank_correlation(trained.numpy(), random))
    np.testing.assert_allclose(check.spearman[0], 1.0)
    np.testing.assert_allclose(check.ssim[0], 1.0)
    assert np.abs(check.spearman[1]).max() < 0.4  # fresh random weights: unrelated maps


def test_cascading_randomisation_goes_from_the_top_and_names_bad_layers():
    torch.manual_seed(0)
    model = CourseCNN(num_classes=3)
    check = cascading_randomisation(model, torch.rand(2, 1, 12, 12), saliency)
    assert check.layers == ["trained", "head", "features.8", "features.4", "features.0"]
    assert check.maps.shape == (5, 2, 12, 12) and check.ssim.shape == (5, 2)
    with pytest.raises(ValueError, match="layers"):
        cascading_randomisation(model, torch.rand(1, 1, 8, 8), saliency, layers=["features.1x"])
    with pytest.raises(ValueError, match="2-D"):
        map_similarity(np.zeros((3, 3)), np.zeros((3, 4)))
