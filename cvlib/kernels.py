"""Classic hand-made 3x3 filters, by name, for :func:`cvlib.conv.conv2d`.

Before networks learned their filters, people designed them: averaging blurs, differences find
edges. ``KERNELS`` maps each name to its (read-only) array; :func:`kernel` returns a copy.

All act by cross-correlation (no flipping), as :func:`cvlib.conv.conv2d` does:

- ``vertical_edge`` ``[[1, 0, -1]] * 3`` responds to vertical edges (bright on the left);
- ``horizontal_edge`` ``[[-1, -1, -1], [2, 2, 2], [-1, -1, -1]]`` responds to horizontal lines;
- ``sobel_x`` / ``sobel_y`` are positive where brightness grows to the right / downwards;
- ``x_diagonal_down``, ``x_cross``, ``x_diagonal_up`` are the three pieces of an "X" (its two
  diagonal strokes and the crossing) from the "X or X?" case study.
"""

import numpy as np

__all__ = ["KERNELS", "kernel"]


def _frozen(rows, scale=1.0):
    array = np.array(rows, dtype=np.float64) * scale
    array.flags.writeable = False
    return array


KERNELS = {
    "identity": _frozen([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box_blur": _frozen([[1, 1, 1], [1, 1, 1], [1, 1, 1]], 1 / 9),
    "gaussian_blur": _frozen([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16),
    "sharpen": _frozen([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "horizontal_edge": _frozen([[-1, -1, -1], [2, 2, 2], [-1, -1, -1]]),
    "vertical_edge": _frozen([[1, 0, -1], [1, 0, -1], [1, 0, -1]]),
    "sobel_x": _frozen([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_y": _frozen([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "laplacian": _frozen([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "x_diagonal_down": _frozen([[1, -1, -1], [-1, 1, -1], [-1, -1, 1]]),
    "x_cross": _frozen([[1, -1, 1], [-1, 1, -1], [1, -1, 1]]),
    "x_diagonal_up": _frozen([[-1, -1, 1], [-1, 1, -1], [1, -1, -1]]),
}


def kernel(name):
    """Return a writable copy of the filter called ``name``.

    Parameters
    ----------
    name : str
        One of ``KERNELS``: identity, box_blur, gaussian_blur, sharpen, horizontal_edge,
        vertical_edge, sobel_x, sobel_y, laplacian, x_diagonal_down, x_cross, x_diagonal_up.

    Returns
    -------
    ndarray, shape (3, 3), float64

    Raises
    ------
    ValueError
        If ``name`` is not a known filter.

    Examples
    --------
    >>> kernel("box_blur").shape
    (3, 3)
    >>> kernel("sobel_x")
    array([[-1.,  0.,  1.],
           [-2.,  0.,  2.],
           [-1.,  0.,  1.]])
    """
    if name not in KERNELS:
        raise ValueError(f"`name` must be one of {', '.join(KERNELS)}; got {name!r}")
    return KERNELS[name].copy()
