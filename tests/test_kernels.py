"""cvlib.kernels: the named filters, checked by what they do to images."""

import numpy as np
import pytest
from scipy import ndimage

from cvlib.conv import conv2d
from cvlib.kernels import KERNELS, kernel

NAMES = ["identity", "box_blur", "gaussian_blur", "sharpen", "horizontal_edge",
         "vertical_edge", "sobel_x", "sobel_y", "laplacian",
         "x_diagonal_down", "x_cross", "x_diagonal_up"]  # fmt: skip
image = np.random.default_rng(0).random((9, 11))


def test_all_filters_are_there_3x3_and_read_only():
    assert sorted(KERNELS) == sorted(NAMES)
    for name in NAMES:
        assert KERNELS[name].shape == (3, 3) and not KERNELS[name].flags.writeable
        k = kernel(name)
        k[0, 0] = 99.0  # a copy: the table is unchanged
        assert KERNELS[name][0, 0] != 99.0


def test_identity_and_blurs():
    assert np.allclose(conv2d(image, kernel("identity"), padding=1), image)
    for name in ("box_blur", "gaussian_blur"):
        assert kernel(name).sum() == pytest.approx(1.0)
        flat = conv2d(np.full((5, 5), 7.0), kernel(name))  # blurring a flat image changes nothing
        assert np.allclose(flat, 7.0)
    expected = ndimage.uniform_filter(image, 3)[1:-1, 1:-1]
    assert np.allclose(conv2d(image, kernel("box_blur")), expected)


def test_sobel_and_laplacian_agree_with_scipy():
    inner = (slice(1, -1), slice(1, -1))
    assert np.allclose(conv2d(image, kernel("sobel_x")), ndimage.sobel(image, axis=1)[inner])
    assert np.allclose(conv2d(image, kernel("sobel_y")), ndimage.sobel(image, axis=0)[inner])
    assert np.allclose(conv2d(image, kernel("laplacian")), ndimage.laplace(image)[inner])


def test_edge_filters_sum_to_zero_and_sharpen_to_one():
    for name in ("horizontal_edge", "vertical_edge", "sobel_x", "sobel_y", "laplacian"):
        assert kernel(name).sum() == 0
    assert kernel("sharpen").sum() == 1


def test_x_filters_fire_on_the_strokes_of_an_x():
    x_image = -np.ones((5, 5))
    x_image[np.arange(5), np.arange(5)] = 1
    x_image[np.arange(5), 4 - np.arange(5)] = 1  # an X: both diagonals
    down, cross, up = (conv2d(x_image, kernel(n)) for n in ("x_diagonal_down", "x_cross",
                                                            "x_diagonal_up"))  # fmt: skip
    assert down[0, 0] == 9 and up[0, 2] == 9 and cross[1, 1] == 9  # a perfect match is 9


def test_unknown_name():
    with pytest.raises(ValueError, match="`name` must be one of identity"):
        kernel("emboss")
