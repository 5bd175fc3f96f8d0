"""cvlib.augment against torchvision.transforms.v2.functional, plus invariants."""

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF
from torch.utils.data import TensorDataset

from cvlib import augment as A
from cvlib.augment import functional as AF
from cvlib.augment.functional import shift


@pytest.fixture
def rgb():
    return torch.rand(3, 12, 16, generator=torch.Generator().manual_seed(0))


@pytest.fixture
def batch():
    return torch.rand(5, 3, 10, 10, generator=torch.Generator().manual_seed(1))


# ---- deterministic operations = torchvision -------------------------------------------------


def test_flips_match_torchvision(rgb, batch):
    assert torch.equal(AF.hflip(rgb), TF.horizontal_flip(rgb))
    assert torch.equal(AF.vflip(rgb), TF.vertical_flip(rgb))
    assert torch.equal(AF.hflip(batch), TF.horizontal_flip(batch))


@pytest.mark.parametrize("angle", [90, 180, 270, -90])
def test_rotate_multiples_of_90_match_torchvision_exactly(angle):
    x = torch.rand(2, 9, 9)
    assert torch.equal(AF.rotate(x, angle), TF.rotate(x, angle))
    assert torch.equal(AF.rotate(x, 90), torch.rot90(x, 1, dims=(-2, -1)))


@pytest.mark.parametrize("angle", [17.0, -33.0, 45.0])
def test_rotate_general_angle_close_to_torchvision_inside(angle):
    x = torch.rand(3, 32, 24)
    ours = AF.rotate(x, angle, interpolation="bilinear")
    theirs = TF.rotate(x, angle, interpolation=TF.InterpolationMode.BILINEAR)
    inner = (..., slice(10, 22), slice(8, 16))  # away from the borders where fill comes in
    torch.testing.assert_close(ours[inner], theirs[inner], atol=1e-4, rtol=0)


def test_rotate_fill_and_uint8():
    x = torch.ones(1, 10, 10)
    out = AF.rotate(x, 45, fill=0.5)
    assert out[0, 0, 0] == pytest.approx(0.5)  # a corner comes from outside
    assert out[0, 5, 5] == pytest.approx(1.0)
    u = (torch.rand(3, 8, 8) * 255).to(torch.uint8)
    assert AF.rotate(u, 90).dtype == torch.uint8
    assert torch.equal(AF.rotate(u, 90), TF.rotate(u, 90))


def test_crop_and_resized_crop_match_torchvision(rgb):
    assert torch.equal(AF.crop(rgb, 2, 3, 5, 7), TF.crop(rgb, 2, 3, 5, 7))
    ours = AF.resized_crop(rgb, 1, 2, 8, 10, (6, 6))
    theirs = TF.resized_crop(rgb, 1, 2, 8, 10, [6, 6], antialias=True)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)


@pytest.mark.parametrize("factor", [0.0, 0.5, 1.0, 1.7])
def test_colour_adjustments_match_torchvision(rgb, factor):
    torch.testing.assert_close(AF.adjust_brightness(rgb, factor), TF.adjust_brightness(rgb, factor))
    torch.testing.assert_close(AF.adjust_contrast(rgb, factor), TF.adjust_contrast(rgb, factor))
    torch.testing.assert_close(AF.adjust_saturation(rgb, factor), TF.adjust_saturation(rgb, factor))
    torch.testing.assert_close(AF.adjust_sharpness(rgb, factor), TF.adjust_sharpness(rgb, factor))


def test_contrast_on_grey_and_batches(batch):
    grey = batch[:, :1]
    torch.testing.assert_close(AF.adjust_contrast(grey, 0.3), TF.adjust_contrast(grey, 0.3))
    torch.testing.assert_close(AF.adjust_contrast(batch, 1.5), TF.adjust_contrast(batch, 1.5))
    torch.testing.assert_close(AF.adjust_sharpness(batch, 2.0), TF.adjust_sharpness(batch, 2.0))


@pytest.mark.parametrize("hue", [-0.5, -0.2, 0.0, 0.1, 0.37])
def test_hue_matches_torchvision(rgb, hue):
    torch.testing.assert_close(AF.adjust_hue(rgb, hue), TF.adjust_hue(rgb, hue), atol=1e-5, rtol=0)


def test_hue_on_pure_colours():
    red = torch.tensor([1.0, 0.0, 0.0]).reshape(3, 1, 1)
    green = AF.adjust_hue(red, 1 / 3)
    torch.testing.assert_close(green.flatten(), torch.tensor([0.0, 1.0, 0.0]), atol=1e-6, rtol=0)


def test_normalize_and_erase_match_torchvision(rgb):
    mean, std = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
    torch.testing.assert_close(AF.normalize(rgb, mean, std), TF.normalize(rgb, mean, std))
    torch.testing.assert_close(A.Normalize(mean, std)(rgb), TF.normalize(rgb, mean, std))
    assert torch.equal(AF.erase(rgb, 1, 2, 3, 4, 0.0), TF.erase(rgb, 1, 2, 3, 4, torch.tensor(0.0)))
    assert torch.equal(rgb, rgb.clone())  # erase did not write into its input


def test_smoothing_kernel_comes_from_cvlib_kernels():
    from cvlib.kernels import kernel

    k = AF.smoothing_kernel()
    torch.testing.assert_close(k.sum(), torch.tensor(1.0))
    assert k[1, 1] * 13 == pytest.approx(5.0)
    assert torch.allclose(
        torch.as_tensor(kernel("box_blur"), dtype=torch.float32).sum(), torch.tensor(1.0)
    )


# ---- invariants ----------------------------------------------------------------------------

ALL_RANDOM = [
    lambda: A.RandomHorizontalFlip(0.5),
    lambda: A.RandomVerticalFlip(0.5),
    lambda: A.RandomRotation(30),
    lambda: A.RandomCrop(10, padding=2),
    lambda: A.RandomResizedCrop(10, scale=(0.3, 1.0)),
    lambda: A.ColorJitter(0.4, 0.4, 0.4, 0.1),
    lambda: A.GaussianNoise(0.1),
    lambda: A.RandomErasing(p=1.0),
    lambda: A.RandomSharpness(2.0, p=0.5),
]


def test_zero_rotation_is_identity_up_to_rounding(rgb):
    torch.testing.assert_close(A.RandomRotation(0)(rgb), rgb, atol=1e-6, rtol=0)
    assert torch.equal(A.RandomRotation(0, interpolation="nearest")(rgb), rgb)


def test_sure_flip_twice_is_identity(rgb):
    for flip in (A.RandomHorizontalFlip(p=1.0), A.RandomVerticalFlip(p=1.0)):
        assert torch.equal(flip(flip(rgb)), rgb)
        assert not torch.equal(flip(rgb), rgb)


@pytest.mark.parametrize(
    "make",
    [
        lambda: A.RandomHorizontalFlip(p=0.0),
        lambda: A.RandomVerticalFlip(p=0.0),
        lambda: A.RandomErasing(p=0.0),
        lambda: A.RandomSharpness(2.0, p=0.0),
        lambda: A.ColorJitter(),
        lambda: A.GaussianNoise(0.0),
    ],
)
def test_p_zero_or_zero_strength_is_identity(make, rgb):
    assert torch.equal(make()(rgb), rgb)


@pytest.mark.parametrize("make", ALL_RANDOM)
def test_same_seed_same_result_and_shapes_kept(make, batch):
    a = make()(batch, generator=torch.Generator().manual_seed(7))
    b = make()(batch, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
    assert a.shape == batch.shape and a.dtype == batch.dtype
    assert 0.0 <= a.min() and a.max() <= 1.0
    single = make()(batch[0], generator=torch.Generator().manual_seed(3))
    assert single.shape == batch[0].shape and single.dtype == batch.dtype


def test_different_seeds_differ_and_batch_draws_per_image(batch):
    t = A.Compose([A.RandomRotation(40), A.GaussianNoise(0.05)], seed=1)
    u = A.Compose([A.RandomRotation(40), A.GaussianNoise(0.05)], seed=2)
    assert not torch.equal(t(batch), u(batch))
    same = batch[:1].expand(4, 3, 10, 10)
    out = A.RandomHorizontalFlip(0.5, seed=0)(torch.stack([same[0]] * 32))
    flipped = [torch.equal(o, AF.hflip(same[0])) for o in out]
    assert 0 < sum(flipped) < 32  # each image draws its own coin


def test_compose_seed_reproducible(rgb):
    def pipeline():
        steps = [A.RandomCrop(12, padding=3), A.ColorJitter(0.5, 0.5), A.RandomErasing(1.0)]
        return A.Compose(steps, seed=11)

    assert torch.equal(pipeline()(rgb), pipeline()(rgb))


def test_flip_probability_roughly_p():
    t = A.RandomHorizontalFlip(p=0.3, seed=0)
    x = torch.tensor([[[0.0, 1.0]]])
    flips = sum(bool(t(x)[0, 0, 0] == 1.0) for _ in range(2000))
    assert 0.25 < flips / 2000 < 0.35


def test_random_crop_is_a_shift():
    x = torch.arange(36.0).reshape(1, 6, 6)
    out = A.RandomCrop(6, padding=2, seed=0)(x)
    nz = out[out != 0]
    assert set(nz.tolist()) <= set(x.flatten().tolist())
    assert out.shape == x.shape


def test_resized_crop_fallback_and_params():
    t = A.RandomResizedCrop(8, scale=(0.5, 0.5), ratio=(1.0, 1.0), seed=0)
    top, left, h, w = t.get_params(20, 20, t.generator)
    assert (h, w) == (14, 14) and 0 <= top <= 6 and 0 <= left <= 6


def test_erasing_sets_a_rectangle():
    x = torch.ones(1, 20, 20)
    out = A.RandomErasing(p=1.0, scale=(0.1, 0.1), ratio=(1.0, 1.0), value=0.0, seed=0)(x)
    assert (out == 0).sum() == 36  # sqrt(40) rounds to 6: a 6x6 square


def test_augmented_dataset_keeps_labels():
    ds = TensorDataset(torch.rand(4, 1, 8, 8), torch.tensor([3, 1, 4, 1]))
    aug = A.Augmented(ds, A.Compose([A.RandomRotation(20), A.GaussianNoise(0.1)], seed=0))
    assert len(aug) == 4
    assert [int(aug[i][1]) for i in range(4)] == [3, 1, 4, 1]
    assert not torch.equal(aug[0][0], ds[0][0])


# ---- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: A.RandomHorizontalFlip(p=1.5), "`p`"),
        (lambda: A.RandomRotation(-5.0), "`degrees`"),
        (lambda: A.RandomCrop(0), "`size`"),
        (lambda: A.RandomCrop(8, padding=-1), "`padding`"),
        (lambda: A.RandomResizedCrop(8, scale=(0.5, 2.0)), "`scale`"),
        (lambda: A.RandomResizedCrop(8, ratio=(2.0, 1.0)), "`ratio`"),
        (lambda: A.ColorJitter(brightness=-1), "`brightness`"),
        (lambda: A.ColorJitter(hue=0.7), "`hue`"),
        (lambda: A.GaussianNoise(std=-0.1), "`std`"),
        (lambda: A.RandomErasing(value="blue"), "`value`"),
        (lambda: A.RandomSharpness(-1.0), "`sharpness_factor`"),
        (lambda: A.Normalize([0.5], [0.0]), "`std`"),
        (lambda: AF.adjust_hue(torch.rand(3, 4, 4), 0.9), "`hue_factor`"),
        (lambda: AF.crop(torch.rand(1, 4, 4), 2, 2, 4, 4), "crop window"),
        (lambda: AF.rotate(torch.rand(4, 4), 10), "`img`"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_type_errors():
    with pytest.raises(TypeError, match="`img`"):
        A.ColorJitter(0.5)((torch.rand(3, 4, 4) * 255).to(torch.uint8))
    with pytest.raises(TypeError, match="`img`"):
        AF.hflip([[1, 2]])
    with pytest.raises(TypeError, match="`generator`"):
        A.RandomRotation(10, generator=0)


# --- moved from the teaching-helpers tests ----------------------------------------


@pytest.mark.parametrize("dx, dy", [(0, 0), (1, 0), (0, 2), (-3, 1), (2, -2), (-1, -4), (9, 0)])
def test_shift_matches_torchvision_affine(dx, dy):
    img = torch.rand(2, 3, 7, 9)
    expected = TF.affine(img, angle=0.0, translate=[dx, dy], scale=1.0, shear=[0.0, 0.0], fill=0.5)
    assert torch.equal(shift(img, dx, dy, fill=0.5), expected)


def test_shift_bad_input():
    with pytest.raises(TypeError, match="dx"):
        shift(torch.zeros(1, 4, 4), 1.5, 0)
    with pytest.raises(TypeError, match="img"):
        shift(np.zeros((1, 4, 4)), 1, 0)


# ---- the batched fast path (cvlib.augment.batched) --------------------------------------------


def _params(n, angle=0.0, zoom=1.0, dx=0.0, dy=0.0, flip=False):
    full = lambda v: torch.full((n,), float(v))  # noqa: E731
    return dict(
        angle=full(angle),
        zoom=full(zoom),
        dx=full(dx),
        dy=full(dy),
        flip=torch.full((n,), flip, dtype=torch.bool),
    )


def test_batched_affine_matches_the_one_image_operations(batch):
    assert torch.allclose(A.affine(batch, **_params(5, flip=True)), AF.hflip(batch), atol=1e-5)
    assert torch.allclose(
        A.affine(batch, **_params(5, dx=2, dy=-1)), shift(batch, 2, -1), atol=1e-5
    )
    turned = A.affine(batch, **_params(5, angle=13))
    assert torch.allclose(turned, AF.rotate(batch, 13, "bilinear"), atol=1e-5)
    assert torch.allclose(A.affine(batch, **_params(5)), batch, atol=1e-5)  # the identity


def test_batched_affine_gives_each_image_its_own_parameters(batch):
    p = _params(5)
    p["flip"][1], p["dx"][3] = True, 1.0
    out = A.affine(batch, **p)
    assert torch.allclose(out[1], AF.hflip(batch[1]), atol=1e-5)
    assert torch.allclose(out[3], shift(batch[3], 1, 0), atol=1e-5)
    assert torch.allclose(out[[0, 2, 4]], batch[[0, 2, 4]], atol=1e-5)


def test_batch_affine_draws_repeat_with_a_seed_and_stay_in_range(batch):
    t = A.BatchAffine(hflip=0.5, degrees=10, zoom=(1.0, 1.2), shift=2)
    one = t.draw(1000, generator=torch.Generator().manual_seed(0))
    two = t.draw(1000, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(one[k], two[k]) for k in one)
    assert one["angle"].abs().max() <= 10 and 1.0 <= one["zoom"].min() <= one["zoom"].max() <= 1.2
    assert set(one["dx"].tolist()) == {-2.0, -1.0, 0.0, 1.0, 2.0}
    assert 0.4 < one["flip"].float().mean() < 0.6
    out = A.BatchAffine(hflip=0.5, shift=2, seed=3)(batch)
    assert out.shape == batch.shape and torch.equal(
        out, A.BatchAffine(hflip=0.5, shift=2, seed=3)(batch)
    )


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"hflip": 1.5}, "hflip"),
        ({"degrees": -1}, "degrees"),
        ({"zoom": (1.2, 1.0)}, "zoom"),
        ({"shift": 1.5}, "shift"),
    ],
)
def test_batch_affine_names_a_bad_argument(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        A.BatchAffine(**kwargs)


def test_batched_affine_refuses_a_single_image_and_wrong_shapes(rgb, batch):
    with pytest.raises(ValueError, match="`images`"):
        A.affine(rgb, **_params(3))
    with pytest.raises(ValueError, match="`angle`"):
        A.affine(batch, **{**_params(5), "angle": torch.zeros(4)})


def test_augmenting_collate_transforms_images_and_keeps_labels():
    from torch.utils.data import DataLoader

    data = TensorDataset(torch.rand(6, 1, 8, 8), torch.arange(6))
    collate = A.augmenting_collate(A.BatchAffine(hflip=1.0), generator=torch.Generator())
    images, labels = next(iter(DataLoader(data, batch_size=6, collate_fn=collate)))
    assert torch.equal(labels, torch.arange(6))
    assert torch.allclose(images, AF.hflip(data.tensors[0]), atol=1e-5)
    with pytest.raises(TypeError, match="`transform`"):
        A.augmenting_collate("flip")
