"""The fast path of :mod:`cvlib.conv`: stride-1 convolution on a flat grid, in chunks, on threads.

:func:`cvlib.conv.conv2d` and :func:`cvlib.conv.conv2d_backward` call :func:`conv2d` and
:func:`conv2d_backward` here where it pays (:func:`pays`: stride 1); they compute the same
products as the im2col code of ``cvlib/conv.py`` and ``tests/test_conv.py`` holds them equal.
Three tricks, each a speed-up of the same arithmetic:

1. **A flattened padded grid.** Lay the padded input out channel-major as
   ``grid (C, N*H_pad*W_pad)``: every image's padded pixels, row after row, one long line per
   channel. Window position ``q`` (a pixel of that grid) meets kernel tap ``(i, j)`` at
   ``q + i*dH*W_pad + j*dW``, so for a given tap *all* windows of *all* images read one
   contiguous slice of every channel's line. im2col becomes ``kH*kW`` contiguous copies, col2im
   ``kH*kW`` contiguous adds, and the results come out on the same grid; positions that straddle
   a row or image edge are computed too and never read (about 13% of extra work for 32 x 32
   images with padding 1). With stride above 1 most positions would be wasted: no fast path.
2. **Chunks.** A few images at a time keep the im2col matrix in the CPU cache (``_CHUNK_ELEMENTS``).
3. **Threads.** numpy's BLAS splits every product over its threads, which for these many small
   products costs more than it gains (on 2 threads a layer ran *slower* than on one, and far
   slower on a busy machine). Instead the chunks go to as many Python threads as numpy's BLAS may
   use (numpy releases the GIL while it copies and multiplies), each product on one BLAS thread.
   A caller that limits numpy's BLAS threads (``threadpoolctl.threadpool_limits(1)``,
   ``OPENBLAS_NUM_THREADS=1``) limits this too. Each chunk's share of the weight gradient is
   summed in the chunks' order, so the result is the same on any number of threads.

threadpoolctl (a small pure-Python package, a dependency of cvlib) is the one import here beyond
numpy and the standard library: it is how a program reads and sets numpy's BLAS thread count.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["conv2d", "conv2d_backward", "pays", "run_chunks"]

_CHUNK_ELEMENTS = 2**19  # im2col chunk: 2 MB in float32, about one core's L2 cache


def pays(win):
    """Whether the fast path runs the layer of :class:`~cvlib._validate.Windows` ``win``."""
    return win.stride == (1, 1)


class FlatGrid:
    """The flattened padded grid of a stride-1 convolution and its chunks of images.

    Parameters
    ----------
    in_shape : tuple
        ``(N, C, H, W)`` of the unpadded input.
    win : cvlib._validate.Windows
        Kernel, dilation, pads ``(left, right, top, bottom)`` and output size (stride 1).
    """

    def __init__(self, in_shape, win):
        self.n, self.c, self.h, self.w = in_shape
        self.win = win
        left, right, top, bottom = win.pads
        self.hp, self.wp = top + self.h + bottom, left + self.w + right
        (kh, kw), (dh, dw) = win.kernel, win.dilation
        self.offsets = [i * dh * self.wp + j * dw for i in range(kh) for j in range(kw)]
        self.image = self.hp * self.wp  # grid length of one image
        per_image = self.c * kh * kw * self.image
        self.step = int(min(self.n, max(1, _CHUNK_ELEMENTS // per_image)))

    def chunks(self):
        """``[(n0, n1, start, length)]``: images ``n0:n1`` and their grid columns.

        ``length`` stops at the last window position of image ``n1 - 1``, so every tap's slice
        ``start + offset : start + offset + length`` stays inside the grid.
        """
        return [
            (n0, min(n0 + self.step, self.n), n0 * self.image,
             (min(n0 + self.step, self.n) - n0) * self.image - self.offsets[-1])
            for n0 in range(0, self.n, self.step)
        ]  # fmt: skip

    def to_grid(self, a4, at_pads):
        """``(C, N*H_pad*W_pad)`` channel-major copy of ``a4 (N, C, h, w)``, zeros around it;
        ``at_pads`` (False for ``dout``, which sits at the windows' top-left corners) places it
        inside the padding."""
        left, _, top, _ = self.win.pads if at_pads else (0, 0, 0, 0)
        h, w = a4.shape[2:]
        grid = np.zeros((a4.shape[1], self.n, self.hp, self.wp), dtype=a4.dtype)
        grid[:, :, top : top + h, left : left + w] = a4.transpose(1, 0, 2, 3)
        return grid.reshape(a4.shape[1], -1)

    def im2col(self, grid, start, length, buffer):
        """``(C*kH*kW, length)`` im2col matrix of the grid columns ``start:start+length``."""
        taps = len(self.offsets)
        cols = buffer[: self.c * taps * length].reshape(self.c, taps, length)
        for k, off in enumerate(self.offsets):
            cols[:, k] = grid[:, start + off : start + off + length]  # (C, length)
        return cols.reshape(self.c * taps, length)

    def images(self, y, n_images):
        """View the ``(F, length)`` grid result ``y`` as ``(n_images, F, H_out, W_out)``."""
        s = y.strides[1]
        return as_strided(
            y,
            shape=(n_images, y.shape[0], *self.win.out),
            strides=(self.image * s, y.strides[0], self.wp * s, s),
            writeable=False,
        )


def conv2d(x4, w4, bias, win):
    """``(N, C_out, H_out, W_out)`` stride-1 correlation of ``x4 (N, C, H, W)`` with ``w4``;
    ``bias (C_out,)`` or None is added while the result is copied out of the grid."""
    flat = FlatGrid(x4.shape, win)
    grid = flat.to_grid(x4, at_pads=True)  # (C, N*H_pad*W_pad)
    w_mat = w4.reshape(w4.shape[0], -1)  # (C_out, C*kH*kW)
    out = np.empty((flat.n, w4.shape[0], *win.out), dtype=x4.dtype)

    def work(chunks):  # each part writes its own images of `out`
        buffer = np.empty(w_mat.shape[1] * flat.step * flat.image, dtype=x4.dtype)
        for n0, n1, start, length in chunks:
            y = w_mat @ flat.im2col(grid, start, length, buffer)  # (C_out, length)
            if bias is None:
                out[n0:n1] = flat.images(y, n1 - n0)
            else:
                np.add(flat.images(y, n1 - n0), bias[:, None, None], out=out[n0:n1])

    run_chunks(work, flat.chunks())
    return out


def conv2d_backward(dout4, x4, w4, win):
    """``(dx, dweight)`` of a stride-1 correlation, ``dout4 (N, C_out, H_out, W_out)``.

    Per chunk of images: ``dweight_chunk = dout_grid @ cols.T`` (one product with the im2col
    matrix), and ``dcols = weight_mat.T @ dout_grid`` (a second product) added back tap by tap
    (col2im). The chunks' ``dweight`` are summed in the chunks' order.
    """
    flat = FlatGrid(x4.shape, win)
    grid = flat.to_grid(x4, at_pads=True)  # (C, N*H_pad*W_pad)
    dgrid = flat.to_grid(dout4, at_pads=False)  # (C_out, N*H_pad*W_pad), zero off the windows
    dx = np.empty(x4.shape, dtype=x4.dtype)

    def work(chunks):
        return _backward_chunks(flat, grid, dgrid, w4, dx, chunks)

    parts = run_chunks(work, flat.chunks())  # per part: [(n0, dweight_t of the chunk)]
    by_chunk = sorted((n0, k, d) for k, part in enumerate(parts) for n0, d in part)
    dweight_t = by_chunk[0][2]
    for _, _, more in by_chunk[1:]:
        dweight_t += more  # (C*kH*kW, C_out), in the chunks' order whatever the threads
    return dx, dweight_t.T.reshape(w4.shape)


def _backward_chunks(flat, grid, dgrid, w4, dx, chunks):
    """Write ``dx`` of the images of ``chunks``; return each chunk's transposed ``dweight``."""
    c_out, c = w4.shape[:2]
    taps = len(flat.offsets)
    w_mat_t = w4.reshape(c_out, -1).T  # (C*kH*kW, C_out)
    # preallocated buffers: fresh multi-megabyte arrays per chunk would cost page faults
    buffer = np.empty(c * taps * flat.step * flat.image, dtype=dx.dtype)
    dcols_buffer = np.empty_like(buffer)
    dx_grid = np.empty((c, flat.step * flat.image), dtype=dx.dtype)
    left, _, top, _ = flat.win.pads
    dweights = []
    for n0, n1, start, length in chunks:
        d = dgrid[:, start : start + length]  # (C_out, length)
        # the transposed product cols @ d.T is the faster orientation for BLAS
        dweights.append((n0, flat.im2col(grid, start, length, buffer) @ d.T))
        dcols = dcols_buffer[: c * taps * length].reshape(c * taps, length)
        np.matmul(w_mat_t, d, out=dcols)
        dcols = dcols.reshape(c, taps, length)  # (C, kH*kW, length)
        dxg = dx_grid[:, : (n1 - n0) * flat.image]
        dxg[:, length:] = 0
        dxg[:, :length] = dcols[:, 0]  # tap 0 has offset 0
        for k, off in enumerate(flat.offsets[1:], start=1):
            dxg[:, off : off + length] += dcols[:, k]
        dxg = dxg.reshape(c, n1 - n0, flat.hp, flat.wp)
        dx[n0:n1] = dxg[:, :, top : top + flat.h, left : left + flat.w].transpose(1, 0, 2, 3)
    return dweights


# --- threads: the chunks on as many threads as numpy's BLAS may use --------------------------

_lock = threading.Lock()
_state = {}  # "controller": threadpoolctl's, "pool": the shared ThreadPoolExecutor


def _controller():
    with _lock:
        if "controller" not in _state:
            from threadpoolctl import ThreadpoolController

            _state["controller"] = ThreadpoolController()
        return _state["controller"]


def blas_threads():
    """How many threads numpy's BLAS may use now (1 when it reports none)."""
    libraries = [lib for lib in _controller().lib_controllers if lib.user_api == "blas"]
    return max([lib.num_threads for lib in libraries], default=1)


def _pool():
    with _lock:
        if "pool" not in _state:
            _state["pool"] = ThreadPoolExecutor(
                max_workers=os.cpu_count() or 1, thread_name_prefix="cvlib-chunks"
            )
        return _state["pool"]


def run_chunks(work, chunks, workers=None):
    """``[work(part) for part in parts]``, the ``workers`` interleaved parts ``chunks[i::workers]``.

    ``workers`` defaults to :func:`blas_threads`; with one, ``work(chunks)`` runs right here.
    Otherwise the parts run on a shared thread pool with numpy's BLAS limited to one thread for
    the while, and the first exception a part raises is raised here. ``work`` must only write
    what no other part writes.

    Examples
    --------
    >>> run_chunks(sum, list(range(6)), workers=1), run_chunks(sum, list(range(6)), workers=2)
    ([15], [6, 9])
    """
    workers = min(workers or blas_threads(), len(chunks))
    if workers <= 1:
        return [work(chunks)]
    parts = [chunks[i::workers] for i in range(workers)]
    with _controller().limit(limits=1, user_api="blas"):
        futures = [_pool().submit(work, part) for part in parts]
        return [future.result() for future in futures]
