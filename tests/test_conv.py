"""cvlib.conv against torch.nn.functional.conv2d (float64, autograd for the gradients)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cvlib.conv import (
    conv2d,
    conv2d_backward,
    conv2d_naive,
    conv_output_size,
    im2col,
    pad2d,
)
from cvlib.gradcheck import numerical_gradient, rel_error

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
TOL = 1e-10


def random_config(rng):
    """Random shapes, stride 1-3, padding 0-2 / pair / "same" / "valid", dilation 1-2."""
    form = int(rng.integers(2, 5))  # x.ndim
    kernel = tuple(int(k) for k in rng.integers(1, 5, size=2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, size=2))
    stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
    as_int = rng.random() < 0.5  # pass stride and dilation as ints rather than pairs
    if as_int:
        dilation, stride = dilation[:1] * 2, stride[:1] * 2
    choice = rng.integers(0, 4)
    if choice == 0:
        padding = int(rng.integers(0, 3))
    elif choice == 1:
        padding = tuple(int(p) for p in rng.integers(0, 3, size=2))
    elif choice == 2:
        padding, stride = "same", (1, 1)
    else:
        padding = "valid"
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    h, w = (s + int(rng.integers(0, 7)) for s in span)
    c, c_out, n = (int(v) for v in rng.integers(1, 4, size=3))
    if form == 2:
        x, weight, bias = rng.standard_normal((h, w)), rng.standard_normal(kernel), None
    else:
        x = rng.standard_normal((n, c, h, w) if form == 4 else (c, h, w))
        weight = rng.standard_normal((c_out, c, *kernel))
        bias = rng.standard_normal(c_out) if rng.random() < 0.7 else None
    if as_int:
        stride, dilation = stride[0], dilation[0]
    return x, weight, bias, dict(stride=stride, padding=padding, dilation=dilation)


def torch_conv(x, weight, bias, dout=None, **kw):
    """Forward (and gradients for ``dout``) with torch, in the caller's input form."""
    lead = 4 - x.ndim
    xt = torch.tensor(x.reshape((1,) * lead + x.shape), requires_grad=True)
    wt = torch.tensor(weight.reshape((1,) * (4 - weight.ndim) + weight.shape), requires_grad=True)
    bias = np.zeros(wt.shape[0]) if bias is None else bias  # so that torch computes dbias too
    bt = torch.tensor(bias, requires_grad=True)
    out = torch.nn.functional.conv2d(xt, wt, bt, **kw)
    if dout is None:
        return out.detach().numpy().reshape(out.shape[lead:])
    out.backward(torch.tensor(dout.reshape(out.shape)))
    return xt.grad.numpy().reshape(x.shape), wt.grad.numpy().reshape(weight.shape), bt.grad.numpy()


CONFIGS = [random_config(np.random.default_rng(seed)) for seed in range(300)]


@pytest.mark.parametrize("config", CONFIGS, ids=[f"cfg{i}" for i in range(len(CONFIGS))])
def test_forward_and_backward_match_torch(config):
    x, weight, bias, kw = config
    out = conv2d(x, weight, bias, **kw)
    expected = torch_conv(x, weight, bias, **kw)
    assert out.shape == expected.shape
    assert rel_error(out, expected) < TOL

    dout = np.random.default_rng(1).standard_normal(out.shape)
    dx, dweight, dbias = conv2d_backward(dout, x, weight, **kw)
    tdx, tdw, tdb = torch_conv(x, weight, bias, dout=dout, **kw)
    assert dx.shape == x.shape and dweight.shape == weight.shape
    assert rel_error(dx, tdx) < TOL
    assert rel_error(dweight, tdw) < TOL
    assert rel_error(dbias, tdb) < TOL


@pytest.mark.parametrize("config", CONFIGS[:40], ids=[f"cfg{i}" for i in range(40)])
def test_naive_equals_vectorised(config):
    x, weight, bias, kw = config
    assert rel_error(conv2d_naive(x, weight, bias, **kw), conv2d(x, weight, bias, **kw)) < 1e-12


@pytest.mark.parametrize("config", CONFIGS[:12], ids=[f"cfg{i}" for i in range(12)])
def test_backward_matches_numerical_gradient(config):
    x, weight, bias, kw = config
    dout = np.random.default_rng(2).standard_normal(conv2d(x, weight, bias, **kw).shape)
    dx, dweight, dbias = conv2d_backward(dout, x, weight, **kw)
    assert (
        rel_error(dx, numerical_gradient(lambda v: conv2d(v, weight, bias, **kw), x, dout)) < 1e-7
    )
    num_dw = numerical_gradient(lambda v: conv2d(x, v, bias, **kw), weight, dout)
    assert rel_error(dweight, num_dw) < 1e-7
    if bias is not None:
        num_db = numerical_gradient(lambda v: conv2d(x, weight, v, **kw), bias, dout)
        assert rel_error(dbias, num_db) < 1e-7


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3),
    c=st.integers(1, 3),
    size=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
    seed=st.integers(0, 2**16),
)
def test_hypothesis_batch_matches_torch(n, c, size, kernel, stride, padding, dilation, seed):
    spans = [dilation * (k - 1) + 1 for k in kernel]
    if any(s + 2 * padding < span for s, span in zip(size, spans, strict=True)):
        with pytest.raises(ValueError, match="`weight` kernel"):
            conv2d(np.zeros((n, c, *size)), np.zeros((2, c, *kernel)), padding=padding,
                   dilation=dilation)  # fmt: skip
        return
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((n, c, *size)), rng.standard_normal((2, c, *kernel)), None
    kw = dict(stride=stride, padding=padding, dilation=dilation)
    out = conv2d(x, w, b, **kw)
    assert rel_error(out, torch_conv(x, w, b, **kw)) < TOL
    assert out.shape[2:] == conv_output_size(size, kernel, stride, padding, dilation)


def test_same_padding_even_kernel_is_asymmetric_like_torch():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 2, 7, 6)), rng.standard_normal((3, 2, 4, 2))
    out = conv2d(x, w, padding="same", dilation=(1, 3))
    assert out.shape == (1, 3, 7, 6)
    assert rel_error(out, torch_conv(x, w, None, padding="same", dilation=(1, 3))) < TOL


@pytest.mark.parametrize("fn", [conv2d, conv2d_naive])
def test_float32_stays_float32_and_integers_become_float64(fn):
    x = np.ones((1, 2, 5, 5), dtype=np.float32)
    w = np.ones((3, 2, 3, 3), dtype=np.float32)
    assert fn(x, w, np.zeros(3, np.float32), padding=1).dtype == np.float32
    assert fn(x.astype(np.float64), w.astype(np.float64)).dtype == np.float64
    ints = fn(np.ones((4, 4), dtype=np.int64), np.ones((3, 3), dtype=np.int32))
    assert ints.dtype == np.float64 and np.all(ints == 9.0)


def test_backward_keeps_float32():
    x = np.ones((2, 2, 5, 5), dtype=np.float32)
    w = np.ones((3, 2, 3, 3), dtype=np.float32)
    grads = conv2d_backward(np.ones((2, 3, 5, 5), np.float32), x, w, padding=1)
    assert [g.dtype for g in grads] == [np.float32] * 3


def test_float32_matches_torch_to_float32_precision():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 11, 9), dtype=np.float32)
    w = rng.standard_normal((5, 4, 3, 3), dtype=np.float32)
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=2)
    assert rel_error(conv2d(x, w, stride=2), expected.numpy()) < 1e-5


@pytest.mark.parametrize(
    ("n", "f", "s", "p", "d", "expected"),
    [(6, 3, 1, 0, 1, 4), (7, 3, 1, 1, 1, 7), (7, 3, 2, 0, 1, 3), (32, 5, 1, 0, 1, 28),
     (227, 11, 4, 0, 1, 55), (8, 3, 2, 1, 1, 4), (9, 3, 1, 0, 2, 5)],
)  # fmt: skip
def test_conv_output_size_formula(n, f, s, p, d, expected):
    assert conv_output_size(n, f, s, p, d) == expected
    x = torch.zeros(1, 1, n, n)
    assert torch.nn.functional.conv2d(x, torch.zeros(1, 1, f, f), stride=s, padding=p,
                                      dilation=d).shape[-1] == expected  # fmt: skip


def test_pad2d_matches_numpy_and_torch():
    x = np.arange(24.0).reshape(2, 3, 4)
    assert np.array_equal(pad2d(x, 1), np.pad(x, ((0, 0), (1, 1), (1, 1))))
    assert np.array_equal(pad2d(x, (2, 0), value=-1), np.pad(x, ((0, 0), (2, 2), (0, 0)),
                                                             constant_values=-1))  # fmt: skip
    torch_padded = torch.nn.functional.pad(torch.tensor(x), (1, 2, 3, 0)).numpy()
    assert np.array_equal(pad2d(x, (1, 2, 3, 0)), torch_padded)


BAD_INPUTS = [
    (lambda: conv2d(np.ones((1, 3, 5, 5)), np.ones((2, 4, 3, 3))), ValueError,
     "`weight` has 4 input channels but `x` has 3"),
    (lambda: conv2d(np.ones((4, 4)), np.ones((5, 5))), ValueError, "`weight` kernel"),
    (lambda: conv2d(np.ones((4, 4)), np.ones((7, 7)), padding=1), ValueError, "padded input"),
    (lambda: conv2d(np.ones((5, 5)), np.ones((3, 3)), stride=0), ValueError,
     "`stride` must be >= 1"),
    (lambda: conv2d(np.ones((5, 5)), np.ones((3, 3)), dilation=(1, 0)), ValueError, "`dilation`"),
    (lambda: conv2d(np.ones((5, 5)), np.ones((3, 3)), padding=-1), ValueError,
     "`padding` must be >= 0"),
    (lambda: conv2d(np.ones((5, 5)), np.ones((3, 3)), padding="full"), ValueError,
     "`padding` must be an int, a pair, \"same\" or \"valid\""),
    (lambda: conv2d(np.ones((5, 5)), np.ones((3, 3)), padding="same", stride=2), ValueError,
     "`padding=\"same\"` needs stride 1"),
    (lambda: conv2d(np.ones((1, 2, 5, 5)), np.ones((3, 2, 3, 3)), bias=np.ones(2)), ValueError,
     "`bias` must have shape \\(3,\\)"),
    (lambda: conv2d(np.ones((1, 1, 1, 5, 5)), np.ones((1, 1, 3, 3))), ValueError,
     "`x` must be 2-D or 3-D or 4-D, got 5-D"),
    (lambda: conv2d(np.ones((2, 5, 5)), np.ones((3, 3))), ValueError, "`weight` must be 4-D"),
    (lambda: conv2d([[1.0, 2.0]], np.ones((1, 1))), TypeError, "`x` must be a numpy array"),
    (lambda: conv2d(np.ones((5, 5)), "edge"), TypeError, "`weight` must be a numpy array"),
    (lambda: conv2d(np.ones((5, 5)), np.ones((3, 3)), stride=1.5), TypeError,
     "`stride` must be an int or a pair"),
    (lambda: conv2d(np.ones((5, 5)), np.ones((3, 3)), stride=(1, 2, 3)), ValueError,
     "`stride` must be an int or a pair of ints, got 3 values"),
    (lambda: conv2d(np.ones((5, 5), complex), np.ones((3, 3))), TypeError, "`x` must hold real"),
    (lambda: conv2d_backward(np.ones((1, 2, 4, 4)), np.ones((1, 1, 5, 5)), np.ones((2, 1, 3, 3))),
     ValueError, "`dout` must have shape \\(1, 2, 3, 3\\)"),
    (lambda: conv2d_naive(np.ones((1, 3, 5, 5)), np.ones((2, 1, 3, 3))), ValueError,
     "`weight` has 1 input channels"),
    (lambda: conv_output_size(4, 7), ValueError, "`kernel_size`"),
    (lambda: pad2d(np.ones((3, 3)), -2), ValueError, "`padding` must be >= 0"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "error", "message"), BAD_INPUTS,
                         ids=[m[:30] for _, _, m in BAD_INPUTS])  # fmt: skip
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("stride", [1, 2])
def test_batch_split_into_uneven_chunks_matches_torch(monkeypatch, stride):
    import cvlib._fast_conv

    chunks = {"forward": 2400, "backward": 3600}  # 2 images per chunk
    monkeypatch.setattr(cvlib._fast_conv, "CHUNK_ELEMENTS", chunks)
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((5, 2, 8, 8)), rng.standard_normal((3, 2, 3, 3)), np.ones(3)
    kw = dict(stride=stride, padding=1)
    out = conv2d(x, w, b, **kw)
    assert rel_error(out, torch_conv(x, w, b, **kw)) < TOL
    dout = rng.standard_normal(out.shape)
    for mine, theirs in zip(conv2d_backward(dout, x, w, **kw),
                            torch_conv(x, w, b, dout=dout, **kw), strict=True):  # fmt: skip
        assert rel_error(mine, theirs) < TOL


@pytest.mark.parametrize("config", CONFIGS[:100], ids=[f"cfg{i}" for i in range(100)])
def test_the_fast_path_equals_the_readable_im2col_code(config):
    x, weight, bias, kw = config
    out = conv2d(x, weight, bias, **kw)
    assert rel_error(out, conv2d(x, weight, bias, **kw, fast=False)) < TOL
    dout = np.random.default_rng(2).standard_normal(out.shape)
    fast = conv2d_backward(dout, x, weight, **kw)
    readable = conv2d_backward(dout, x, weight, **kw, fast=False)
    for mine, theirs in zip(fast, readable, strict=True):
        assert mine.shape == theirs.shape
        assert rel_error(mine, theirs) < TOL


def test_the_fast_path_gives_the_same_bits_on_one_and_two_threads(monkeypatch):
    import cvlib._fast_conv

    chunks = {"forward": 5000, "backward": 20000}  # several chunks per thread
    monkeypatch.setattr(cvlib._fast_conv, "CHUNK_ELEMENTS", chunks)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((9, 4, 12, 12), dtype=np.float32)
    w = rng.standard_normal((6, 4, 3, 3), dtype=np.float32)
    dout = rng.standard_normal((9, 6, 12, 12), dtype=np.float32)
    results = []
    for threads in (1, 2):
        monkeypatch.setattr(cvlib._fast_conv, "blas_threads", lambda threads=threads: threads)
        results.append((conv2d(x, w, padding=1), *conv2d_backward(dout, x, w, padding=1)))
    for one, two in zip(*results, strict=True):
        assert np.array_equal(one, two)


# --- moved from the teaching-helpers tests ----------------------------------------


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
