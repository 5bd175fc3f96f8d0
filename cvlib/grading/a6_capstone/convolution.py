"""Checks of assignment 6, section 1: convolution as a matrix product (im2col, col2im, conv2d and
its backward pass), against :func:`cvlib.conv.im2col` (the layout of
``torch.nn.functional.unfold``), its transpose, :func:`cvlib.conv.conv2d` and numerical gradients.

Every case uses non-square images, and the hidden ones add kernels of 1 and of the whole padded
input, strides that leave the last rows uncovered, and padding 2.
"""

import numpy as np

from .._student import reference
from ..a1_convolution import stride_padding_alternatives
from ..a2_backprop.backward import conv_backward_cases, conv_backward_checks, crop_alternatives
from ..checks import Run
from .references import OWN, answers, col2im

# (N, C, H, W, k, stride, padding)
_WINDOWS = [(2, 3, 5, 6, 3, 1, 1), (1, 2, 7, 5, 2, 2, 0), (3, 1, 6, 6, 4, 1, 2)]
_HIDDEN_WINDOWS = [
    (1, 1, 4, 5, 1, 3, 0),  # 1x1 kernel, stride 3
    (2, 2, 5, 5, 3, 3, 1),  # stride 3
    (1, 2, 3, 3, 5, 1, 1),  # one window: the kernel as large as the padded input
    (2, 1, 7, 6, 2, 3, 0),  # stride 3 leaves rows 2, 5, 6 and columns 2, 5 uncovered
    (1, 3, 6, 8, 3, 2, 2),
]


def window_cases(rng, hidden):
    """``(x, kernel_size, stride, padding)`` for the im2col and col2im checks."""
    shapes = _WINDOWS + (_HIDDEN_WINDOWS if hidden else _HIDDEN_WINDOWS[3:4])
    return [(rng.normal(size=(n, c, h, w)), k, s, p) for n, c, h, w, k, s, p in shapes]


def _im2col_alternatives(expected, x, k):
    """Hints for im2col: the rows ordered kernel first, the columns column-major, transposed."""
    n, c = x.shape[:2]
    h_out_w_out = expected.shape[-1]
    kernel_first = expected.reshape(n, c, k * k, h_out_w_out).swapaxes(1, 2)
    hints = [
        (
            "The rows of cols are in the wrong order: channel first, then kernel row, then "
            "kernel column (cols[n].reshape(C, k, k, L) lists one window's values).",
            kernel_first.reshape(expected.shape),
        ),
        (
            "cols is transposed: one COLUMN per output pixel, shape (N, C*k*k, H_out*W_out).",
            expected.swapaxes(1, 2),
        ),
    ]
    return hints


def _unstrided(conv, x, k, s, p):
    """What an im2col that ignores the stride returns: the windows of stride 1 at the first
    ``H_out x W_out`` positions."""
    n, c, h, w = x.shape
    h1, w1 = h + 2 * p - k + 1, w + 2 * p - k + 1  # positions with stride 1
    h_out, w_out = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    every = conv.im2col(x, k, 1, p).reshape(n, c * k * k, h1, w1)
    return every[..., :h_out, :w_out].reshape(n, c * k * k, h_out * w_out)


def check_im2col(fn, seed=None, hidden=False):
    """Check ``fn(x, kernel_size, stride=1, padding=0) -> cols`` against :func:`cvlib.conv.im2col`
    (``(N, C*k*k, H_out*W_out)``, the layout of ``torch.nn.functional.unfold``)."""
    __tracebackhide__ = True
    run = Run("a6_capstone.check_im2col", fn, "im2col", seed, hidden, **OWN)
    conv = reference("cvlib.conv")
    for x, k, s, p in window_cases(run.rng, hidden):
        expected = conv.im2col(x, k, s, p)  # (N, C*k*k, L)
        hints = _im2col_alternatives(expected, x, k)
        if p:  # (computed when needed: without padding the kernel may not fit)
            missing = "The padding is missing: pad x with zeros first."
            hints.append((missing, lambda x=x, k=k, s=s: conv.im2col(x, k, s)))
        if s > 1:
            moved = "The windows move `stride` pixels at a time."
            hints.append((moved, lambda x=x, k=k, s=s, p=p: _unstrided(conv, x, k, s, p)))
        args = [("x", x), ("kernel_size", k)]
        kwargs = {"stride": s, "padding": p}
        run.expect_array(args, expected, kwargs, hints, "cols", rtol=1e-12, atol=1e-12)


def _assigned(cols, x_shape, k, s, p):
    """col2im with ``=`` instead of ``+=``: overlapping windows keep only their last value."""
    n, c, h, w = x_shape
    h_out, w_out = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    cols = np.reshape(cols, (n, c, k, k, h_out, w_out))
    out = np.zeros((n, c, h + 2 * p, w + 2 * p))
    for u in range(k):
        for v in range(k):
            out[:, :, u : u + s * h_out : s, v : v + s * w_out : s] = cols[:, :, u, v]
    return out[:, :, p : p + h, p : p + w]


def check_col2im(fn, seed=None, hidden=False):
    """Check ``fn(cols, x_shape, kernel_size, stride=1, padding=0) -> (N, C, H, W)``: the
    transpose of :func:`cvlib.conv.im2col`, ``sum(im2col(x) * c) == sum(x * col2im(c))``.

    Overlapping windows add up, values that fall on the padding are dropped, and pixels that no
    window covers receive 0.
    """
    __tracebackhide__ = True
    run = Run("a6_capstone.check_col2im", fn, "col2im", seed, hidden, **OWN)
    conv = reference("cvlib.conv")
    for x, k, s, p in window_cases(run.rng, hidden):
        cols = run.rng.normal(size=conv.im2col(x, k, s, p).shape)  # (N, C*k*k, L)
        expected = col2im(cols, x.shape, k, s, p)  # (N, C, H, W)
        hints = [*crop_alternatives(x.shape, p, "The result", "x_padded")]
        if s < k:
            hints.append(
                (
                    "Windows overlap here: a pixel copied into several columns receives the SUM "
                    "of their values. Add with += instead of assigning with =.",
                    _assigned(cols, x.shape, k, s, p),
                )
            )
        args = [("cols", cols), ("x_shape", x.shape), ("kernel_size", k)]
        run.expect_array(args, expected, {"stride": s, "padding": p}, hints, rtol=1e-10, atol=1e-12)


def _earlier_answers():
    """The references of ``im2col`` and ``col2im``, which the convolution's answers may call."""
    reference_answers = answers()
    return {n: reference_answers[n] for n in ("im2col", "col2im")}


def conv_cases(rng, hidden):
    """``(x, weight, bias or None, stride, padding)``: batches, several channels, non-square."""
    # (N, C_in, H, W, C_out, k, stride, padding, bias)
    shapes = [
        (2, 3, 5, 6, 4, 3, 1, 1, True),
        (1, 2, 7, 5, 3, 2, 2, 0, False),
        (3, 1, 6, 6, 2, 4, 1, 2, True),
    ]
    if hidden:
        shapes += [(2, 2, 5, 5, 3, 1, 3, 0, True), (1, 3, 8, 6, 2, 3, 3, 2, False)]
        shapes += [(2, 1, 7, 6, 1, 2, 3, 0, True), (1, 2, 3, 3, 2, 5, 1, 1, True)]
    for n, c, h, w, f, k, s, p, with_bias in shapes:
        x, weight = rng.normal(size=(n, c, h, w)), rng.normal(size=(f, c, k, k))
        yield x, weight, rng.normal(size=f) if with_bias else None, s, p


def check_conv2d(fn, seed=None, hidden=False):
    """Check ``fn(x, weight, bias=None, stride=1, padding=0)`` on NCHW batches against
    :func:`cvlib.conv.conv2d` (itself tested against ``torch.nn.functional.conv2d``).

    The student's ``im2col`` is replaced by the reference while ``fn`` runs: a wrong ``im2col``
    costs only its own points.
    """
    __tracebackhide__ = True
    isolate = _earlier_answers()
    run = Run("a6_capstone.check_conv2d", fn, "conv2d", seed, hidden, isolate=isolate, **OWN)
    conv = reference("cvlib.conv")
    for x, weight, bias, s, p in conv_cases(run.rng, hidden):
        expected = conv.conv2d(x, weight, bias, stride=s, padding=p)  # (N, C_out, H_out, W_out)
        hints = stride_padding_alternatives(conv, x, weight, bias, s, p)
        if bias is not None:
            hints.append(
                (
                    "The bias is missing: add bias[f] to every position of output channel f.",
                    conv.conv2d(x, weight, None, stride=s, padding=p),
                )
            )
        args = [("x", x), ("weight", weight), ("bias", bias)]
        run.expect_array(args, expected, {"stride": s, "padding": p}, hints)


# (N, C_in, H, W, C_out, k, stride, padding): the uncovered rows, padding 2, a 1x1 kernel
_BACKWARD_SHAPES = [(2, 2, 7, 6, 3, 2, 3, 0)]
_HIDDEN_BACKWARD_SHAPES = [(1, 3, 6, 5, 2, 3, 2, 2), (2, 2, 5, 4, 3, 1, 2, 0)]


def check_conv2d_backward(fn, seed=None, hidden=False):
    """Check ``fn(dout, x, weight, stride=1, padding=0) -> (dx, dweight, dbias)`` against
    numerical gradients of ``sum(conv2d(x, weight, bias) * dout)`` (independent of any backward
    formula), with non-symmetric kernels, so that a transposed or flipped ``dweight`` fails.

    ``im2col`` and ``col2im`` are the references while ``fn`` runs.
    """
    __tracebackhide__ = True
    isolate = _earlier_answers()
    run = Run(
        "a6_capstone.check_conv2d_backward",
        fn,
        "conv2d_backward",
        seed,
        hidden,
        isolate=isolate,
        **OWN,
    )
    shapes = _BACKWARD_SHAPES + (_HIDDEN_BACKWARD_SHAPES if hidden else [])
    conv_backward_checks(run, conv_backward_cases(run.rng, hidden, shapes))
