"""Teaching helpers the chapters call: im2col, show_matrix(ces), augment shift."""

import numpy as np
import pytest
import torch
from torchvision.transforms.v2 import functional as TF

from cvlib.augment.functional import shift
from cvlib.conv import conv2d, im2col
from cvlib.gradcheck import rel_error
from cvlib.viz import show_matrices, show_matrix


@pytest.mark.parametrize("seed", range(40))
def test_im2col_product_equals_conv2d_and_torch_unfold(seed):
    rng = np.random.default_rng(seed)
    k = tuple(int(v) for v in rng.integers(1, 4, size=2))
    kw = dict(
        stride=int(rng.integers(1, 3)),
        padding=int(rng.integers(0, 3)),
        dilation=int(rng.integers(1, 3)),
    )
    x = rng.standard_normal((2, 3, 9, 8))
    w = rng.standard_normal((4, 3, *k))
    cols = im2col(x, k, **kw)  # (N, C*kH*kW, L)
    expected = torch.nn.functional.unfold(torch.from_numpy(x), k, **kw).numpy()
    assert cols.shape == expected.shape
    assert rel_error(cols, expected) < 1e-12
    out = conv2d(x, w, **kw)
    assert rel_error((w.reshape(4, -1) @ cols).reshape(out.shape), out) < 1e-10
    assert rel_error(im2col(x[0], k, **kw), cols[0]) == 0  # unbatched form


def test_im2col_of_a_2d_image_and_same_padding():
    x = np.arange(16.0).reshape(4, 4)
    cols = im2col(x, 3)
    assert cols.shape == (9, 4)
    assert cols[:, 0].tolist() == [0, 1, 2, 4, 5, 6, 8, 9, 10]  # first window, row by row
    assert im2col(np.ones((2, 5, 5)), 3, padding="same").shape == (18, 25)


@pytest.mark.parametrize(
    "bad, error, word",
    [
        (dict(x=np.ones((1, 1, 1, 4, 4))), ValueError, "x"),
        (dict(kernel_size=0), ValueError, "kernel_size"),
        (dict(kernel_size=9), ValueError, "kernel_size"),
        (dict(stride=0), ValueError, "stride"),
    ],
)
def test_im2col_bad_input(bad, error, word):
    args = dict(x=np.ones((2, 4, 4)), kernel_size=3) | bad
    with pytest.raises(error, match=word):
        im2col(**args)


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


def test_show_matrix_writes_every_value():
    a = np.array([[1, -2], [3, 4]])
    fig = show_matrix(a, title="a", fmt="d")
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["-2", "1", "3", "4"]
    assert fig.axes[0].get_title() == "a"
    fig = show_matrices([("x", np.eye(3)), ("y", a)], suptitle="two")
    assert len(fig.axes) == 2 and len(fig.axes[0].texts) == 9


def test_show_matrix_bad_input():
    with pytest.raises(ValueError, match="a"):
        show_matrix(np.zeros((2, 2, 2)))
