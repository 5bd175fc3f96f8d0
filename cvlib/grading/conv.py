"""Checks for assignment 1: padding, output size, convolution, filters, parameter counts.

Each ``check_*`` calls the student's function on fresh random inputs (a new seed per call unless
``seed`` is given), compares with :mod:`cvlib.conv` loaded fresh, and raises ``AssertionError``
with an actionable message on the first difference. ``hidden=True`` runs the extra cases of the
hidden tests (edge cases: non-square inputs, large strides, asymmetric padding).
"""

import numpy as np

from ._compare import as_float_array, as_int, compare_arrays
from ._student import call, fail, new_seed, reference, with_references

_FLIP = (
    "Your output equals a true convolution (kernel flipped in both directions). Deep "
    "learning 'convolution' is cross-correlation: out[i, j] = sum(window * weight) with the "
    "weight NOT flipped."
)
_TRANSPOSE = (
    "Your output matches the kernel transposed: the kernel's first index runs down the "
    "rows (i), the second along the columns (j)."
)


def _name(fn, default):
    name = getattr(fn, "__name__", default)
    return name if isinstance(name, str) and name.isidentifier() else default


def _isolated(fn, ref, names):
    """``fn`` seeing reference versions of the earlier answers ``names`` (see with_references)."""

    def zero_pad(x, padding):
        return ref.pad2d(x, padding)

    def output_size(n, kernel_size, stride=1, padding=0):
        return ref.conv_output_size(n, kernel_size, stride=stride, padding=padding)

    def conv2d_single(x, weight):
        return ref.conv2d(x, weight)

    def conv2d_strided(x, weight, stride=1, padding=0):
        return ref.conv2d(x, weight, stride=stride, padding=padding)

    def conv2d_multi(x, weight, bias=None, stride=1, padding=0):
        return ref.conv2d(x, weight, bias, stride=stride, padding=padding)

    helpers = {
        "zero_pad": zero_pad,
        "output_size": output_size,
        "conv2d_single": conv2d_single,
        "conv2d_strided": conv2d_strided,
        "conv2d_multi": conv2d_multi,
    }
    return with_references(fn, {n: helpers[n] for n in names})


def _random_weight(rng, *shape):
    # A non-symmetric kernel, so flipped or transposed kernels give different answers.
    return rng.normal(size=shape)


def check_output_size(fn, seed=None, hidden=False):
    """Check ``fn(n, kernel_size, stride=1, padding=0) -> int`` against the formula."""
    __tracebackhide__ = True
    check = "check_output_size"
    seed = new_seed(seed)
    rng = np.random.default_rng(seed)
    ref = reference("cvlib.conv")
    name = _name(fn, "output_size")
    cases = [(5, 3, 1, 0), (32, 5, 1, 2), (7, 3, 2, 0), (6, 3, 2, 0), (28, 2, 2, 0)]
    for _ in range(12 if hidden else 4):
        k = int(rng.integers(1, 8))
        p = int(rng.integers(0, 4))
        n = int(rng.integers(max(1, k - 2 * p), 40))
        cases.append((n, k, int(rng.integers(1, 5)), p))
    for n, k, s, p in cases:
        text = f"{name}(n={n}, kernel_size={k}, stride={s}, padding={p})"
        got = as_int(
            call(fn, name, [("", n), ("", k)], {"stride": s, "padding": p}, seed, check),
            text,
            seed=seed,
            check=check,
        )
        expected = ref.conv_output_size(n, k, stride=s, padding=p)
        if got != expected:
            hints = {
                (n + 2 * p - k) // s: "You forgot the + 1: a kernel that fits exactly once gives "
                "one output, not zero.",
                (n + p - k) // s + 1: "Padding adds `padding` pixels on BOTH sides: use 2*padding.",
                (n + 2 * p - k) // s
                + 1
                + (
                    1 if (n + 2 * p - k) % s else 0
                ): "Round down (floor): a window that does not fit completely is dropped.",
                n + 2 * p - k + 1: "Divide by the stride: the window moves `stride` pixels at "
                "a time.",
            }
            message = f"{text} returned {got}, expected {expected}."
            if got in hints and got != expected:
                message += f"\nHint: {hints[got]}"
            fail(message, seed, check)


def check_pad2d(fn, seed=None, hidden=False):
    """Check ``fn(x, padding)``: zero-pad the last two axes of (H, W) or (C, H, W) arrays."""
    __tracebackhide__ = True
    check = "check_pad2d"
    seed = new_seed(seed)
    rng = np.random.default_rng(seed)
    ref = reference("cvlib.conv")
    name = _name(fn, "zero_pad")
    cases = [((4, 5), 1), ((3, 4, 6), 2), ((5, 5), 0), ((2, 3, 4), (1, 2))]
    if hidden:
        cases += [((1, 1), 3), ((4, 2, 7), (0, 3)), ((6, 3), (2, 0)), ((3, 3, 3), 1)]
    for shape, padding in cases:
        x = rng.normal(size=shape) + 1.0  # no zeros inside, so padding values are recognisable
        text = f"{name}(x of shape {shape}, padding={padding})"
        got = call(fn, name, [("x", x), ("padding", padding)], None, seed, check)
        got = as_float_array(got, text, seed=seed, check=check)
        expected = ref.pad2d(x, padding)
        ph, pw = (padding, padding) if isinstance(padding, int) else padding
        lead = [(0, 0)] * (x.ndim - 2)
        every = [(ph, ph)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
        alternatives = [
            (
                "You padded every axis, the channel axis too: pad only the last two (H and W).",
                lambda x=x, every=every: np.pad(x, every),
            ),
            (
                "Padding goes on both sides: `padding` rows above AND below, "
                "`padding` columns left "
                "AND right.",
                lambda x=x, widths=[*lead, (0, ph), (0, pw)]: np.pad(x, widths),
            ),
            (
                "The pair is (pad_H, pad_W): the first number pads rows "
                "(height), the second columns.",
                lambda x=x, widths=[*lead, (pw, pw), (ph, ph)]: np.pad(x, widths),
            ),
            (
                "The border must be zeros, not copies of the edge pixels.",
                lambda x=x, widths=[*lead, (ph, ph), (pw, pw)]: np.pad(x, widths, mode="edge"),
            ),
        ]
        compare_arrays(got, expected, text, alternatives=alternatives, seed=seed, check=check)


def _conv_cases(rng, hidden, channels):
    """(x, weight, bias, stride, padding) tuples; channels=False gives single-channel cases."""
    cases = []
    shapes = [(6, 7, 3, 3, 1, 0), (8, 8, 3, 2, 2, 1), (7, 9, 2, 3, 2, 2), (5, 6, 4, 4, 1, 1)]
    if hidden:
        shapes += [(9, 5, 3, 3, 3, 1), (4, 4, 4, 4, 1, 0), (10, 7, 1, 1, 2, 0), (6, 11, 5, 2, 3, 2)]
    for h, w, kh, kw, s, p in shapes:
        if channels:
            c_in, c_out = int(rng.integers(2, 4)), int(rng.integers(2, 5))
            x = rng.normal(size=(c_in, h, w))
            weight = _random_weight(rng, c_out, c_in, kh, kw)
            bias = rng.normal(size=c_out)
        else:
            x, weight, bias = rng.normal(size=(h, w)), _random_weight(rng, kh, kw), None
        cases.append((x, weight, bias, s, p))
    return cases


def check_conv2d_single(fn, seed=None, hidden=False):
    """Check ``fn(x, weight)``: single-channel cross-correlation, stride 1, no padding."""
    __tracebackhide__ = True
    check = "check_conv2d_single"
    seed = new_seed(seed)
    rng = np.random.default_rng(seed)
    ref = reference("cvlib.conv")
    name = _name(fn, "conv2d_single")
    for x, weight, _, _, _ in _conv_cases(rng, hidden, channels=False):
        text = f"{name}(x of shape {x.shape}, weight of shape {weight.shape})"
        got = call(fn, name, [("x", x), ("weight", weight)], None, seed, check)
        got = as_float_array(got, text, seed=seed, check=check)
        alternatives = [
            (_FLIP, lambda x=x, w=weight: ref.conv2d(x, w[::-1, ::-1])),
            (_TRANSPOSE, lambda x=x, w=weight: ref.conv2d(x, w.T.copy())),
        ]
        compare_arrays(
            got, ref.conv2d(x, weight), text, alternatives=alternatives, seed=seed, check=check
        )


def _stride_padding_alternatives(ref, x, weight, bias, s, p):
    h_out = ref.conv_output_size(x.shape[-2], weight.shape[-2], s, p)
    w_out = ref.conv_output_size(x.shape[-1], weight.shape[-1], s, p)
    flipped = weight[..., ::-1, ::-1]
    lead = [(0, 0)] * (x.ndim - 2)
    return [
        (_FLIP, lambda: ref.conv2d(x, flipped, bias, stride=s, padding=p)),
        (
            "The windows must move `stride` pixels at a time: the window "
            "of output (i, j) starts at "
            "row i*stride and column j*stride of the padded input.",
            lambda: ref.conv2d(x, weight, bias, stride=1, padding=p)[..., :h_out, :w_out],
        ),
        (
            "The padding is missing: pad the input with zeros first (your zero-padding function).",
            lambda: ref.conv2d(x, weight, bias, stride=s, padding=0),
        ),
        (
            "Pad both sides of each spatial axis, not only the bottom/right.",
            lambda: ref.conv2d(np.pad(x, [*lead, (0, 2 * p), (0, 2 * p)]), weight, bias, stride=s),
        ),
    ]


def check_conv2d_strided(fn, seed=None, hidden=False):
    """Check ``fn(x, weight, stride=1, padding=0)`` on single-channel (H, W) inputs."""
    __tracebackhide__ = True
    check = "check_conv2d_strided"
    seed = new_seed(seed)
    rng = np.random.default_rng(seed)
    ref = reference("cvlib.conv")
    name = _name(fn, "conv2d_strided")
    fn = _isolated(fn, ref, ("zero_pad", "output_size", "conv2d_single"))
    for x, weight, _, s, p in _conv_cases(rng, hidden, channels=False):
        text = (
            f"{name}(x of shape {x.shape}, weight of shape {weight.shape}, stride={s}, padding={p})"
        )
        got = call(
            fn, name, [("x", x), ("weight", weight)], {"stride": s, "padding": p}, seed, check
        )
        got = as_float_array(got, text, seed=seed, check=check)
        compare_arrays(
            got,
            ref.conv2d(x, weight, stride=s, padding=p),
            text,
            alternatives=_stride_padding_alternatives(ref, x, weight, None, s, p),
            seed=seed,
            check=check,
        )


def check_conv2d_multi(fn, seed=None, hidden=False):
    """Check ``fn(x, weight, bias=None, stride=1, padding=0)`` on (C, H, W) inputs."""
    __tracebackhide__ = True
    check = "check_conv2d_multi"
    seed = new_seed(seed)
    rng = np.random.default_rng(seed)
    ref = reference("cvlib.conv")
    name = _name(fn, "conv2d_multi")
    fn = _isolated(fn, ref, ("zero_pad", "output_size", "conv2d_single", "conv2d_strided"))
    cases = _conv_cases(rng, hidden, channels=True)
    if hidden:  # bias=None must work too
        x, weight, _, s, p = cases[0]
        cases.append((x, weight, None, s, p))
    for x, weight, bias, s, p in cases:
        shapes = f"x of shape {x.shape}, weight of shape {weight.shape}, "
        shapes += "bias=None" if bias is None else f"bias of shape {bias.shape}"
        text = f"{name}({shapes}, stride={s}, padding={p})"
        got = call(
            fn,
            name,
            [("x", x), ("weight", weight), ("bias", bias)],
            {"stride": s, "padding": p},
            seed,
            check,
        )
        got = as_float_array(got, text, seed=seed, check=check)
        alternatives = _stride_padding_alternatives(ref, x, weight, bias, s, p)
        if bias is not None:
            alternatives += [
                (
                    "The bias is missing: add bias[o] to every position of output channel o.",
                    lambda x=x, w=weight, s=s, p=p: ref.conv2d(x, w, None, stride=s, padding=p),
                ),
                (
                    "Only the first input channel counts in your sum: each output sums over ALL "
                    "input channels (and the kernel positions).",
                    lambda x=x, w=weight, b=bias, s=s, p=p: ref.conv2d(
                        x[:1], w[:, :1], b, stride=s, padding=p
                    ),
                ),
            ]
        expected = ref.conv2d(x, weight, bias, stride=s, padding=p)  # (C_out, H_out, W_out)
        alternatives.append(
            (
                "Your output has one map per input channel: sum over the "
                "input channels so that there "
                "is one map per filter (C_out of them).",
                np.zeros((x.shape[0], *expected.shape[1:])),
            )
        )
        compare_arrays(got, expected, text, alternatives=alternatives, seed=seed, check=check)


def check_apply_filters(fn, seed=None, hidden=False):
    """Check ``fn(image, names) -> (len(names), H, W)``: named 3x3 filters, zero 'same' padding."""
    __tracebackhide__ = True
    check = "check_apply_filters"
    seed = new_seed(seed)
    rng = np.random.default_rng(seed)
    ref = reference("cvlib.conv")
    kernels = reference("cvlib.kernels")
    name = _name(fn, "apply_filters")
    fn = _isolated(
        fn, ref, ("zero_pad", "output_size", "conv2d_single", "conv2d_strided", "conv2d_multi")
    )
    all_names = sorted(kernels.KERNELS)
    cases = [["identity", "sobel_x"], list(rng.choice(all_names, size=3, replace=False))]
    if hidden:
        cases.append(list(rng.choice(all_names, size=5, replace=False)))
    for names in cases:
        names = [str(n) for n in names]
        image = rng.random(size=(int(rng.integers(6, 12)), int(rng.integers(6, 12))))
        text = f"{name}(image of shape {image.shape}, names={names})"
        got = call(fn, name, [("image", image), ("names", names)], None, seed, check)
        got = as_float_array(got, text, seed=seed, check=check)
        weight = np.stack([kernels.kernel(n) for n in names])[:, None]  # (K, 1, 3, 3)
        expected = ref.conv2d(image[None], weight, padding=1)  # (K, H, W)
        alternatives = [
            (
                "Keep the image size: use padding=1 for a 3x3 filter ('same' padding).",
                lambda i=image, w=weight: ref.conv2d(i[None], w),
            ),
            (_FLIP, lambda i=image, w=weight: ref.conv2d(i[None], w[..., ::-1, ::-1], padding=1)),
        ]
        compare_arrays(got, expected, text, alternatives=alternatives, seed=seed, check=check)


def check_dense_params(fn, seed=None, hidden=False):
    """Check ``fn(in_features, out_features) -> int``: weights and biases of a dense layer."""
    __tracebackhide__ = True
    check = "check_dense_params"
    seed = new_seed(seed)
    rng = np.random.default_rng(seed)
    name = _name(fn, "dense_params")
    cases = [(784, 10), (1, 1)] + [
        tuple(int(v) for v in rng.integers(1, 5000, 2)) for _ in range(8 if hidden else 3)
    ]
    for n_in, n_out in cases:
        text = f"{name}(in_features={n_in}, out_features={n_out})"
        got = as_int(
            call(fn, name, [("", n_in), ("", n_out)], None, seed, check),
            text,
            seed=seed,
            check=check,
        )
        expected = n_in * n_out + n_out
        if got != expected:
            hint = ""
            if got == n_in * n_out:
                hint = "\nHint: each output neuron also has a bias."
            elif got == n_in * n_out + n_in:
                hint = "\nHint: there is one bias per OUTPUT neuron."
            fail(f"{text} returned {got}, expected {expected}.{hint}", seed, check)


def check_conv_params(fn, seed=None, hidden=False):
    """Check ``fn(in_channels, out_channels, kernel_size) -> int`` for a Conv2d layer."""
    __tracebackhide__ = True
    check = "check_conv_params"
    seed = new_seed(seed)
    rng = np.random.default_rng(seed)
    name = _name(fn, "conv_params")
    cases = [(1, 6, 5), (3, 64, 3)] + [
        (int(rng.integers(1, 256)), int(rng.integers(1, 256)), int(rng.choice([1, 3, 5, 7])))
        for _ in range(8 if hidden else 3)
    ]
    for c_in, c_out, k in cases:
        text = f"{name}(in_channels={c_in}, out_channels={c_out}, kernel_size={k})"
        got = as_int(
            call(fn, name, [("", c_in), ("", c_out), ("", k)], None, seed, check),
            text,
            seed=seed,
            check=check,
        )
        expected = c_out * c_in * k * k + c_out
        if got != expected:
            hints = {
                c_out * c_in * k * k: "Each filter also has one bias.",
                c_out * k * k + c_out: "A filter spans ALL input channels: it has "
                "in_channels * k * k weights.",
                c_out * c_in * k + c_out: "A k x k kernel has k * k weights (square it).",
            }
            hint = f"\nHint: {hints[got]}" if got in hints else ""
            fail(f"{text} returned {got}, expected {expected}.{hint}", seed, check)
