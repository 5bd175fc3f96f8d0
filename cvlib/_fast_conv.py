"""The fast path of :mod:`cvlib.conv`: stride-1 convolution in cache-sized chunks, on threads.

:func:`cvlib.conv.conv2d` and :func:`cvlib.conv.conv2d_backward` call :func:`conv2d` and
:func:`conv2d_backward` here where it pays (:func:`pays`: stride 1); they compute the same
products as the im2col code of ``cvlib/conv.py``, and ``tests/test_conv.py`` holds them equal.
Three tricks, each a speed-up of the same arithmetic:

1. **Chunks.** A few images at a time keep the im2col matrix in the CPU cache
   (``CHUNK_ELEMENTS``). In the forward pass, im2col copies each tap's pixels from ``x``
   itself, not from a padded copy (the entries that fall in the padding stay zero in a buffer
   kept for the layer), and the product of a chunk is written straight into its images of the
   output, ``(m, C_out, H_out*W_out)``, with no copy afterwards.
2. **A flattened padded grid** (the backward pass). Lay a chunk's padded input out channel-major
   as ``grid (C, m*H_pad*W_pad)``: its images' padded pixels, row after row, one line per
   channel. Window position ``q`` (a pixel of that grid) meets kernel tap ``(i, j)`` at
   ``q + i*dH*W_pad + j*dW``, so for a given tap all windows read one contiguous slice of every
   channel's line: im2col becomes ``kH*kW`` contiguous copies and col2im ``kH*kW`` contiguous
   adds. Positions that straddle a row or image edge are computed too and never read (13% of
   extra work for 32 x 32 images with padding 1), which the contiguous adds more than repay.
3. **Threads.** numpy's BLAS splits every product over its threads, which for these many small
   products costs more than it gains (on 2 threads a layer ran *slower* than on one, and far
   slower on a busy machine). Instead the chunks go to as many Python threads as numpy's BLAS may
   use (numpy releases the GIL while it copies and multiplies), each product on one BLAS thread.
   The chunks' sizes differ by one image at most, and each thread takes a run of consecutive
   chunks holding an equal share of the images (64 images in chunks of at most 3: 22 chunks, 32
   images per thread; cut 3, 3, ..., 1 and dealt out in turn they made 33 and 31).
   A caller that limits numpy's BLAS threads (``threadpoolctl.threadpool_limits(1)``,
   ``OPENBLAS_NUM_THREADS=1``) limits this too. The chunks' shares of the weight and bias
   gradients are summed in the chunks' order, so the result is the same on any number of threads.

threadpoolctl (a small pure-Python package, a dependency of cvlib) is the one import here beyond
numpy and the standard library: it is how a program reads and sets numpy's BLAS thread count.
"""

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["conv2d", "conv2d_backward", "pays", "run_chunks"]

# Entries of a chunk's im2col matrix, measured best on the bench's layer: 512 kB of float32 for
# the forward product (one image of the bench's layer), 2 MB for the two backward ones (the
# weight gradient's sums over a chunk's pixels are longer then; 3 images). On the 2-core AMD EPYC
# the course is measured on, with 1 MB of L2 per core, the backward's chunk does not fit, yet
# 2**18 (1 image) and 2**20 (6 images) ran no faster on 1 thread or 2.
CHUNK_ELEMENTS = {"forward": 2**17, "backward": 2**19}


def pays(win):
    """Whether the fast path runs the layer of :class:`~cvlib._validate.Windows` ``win``."""
    return win.stride == (1, 1)


class FlatGrid:
    """The flattened padded grid of a stride-1 convolution, one chunk of images at a time.

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
        self.step = _images_per_chunk("backward", self.n, self.c * kh * kw * self.image)

    def chunks(self):
        """``[(n0, n1, length)]``: images ``n0:n1`` and the window positions of their grid.

        ``length`` stops at the last window position of image ``n1 - 1``, so every tap's slice
        ``offset : offset + length`` stays inside the chunk's grid.
        """
        last = self.offsets[-1]  # the offset of the last tap
        return [
            (n0, n1, (n1 - n0) * self.image - last) for n0, n1 in _even_chunks(self.n, self.step)
        ]

    def grid(self, name, channels, dtype):
        """A zeroed ``(channels, step*H_pad*W_pad)`` buffer for :meth:`fill`: only the pixels
        are ever written, so the padding around them stays zero from chunk to chunk."""
        shape = (channels, self.step * self.image)
        return _buffer(name, shape, dtype, zeros_for=(self.win, self.h, self.w))

    def fill(self, grid, a4, at_pads):
        """Copy ``a4 (n, C, h, w)`` into ``grid``, channel-major, image after image: inside the
        padding when ``at_pads``, else (``dout``) at the windows' top-left corners."""
        left, _, top, _ = self.win.pads if at_pads else (0, 0, 0, 0)
        n, _, h, w = a4.shape
        images = grid[:, : n * self.image].reshape(-1, n, self.hp, self.wp)
        images[:, :, top : top + h, left : left + w] = a4.transpose(1, 0, 2, 3)
        return grid

    def im2col(self, grid, length, out):
        """The ``(C*kH*kW, length)`` im2col matrix of a chunk's grid, written into ``out`` (of
        that shape, C-contiguous): one contiguous copy per tap."""
        cols = out.reshape(self.c, len(self.offsets), length)  # a view: `out` is contiguous
        for k, off in enumerate(self.offsets):
            cols[:, k] = grid[:, off : off + length]  # (C, length)
        return out


def conv2d(x4, w4, bias, win):
    """``(N, C_out, H_out, W_out)`` stride-1 correlation of ``x4 (N, C, H, W)`` with ``w4``,
    ``bias (C_out,)`` or None: the im2col product of :func:`cvlib.conv.conv2d`, a few images at a
    time, each chunk's product written straight into its images of the output.

    The bias is one more column of the weight matrix, and below each image's im2col matrix lies
    a row of ones: the product adds the bias, with no second pass over the output."""
    n, c = x4.shape[:2]
    c_out, taps = w4.shape[0], w4[0, 0].size
    w_mat = w4.reshape(c_out, -1)  # (C_out, C*kH*kW)
    if bias is not None:
        w_mat = np.concatenate([w_mat, bias.astype(x4.dtype)[:, None]], axis=1)  # (C_out, +1)
    out = np.empty((n, c_out, *win.out), dtype=x4.dtype)
    step = _images_per_chunk("forward", n, c * taps * win.out[0] * win.out[1])
    taps_in_x = _taps_inside(win, *x4.shape[2:])

    def work(chunks):  # each part writes its own images of `out`
        shape = (step, c * taps + 1, win.out[0] * win.out[1])
        cols = _buffer("forward cols", shape, x4.dtype, zeros_for=(win, x4.shape[2:]))
        cols[:, -1] = 1  # the row of ones
        patches = cols[:, :-1].reshape(step, c, *win.kernel, *win.out)  # a view
        for n0, n1 in chunks:
            m = n1 - n0
            for i, j, to_rows, to_cols, rows, columns in taps_in_x:
                patches[:m, :, i, j, to_rows, to_cols] = x4[n0:n1, :, rows, columns]
            y = out[n0:n1].reshape(m, c_out, -1)  # (m, C_out, H_out*W_out), a view
            np.matmul(w_mat, cols[:m, : w_mat.shape[1]], out=y)

    run_chunks(work, _even_chunks(n, step))
    return out


def _taps_inside(win, h, w):
    """Per kernel tap ``(i, j)``: the output pixels whose tap falls inside the unpadded ``(h, w)``
    input, and the input pixels it reads there, ``(i, j, to_rows, to_cols, rows, cols)``.

    im2col copies from ``x`` itself, no padded copy: the entries of taps that fall in the padding
    are never written, and stay zero in a buffer kept for this geometry. (Stride 1.)
    """
    left, _, top, _ = win.pads
    (dh, dw), (h_out, w_out) = win.dilation, win.out
    found = []
    for i, j, _, _ in win.slices():
        shift_h, shift_w = i * dh - top, j * dw - left  # input pixel = output pixel + shift
        r0, r1 = max(0, -shift_h), min(h_out, h - shift_h)
        c0, c1 = max(0, -shift_w), min(w_out, w - shift_w)
        if r0 < r1 and c0 < c1:
            rows, cols = slice(r0 + shift_h, r1 + shift_h), slice(c0 + shift_w, c1 + shift_w)
            found.append((i, j, slice(r0, r1), slice(c0, c1), rows, cols))
    return found


def _images_per_chunk(pass_, n, per_image):
    """How many of ``n`` images fill about ``CHUNK_ELEMENTS[pass_]`` entries (at least 1)."""
    return int(min(n, max(1, CHUNK_ELEMENTS[pass_] // per_image)))


def _even_chunks(n, step):
    """``[(n0, n1)]``: ``n`` images in as few chunks of at most ``step`` as can hold them, their
    sizes differing by one at most and spread evenly, so that consecutive chunks hold a share of
    the images proportional to their number.

    Examples
    --------
    >>> _even_chunks(7, 3)
    [(0, 2), (2, 4), (4, 7)]
    """
    count = -(-n // step)  # ceil(n / step)
    edges = [i * n // count for i in range(count + 1)]
    return list(itertools.pairwise(edges))


def conv2d_backward(dout4, x4, w4, win):
    """``(dx, dweight, dbias)`` of a stride-1 correlation, ``dout4 (N, C_out, H_out, W_out)``.

    Per chunk of images: ``dweight_chunk = dout_grid @ cols.T`` (one product with the im2col
    matrix, which also sums ``dbias`` through a row of ones), and
    ``dcols = weight_mat.T @ dout_grid`` (a second product) added back tap by tap (col2im). The
    chunks' ``dweight`` and ``dbias`` are summed in the chunks' order.
    """
    flat = FlatGrid(x4.shape, win)
    dx = np.empty(x4.shape, dtype=x4.dtype)

    def work(chunks):
        return _backward_chunks(flat, dout4, x4, w4, dx, chunks)

    parts = run_chunks(work, flat.chunks())  # per part: [(n0, dweight_t, dbias) per chunk]
    by_chunk = sorted((sums for part in parts for sums in part), key=lambda sums: sums[0])
    _, dweight_t, dbias = by_chunk[0]
    for _, more_dweight_t, more_dbias in by_chunk[1:]:  # the chunks' order whatever the threads
        dweight_t += more_dweight_t  # (C*kH*kW, C_out)
        dbias += more_dbias  # (C_out,)
    return dx, dweight_t.T.reshape(w4.shape), dbias


def _backward_chunks(flat, dout4, x4, w4, dx, chunks):
    """Write ``dx`` of the images of ``chunks``; return ``(n0, dweight.T, dbias)`` per chunk."""
    c_out, c = w4.shape[:2]
    taps = len(flat.offsets)
    w_mat_t = w4.reshape(c_out, -1).T  # (C*kH*kW, C_out)
    grid, dgrid = flat.grid("x grid", c, dx.dtype), flat.grid("dout grid", c_out, dx.dtype)
    size = c * taps * flat.step * flat.image
    buffer = _buffer("backward cols", (size + flat.step * flat.image,), dx.dtype)
    dcols_buffer = _buffer("dcols", (size,), dx.dtype)
    dx_grid = _buffer("dx grid", (c, flat.step * flat.image), dx.dtype)
    left, _, top, _ = flat.win.pads
    sums = []
    for n0, n1, length in chunks:
        flat.fill(grid, x4[n0:n1], at_pads=True)  # (C, step*H_pad*W_pad)
        d = flat.fill(dgrid, dout4[n0:n1], at_pads=False)[:, :length]  # (C_out, length)
        # One product gives the weight and the bias gradients: below the im2col matrix, a row
        # of ones, whose product with d.T sums dout over the chunk (d is zero off dout's pixels).
        # The transposed product cols @ d.T is the faster orientation for BLAS.
        cols = buffer[: (c * taps + 1) * length].reshape(c * taps + 1, length)
        flat.im2col(grid, length, cols[:-1])
        cols[-1] = 1
        both = cols @ d.T  # (C*kH*kW + 1, C_out)
        sums.append((n0, both[:-1], both[-1]))
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
    return sums


# --- buffers and threads: the chunks on as many threads as numpy's BLAS may use --------------

_local = threading.local()  # each thread's buffers


def _buffer(name, shape, dtype, zeros_for=None):
    """This thread's array called ``name``, of ``shape`` and ``dtype``, kept from call to call:
    fresh multi-megabyte arrays would cost page faults on every call.

    With ``zeros_for`` (the layer's geometry) the array starts as zeros and is handed out again
    only for the same geometry, whose chunks write the same pixels and leave the zeros around
    them. A buffer's contents are only good until the thread asks for it again.
    """
    buffers = _local.__dict__.setdefault("buffers", {})
    key = (tuple(shape), np.dtype(dtype), zeros_for)
    if name not in buffers or buffers[name][0] != key:
        fresh = np.empty(shape, dtype) if zeros_for is None else np.zeros(shape, dtype)
        buffers[name] = (key, fresh)
    return buffers[name][1]


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
    """``[work(part) for part in parts]``: ``chunks`` cut into ``workers`` runs of consecutive
    chunks whose lengths differ by one at most.

    ``workers`` defaults to :func:`blas_threads`; with one, ``work(chunks)`` runs right here.
    Otherwise the parts run on a shared thread pool with numpy's BLAS limited to one thread for
    the while, and the first exception a part raises is raised here. ``work`` must only write
    what no other part writes.

    Examples
    --------
    >>> run_chunks(sum, list(range(6)), workers=1), run_chunks(sum, list(range(6)), workers=2)
    ([15], [3, 12])
    """
    workers = min(workers or blas_threads(), len(chunks))
    if workers <= 1:
        return [work(chunks)]
    k = len(chunks)
    parts = [chunks[i * k // workers : (i + 1) * k // workers] for i in range(workers)]
    with _controller().limit(limits=1, user_api="blas"):
        futures = [_pool().submit(work, part) for part in parts]
        return [future.result() for future in futures]
