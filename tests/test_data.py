"""Tests of cvlib.data: offline data sets, and torchvision loaders on tiny real-format files."""

import gzip
import hashlib
import pickle
import socket
import urllib.error

import numpy as np
import pytest
import torch
import torchvision
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader

from cvlib.data import (
    cifar10,
    data_root,
    digits,
    mnist,
    sample_images,
    shapes,
    train_val_split,
    upsample,
    xo,
)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails, as it would offline."""

    def refuse(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# ---------------------------------------------------------------- digits
def test_digits_split_sizes_are_fixed_stratified_and_disjoint():
    train, test = digits(split="train"), digits(split="test")
    assert (len(train), len(test)) == (1437, 360)
    counts = np.bincount(test.labels.numpy(), minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # stratified: ~20% of each digit
    reference = load_digits()
    rows = {tuple(x) for x in (reference.images.reshape(-1, 64) / 16).round(6)}
    train_rows = [tuple(x) for x in train.images.reshape(-1, 64).numpy().round(6)]
    test_rows = [tuple(x) for x in test.images.reshape(-1, 64).numpy().round(6)]
    assert set(train_rows) | set(test_rows) <= rows
    assert torch.equal(digits(split="test").labels, test.labels)  # same split every call
    assert not torch.equal(digits(split="test", seed=1).labels, test.labels)


def test_digits_values_match_sklearn_scaled_to_unit_range():
    data = digits(split="all")
    reference = load_digits()
    assert data.images.shape == (1797, 1, 8, 8) and data.images.dtype == torch.float32
    np.testing.assert_allclose(data.images[:, 0].numpy(), reference.images / 16, rtol=1e-6)
    assert torch.equal(data.labels, torch.from_numpy(reference.target).long())
    assert data.images.min() == 0 and data.images.max() == 1


@pytest.mark.parametrize("size", [28, 32])
def test_digits_upsampled_stay_in_range_and_keep_labels(size):
    small, big = digits(split="test"), digits(size=size, split="test")
    assert big.images.shape == (360, 1, size, size)
    assert 0 <= big.images.min() and big.images.max() <= 1
    assert torch.equal(small.labels, big.labels)
    # the mean ink is nearly preserved by bilinear interpolation
    torch.testing.assert_close(
        big.images.mean((1, 2, 3)), small.images.mean((1, 2, 3)), atol=0.03, rtol=0
    )


def test_upsample_pad_keeps_the_original_pixels_in_the_middle():
    images = torch.rand(3, 1, 8, 8)
    padded = upsample(images, 32, mode="pad")
    assert torch.equal(padded[:, :, 12:20, 12:20], images)
    assert padded.sum() == pytest.approx(images.sum().item())
    constant = upsample(torch.full((1, 1, 8, 8), 0.5), 28)
    torch.testing.assert_close(constant, torch.full((1, 1, 28, 28), 0.5))


def test_digits_rejects_bad_arguments():
    with pytest.raises(ValueError, match="`size`"):
        digits(size=16)
    with pytest.raises(ValueError, match="`split`"):
        digits(split="valid")
    with pytest.raises(ValueError, match="`mode`"):
        digits(size=32, mode="nearest")


def test_train_val_split_is_stratified_disjoint_and_seeded():
    train = digits(size=8, split="train")
    fit_part, val = train_val_split(train, 360)
    assert (len(fit_part), len(val)) == (1077, 360)
    assert fit_part.classes == val.classes == train.classes
    # each class gives the same share of its images (a quarter), to within one image
    per_class = np.bincount(train.labels.numpy(), minlength=10)
    share = np.bincount(val.labels.numpy(), minlength=10) / per_class
    assert np.abs(share * per_class - per_class * 360 / len(train)).max() <= 1
    # the two parts are the training images, none twice: compare the images row by row
    rows = torch.cat([fit_part.images, val.images]).flatten(1)
    key = lambda t: sorted(map(tuple, t.numpy().round(6).tolist()))  # noqa: E731
    assert key(rows) == key(train.images.flatten(1))
    again, _ = train_val_split(train, 360)
    other, _ = train_val_split(train, 360, seed=1)
    assert torch.equal(again.images, fit_part.images)
    assert not torch.equal(other.images, fit_part.images)


def test_train_val_split_keeps_tensor_datasets_and_shares():
    from torch.utils.data import TensorDataset

    x, y = torch.arange(40.0).reshape(40, 1, 1, 1), torch.arange(40) % 4
    a, b = train_val_split(TensorDataset(x, y), 0.25)
    assert isinstance(a, TensorDataset) and (len(a), len(b)) == (30, 10)
    assert set(a.tensors[0].flatten().tolist()).isdisjoint(b.tensors[0].flatten().tolist())
    with pytest.raises(ValueError, match="`val_size`"):
        train_val_split(TensorDataset(x, y), 40)
    with pytest.raises(TypeError, match="`val_size`"):
        train_val_split(TensorDataset(x, y), "10")
    with pytest.raises(TypeError, match="`dataset`"):
        train_val_split([1, 2, 3], 1)


# ---------------------------------------------------------------- shapes
def test_shapes_is_deterministic_from_its_seed():
    a, b = shapes(12, size=32, max_objects=3, seed=5), shapes(12, size=32, max_objects=3, seed=5)
    assert torch.equal(a.images, b.images) and torch.equal(a.masks, b.masks)
    assert all(torch.equal(x, y) for x, y in zip(a.boxes, b.boxes, strict=True))
    assert not torch.equal(a.images, shapes(12, size=32, max_objects=3, seed=6).images)
    prefix = shapes(5, size=32, max_objects=3, seed=5)  # image i does not depend on n
    assert torch.equal(prefix.images, a.images[:5])


def test_shapes_single_object_box_is_the_tight_box_of_its_mask():
    data = shapes(40, size=48, seed=0)
    assert data.images.shape == (40, 3, 48, 48) and data.images.dtype == torch.float32
    assert 0 <= data.images.min() and data.images.max() <= 1
    for i in range(len(data)):
        rows, cols = torch.nonzero(data.masks[i], as_tuple=True)
        expected = torch.stack([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]).float()
        assert torch.equal(data.boxes[i], expected[None])
        assert set(data.masks[i].unique().tolist()) == {0, data.labels[i].item() + 1}


def test_shapes_several_objects_boxes_contain_their_mask_pixels():
    data = shapes(30, size=64, max_objects=4, seed=2)
    counts = [len(b) for b in data.boxes]
    assert max(counts) > 1 and min(counts) >= 1 and max(counts) <= 4
    for i in range(len(data)):
        covered = torch.zeros(64, 64, dtype=torch.bool)
        assert data.labels[i] == data.box_labels[i][0]
        for box, label in zip(data.boxes[i].long(), data.box_labels[i], strict=True):
            x1, y1, x2, y2 = box.tolist()
            inside = data.masks[i, y1:y2, x1:x2]
            assert set(inside.unique().tolist()) <= {0, label.item() + 1}
            assert (inside[0] > 0).any() and (inside[-1] > 0).any()  # tight: edges touch the shape
            assert (inside[:, 0] > 0).any() and (inside[:, -1] > 0).any()
            covered[y1:y2, x1:x2] = True
        assert not (data.masks[i][~covered] > 0).any()  # every object pixel lies in a box


def test_shapes_classes_are_balanced_and_named():
    data = shapes(300, size=32, seed=0)
    counts = np.bincount(data.labels.numpy(), minlength=3)
    assert counts.min() > 70  # about 100 each
    assert data.classes == ("circle", "square", "triangle")


def test_shapes_task_views_and_dataloader_batching():
    data = shapes(10, size=32, max_objects=3, seed=0)
    images, labels = next(iter(DataLoader(data, batch_size=4)))
    assert images.shape == (4, 3, 32, 32) and labels.shape == (4,) and labels.dtype == torch.int64
    segment = data.with_task("segment")
    assert segment.images is data.images and data.task == "classify"
    images, masks = next(iter(DataLoader(segment, batch_size=4)))
    assert masks.shape == (4, 32, 32) and masks.dtype == torch.int64
    detect = data.with_task("detect")
    batch = next(
        iter(DataLoader(detect, batch_size=3, collate_fn=lambda b: tuple(zip(*b, strict=True))))
    )
    images, targets = batch
    assert targets[1]["boxes"].shape == (len(data.boxes[1]), 4)
    assert torch.equal(targets[2]["labels"], data.box_labels[2])
    with pytest.raises(ValueError, match="`task`"):
        data.with_task("caption")


def test_shapes_rejects_bad_arguments():
    with pytest.raises(ValueError, match="`n`"):
        shapes(0)
    with pytest.raises(ValueError, match="`size`"):
        shapes(3, size=8)
    with pytest.raises(ValueError, match="`max_objects`"):
        shapes(3, max_objects=0)


# ---------------------------------------------------------------- xo
def test_xo_is_balanced_seeded_and_in_range():
    data = xo(101, size=20, seed=4)
    assert data.images.shape == (101, 1, 20, 20)
    assert np.bincount(data.labels.numpy()).tolist() == [50, 51]
    assert 0 <= data.images.min() and data.images.max() <= 1
    assert torch.equal(data.images, xo(101, size=20, seed=4).images)
    assert not torch.equal(data.images, xo(101, size=20, seed=5).images)
    assert data.classes[1] == "X"


def test_xo_rigid_glyphs_look_like_x_and_o():
    data = xo(20, size=29, seed=0, shift=0, scale=(1, 1), rotation=0, deform=0)
    centre = data.images[:, 0, 14, 14]
    corner = data.images[:, 0, 5, 5]  # on the X's diagonal, outside the O's ring
    is_x = data.labels == 1
    assert (centre[is_x] > 0.9).all() and (centre[~is_x] < 0.1).all()
    assert (corner[is_x] > 0.5).all() and (corner[~is_x] < 0.1).all()


def test_xo_transforms_vary_the_glyphs():
    data = xo(20, size=28, seed=0)
    x_images = data.images[data.labels == 1]
    assert (x_images[0] - x_images[1]).abs().max() > 0.5


# ---------------------------------------------------------------- photos
def test_sample_images_ship_with_skimage(no_network):
    photos = sample_images()
    assert {"camera", "astronaut", "coffee", "chelsea"} <= set(photos)
    for name, image in photos.items():
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3, name
    gray = sample_images(["camera"], as_rgb=False)["camera"]
    assert gray.shape == (512, 512)
    np.testing.assert_array_equal(photos["camera"][..., 1], gray)
    with pytest.raises(ValueError, match="`names`"):
        sample_images(["eagle"])


# ---------------------------------------------------------------- torchvision sets
def _write_idx(path, array):
    """An IDX file (big-endian magic, dims, uint8 data), gzipped like the official ones."""
    magic = 0x08 << 8 | array.ndim  # 0x0803 = 2051 for images: unsigned bytes, 3 dims
    header = np.array([magic, *array.shape], dtype=">i4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _write_mnist(raw, rng):
    raw.mkdir(parents=True)
    arrays = {}
    for prefix, n in (("train", 6), ("t10k", 4)):
        images = rng.integers(0, 256, size=(n, 28, 28))
        labels = rng.integers(0, 10, size=n)
        _write_idx(raw / f"{prefix}-images-idx3-ubyte.gz", images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte.gz", labels)
        arrays[prefix] = images, labels
    return arrays


def test_mnist_loads_tiny_idx_files(tmp_path, no_network):
    arrays = _write_mnist(tmp_path / "MNIST" / "raw", np.random.default_rng(0))
    for split, prefix in (("train", "train"), ("test", "t10k")):
        data = mnist(split, root=tmp_path)
        images, labels = arrays[prefix]
        assert len(data) == len(labels)
        batch_images, batch_labels = next(iter(DataLoader(data, batch_size=len(labels))))
        assert batch_images.shape == (len(labels), 1, 28, 28)
        np.testing.assert_allclose(batch_images[:, 0].numpy(), images / 255, atol=1e-6)
        np.testing.assert_array_equal(batch_labels.numpy(), labels)


def test_cvlib_data_environment_variable_chooses_the_root(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("CVLIB_DATA", str(tmp_path))
    assert data_root() == tmp_path
    _write_mnist(tmp_path / "MNIST" / "raw", np.random.default_rng(1))
    assert len(mnist("test")) == 4
    monkeypatch.delenv("CVLIB_DATA")
    assert str(data_root()).endswith(".cache/cvlib")


def test_cifar10_loads_tiny_python_batches(tmp_path, monkeypatch, no_network):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    names = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    files = {"batches.meta": {"label_names": names}}
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(2, 3 * 32 * 32), dtype=np.uint8)  # rows: R, G, B planes
        labels = rng.integers(0, 10, size=2).tolist()
        files[name] = {"data": data, "labels": labels}
        batches[name] = data, labels
    md5 = {}
    for name, content in files.items():
        (folder / name).write_bytes(pickle.dumps(content))
        md5[name] = hashlib.md5((folder / name).read_bytes()).hexdigest()
    # torchvision checks each file against the MD5 of the official release; tell it ours
    cls = torchvision.datasets.CIFAR10
    monkeypatch.setattr(cls, "train_list", [[n, md5[n]] for n, _ in cls.train_list])
    monkeypatch.setattr(cls, "test_list", [["test_batch", md5["test_batch"]]])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": md5["batches.meta"]})
    train, test = cifar10("train", root=tmp_path), cifar10("test", root=tmp_path)
    assert (len(train), len(test)) == (10, 2) and train.classes == names
    image, label = test[1]
    data, labels = batches["test_batch"]
    assert image.shape == (3, 32, 32) and label == labels[1]
    np.testing.assert_allclose(image.numpy(), data[1].reshape(3, 32, 32) / 255, atol=1e-6)


def _refuse_download(*args, **kwargs):
    raise urllib.error.URLError("no internet in this test")


@pytest.mark.parametrize("download", [False, True])
def test_offline_errors_say_where_to_put_the_files(tmp_path, monkeypatch, no_network, download):
    monkeypatch.setattr(torchvision.datasets.utils, "download_url", _refuse_download)
    with pytest.raises(RuntimeError, match=r"train-images-idx3-ubyte\.gz") as info:
        mnist(root=tmp_path, download=download)
    assert str(tmp_path / "MNIST" / "raw") in str(info.value)
    with pytest.raises(RuntimeError, match=r"cifar-10-python\.tar\.gz") as info:
        cifar10(root=tmp_path, download=download)
    assert str(tmp_path / "cifar-10-batches-py") in str(info.value)


def test_torchvision_sets_reject_a_bad_split(tmp_path):
    with pytest.raises(ValueError, match="`split`"):
        mnist("valid", root=tmp_path)
