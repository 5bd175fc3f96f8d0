"""The lectures' worked numbers, reproduced with cvlib (seeds 001, 002 and 004)."""

import numpy as np
import pytest

from cvlib.conv import conv2d, conv2d_naive, conv_output_size
from cvlib.kernels import kernel
from cvlib.layers import relu
from cvlib.pool import max_pool2d

# Lecture 004's 7x7 image: a blob of ones on a zero background.
BLOB = np.array([[int(c) for c in row] for row in
                 ["0000000", "0011100", "0111110", "0111000", "0111110", "0011100", "0000000"]],
                dtype=np.float64)  # fmt: skip


@pytest.mark.parametrize("conv", [conv2d, conv2d_naive])
def test_lecture_001_vertical_edge(conv):
    image = np.array([[10, 10, 10, 0, 0, 0]] * 6)  # bright left half, dark right half
    out = conv(image, kernel("vertical_edge"))
    assert np.array_equal(out, [[0, 30, 30, 0]] * 4)


@pytest.mark.parametrize("conv", [conv2d, conv2d_naive])
def test_lecture_004_identity_filter(conv):
    valid = conv(BLOB, kernel("identity"))
    assert valid.shape == (5, 5) and np.array_equal(valid, BLOB[1:-1, 1:-1])
    padded = conv(BLOB, kernel("identity"), padding=1)
    assert np.array_equal(padded, BLOB)


@pytest.mark.parametrize("conv", [conv2d, conv2d_naive])
def test_lecture_004_box_blur(conv):
    expected = np.array([[3, 5, 6, 5, 3], [5, 8, 8, 6, 3], [6, 9, 8, 7, 4],
                         [5, 8, 8, 6, 3], [3, 5, 6, 5, 3]]) / 9  # fmt: skip
    np.testing.assert_allclose(conv(BLOB, kernel("box_blur")), expected, rtol=1e-14)


def test_lecture_004_horizontal_edge_relu_and_max_pool():
    edges = conv2d(BLOB, kernel("horizontal_edge"))
    expected = [[0, 1, 3, 1, 0], [1, 1, 1, 3, 3], [0, 0, -2, -4, -4],
                [1, 1, 1, 3, 3], [0, 1, 3, 1, 0]]  # fmt: skip
    assert np.array_equal(edges, expected)
    rectified = relu(edges)
    assert np.array_equal(rectified[2], [0, 0, 0, 0, 0])
    # 2x2 max pooling of the 5x5 map: floor mode drops the last row and column.
    assert np.array_equal(max_pool2d(rectified, 2), [[1, 3], [1, 3]])


@pytest.mark.parametrize(
    ("n", "f", "p", "s", "expected"),
    [(6, 3, 0, 1, 4),  # lecture 002: 6x6 input, 3x3 filter
     (7, 3, 0, 1, 5),  # lecture 004: the 7x7 blob, valid
     (7, 3, 1, 1, 7),  # padding p = (f - 1) / 2 keeps the size
     (7, 3, 0, 2, 3),  # stride 2
     (6, 4, 1, 2, 3),  # floor((6 + 2 - 4) / 2) + 1 = 3
     (5, 2, 0, 2, 2)],  # the 2x2 pooling above: floor((5 - 2) / 2) + 1 = 2
)  # fmt: skip
def test_lecture_002_output_size_formula(n, f, p, s, expected):
    assert (n + 2 * p - f) // s + 1 == expected
    assert conv_output_size(n, f, stride=s, padding=p) == expected
    assert conv2d(np.ones((n, n)), np.ones((f, f)), stride=s, padding=p).shape == (expected,) * 2
