"""Tests of cvlib.data.fashion_mnist: real-format IDX files written here, the Debian folder, the
subsets, the messages."""

import gzip
import socket
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from torchvision.datasets.mnist import read_image_file, read_label_file

from cvlib.data import fashion_mnist
from cvlib.data.fashion_mnist import (
    CLASSES,
    DEBIAN_FOLDER,
    DEBIAN_PACKAGE,
    find_files,
    read_idx,
)

NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails, as it would offline."""

    def refuse(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def write_idx(path, array, packed):
    """An IDX file: two zero bytes, type 0x08 (unsigned bytes), ndim, big-endian int32 sizes."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">i4").tobytes()
    data = header + array.astype(np.uint8).tobytes()
    if packed:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def write_fashion(folder, packed, n_train=30, n_test=20, seed=0):
    """Random images and labels (every class present) in the four files; returns the arrays."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = np.arange(n, dtype=np.uint8) % 10
        rng.shuffle(labels)
        for name, array in zip(NAMES[split], (images, labels), strict=True):
            write_idx(folder / (f"{name}.gz" if packed else name), array, packed)
        arrays[split] = images, labels
    return arrays


@pytest.mark.parametrize("packed", [True, False])
def test_the_written_files_are_real_idx_files_that_torchvision_reads(tmp_path, packed):
    arrays = write_fashion(tmp_path, packed)
    images, labels = arrays["train"]
    if packed:  # torchvision reads the decompressed files, as its download leaves them
        for name in NAMES["train"]:
            with gzip.open(tmp_path / f"{name}.gz") as src:
                (tmp_path / name).write_bytes(src.read())
    np.testing.assert_array_equal(read_image_file(str(tmp_path / NAMES["train"][0])), images)
    np.testing.assert_array_equal(read_label_file(str(tmp_path / NAMES["train"][1])), labels)
    np.testing.assert_array_equal(read_idx(tmp_path / NAMES["train"][0]), images)


@pytest.mark.parametrize("packed", [True, False])
def test_loads_idx_files_written_here(tmp_path, packed, no_network):
    arrays = write_fashion(tmp_path / "FashionMNIST" / "raw", packed)  # torchvision's layout
    for split in ("train", "test"):
        data = fashion_mnist(split, root=tmp_path)
        images, labels = arrays[split]
        assert data.images.shape == (len(labels), 1, 28, 28) and data.images.dtype == torch.float32
        np.testing.assert_allclose(data.images[:, 0].numpy(), images / 255, atol=1e-6)
        np.testing.assert_array_equal(data.labels.numpy(), labels)
        assert data.labels.dtype == torch.int64 and data.classes == CLASSES


def test_a_plain_folder_is_found_and_the_environment_variable_chooses_it(
    tmp_path, monkeypatch, no_network
):
    write_fashion(tmp_path, packed=True)
    monkeypatch.setenv("CVLIB_DATA", str(tmp_path))
    assert find_files() == tmp_path
    assert len(fashion_mnist("test")) == 20


def test_found_where_the_debian_package_puts_the_files(monkeypatch, no_network):
    """On this machine (and in CI, whose .ci/run installs the package): the real files."""
    monkeypatch.setenv("CVLIB_DATA", "/nonexistent/cvlib-data")
    assert find_files() == DEBIAN_FOLDER, f"apt-get install {DEBIAN_PACKAGE}"
    train, test = fashion_mnist("train"), fashion_mnist("test")
    assert (len(train), len(test)) == (60_000, 10_000)
    assert torch.bincount(test.labels).tolist() == [1_000] * 10
    assert 0.25 < train.images.mean().item() < 0.32  # 0.286, the mean quoted with the set


def test_the_subsets_are_fixed_stratified_and_inside_their_files(no_network):
    test, heldout, quick = (fashion_mnist(s) for s in ("test", "heldout", "quick"))
    assert torch.bincount(heldout.labels).tolist() == [100] * 10
    assert torch.bincount(quick.labels).tolist() == [100] * 10
    assert torch.equal(fashion_mnist("heldout").images, heldout.images)  # the same every call
    # every held-out image is one of the test images (compare by exact pixels)
    flat = test.images.flatten(1)
    keys = {row.numpy().tobytes() for row in flat}
    assert all(row.numpy().tobytes() in keys for row in heldout.images.flatten(1))


def test_class_names_in_label_order():
    assert len(CLASSES) == 10 and CLASSES[0] == "T-shirt/top" and CLASSES[9] == "Ankle boot"
    assert (CLASSES[4], CLASSES[6]) == ("Coat", "Shirt")


def _refuse_download(*args, **kwargs):
    raise urllib.error.URLError("no internet in this test")


@pytest.mark.parametrize("download", [False, True])
def test_offline_message_names_the_package_and_the_folders(
    tmp_path, monkeypatch, no_network, download
):
    monkeypatch.setattr(torchvision.datasets.utils, "download_url", _refuse_download)
    with pytest.raises(RuntimeError) as info:
        fashion_mnist(root=tmp_path, download=download)
    message = str(info.value)
    assert DEBIAN_PACKAGE in message and str(DEBIAN_FOLDER) in message
    assert str(tmp_path / "FashionMNIST" / "raw") in message
    assert "download=True" in message and "train-images-idx3-ubyte.gz" in message
    assert ("the download failed" in message) == download


def test_download_goes_through_torchvision_into_the_root(tmp_path, monkeypatch):
    calls = []

    def fake_download(self):  # what torchvision's download leaves: the files in raw/
        calls.append(Path(self.raw_folder))
        write_fashion(Path(self.raw_folder), packed=False)

    monkeypatch.setattr(torchvision.datasets.FashionMNIST, "download", fake_download)
    data = fashion_mnist("test", root=tmp_path, download=True)
    assert calls == [tmp_path / "FashionMNIST" / "raw"] and len(data) == 20


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"split": "valid"}, ValueError, "`split`"),
        ({"split": None}, ValueError, "`split`"),
        ({"download": "yes"}, TypeError, "`download`"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, name):
    with pytest.raises(error, match=name):
        fashion_mnist(**kwargs)


def test_a_file_that_is_not_idx_is_refused(tmp_path):
    (tmp_path / "bad").write_bytes(b"not an idx file at all")
    with pytest.raises(ValueError, match=r"`path`.*not an IDX file"):
        read_idx(tmp_path / "bad")
    write_idx(tmp_path / "short", np.zeros((3, 4), np.uint8), packed=False)
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-2])
    with pytest.raises(ValueError, match="header says"):
        read_idx(tmp_path / "short")
