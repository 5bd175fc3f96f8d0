"""Checks of assignment 1: padding, output size, convolution, filters, parameter counts.

Each ``check_*`` calls the student's function on fresh random inputs (a new seed per call unless
``seed`` is given), compares with :mod:`cvlib.conv` loaded fresh, and raises ``AssertionError``
with an actionable message on the first difference. ``hidden=True`` runs the extra cases of the
hidden tests (edge cases: non-square inputs, large strides, asymmetric padding).
"""

import numpy as np

from ._compare import Shape, in_call, off_by_one
from ._student import reference
from .checks import Run
from .tripwires import NUMPY_ANSWER

# What each answer asks students to write themselves (see tripwires.NUMPY_ANSWER for what is
# out of reach: cvlib's numpy core, torch's layers, scipy's and scikit-image's filters).
OWN_LOOPS = "this answer asks for your own loops (numpy's operations are fine, a library's are not)"
OWN_FORMULA = "this answer asks for the formula, computed by your own code"
LOOPS = {"forbid": NUMPY_ANSWER, "reason": OWN_LOOPS}
FORMULA = {"forbid": NUMPY_ANSWER, "reason": OWN_FORMULA}

_FLIP = (
    "Your output equals a true convolution (kernel flipped in both directions). Deep "
    "learning 'convolution' is cross-correlation: out[i, j] = sum(window * weight) with the "
    "weight NOT flipped."
)
_TRANSPOSE = (
    "Your output matches the kernel transposed: the kernel's first index runs down the "
    "rows (i), the second along the columns (j)."
)


def earlier_answers(ref, names):
    """Reference versions of the earlier answers ``names``, for :class:`~.checks.Run`'s isolate."""

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

    helpers = {f.__name__: f for f in (zero_pad, output_size, conv2d_single, conv2d_strided)}
    helpers["conv2d_multi"] = conv2d_multi
    return {n: helpers[n] for n in names}


def int_hints(pairs):
    """``{wrong result: hint}`` from ``(wrong result, hint)`` pairs; where two mistakes give the
    same number, the result cannot tell them apart, and the hint names both."""
    hints = {}
    for value, hint in pairs:
        hints[value] = f"{hints[value]} Or: {hint}" if value in hints else hint
    return hints


def check_output_size(fn, seed=None, hidden=False):
    """Check ``fn(n, kernel_size, stride=1, padding=0) -> int`` against the formula."""
    __tracebackhide__ = True
    run = Run("check_output_size", fn, "output_size", seed, hidden, **FORMULA)
    ref = reference("cvlib.conv")
    cases = [(5, 3, 1, 0), (32, 5, 1, 2), (7, 3, 2, 0), (6, 3, 2, 0), (28, 2, 2, 0)]
    for _ in range(12 if hidden else 4):
        k = int(run.rng.integers(1, 8))
        p = int(run.rng.integers(0, 4))
        n = int(run.rng.integers(max(1, k - 2 * p), 40))
        cases.append((n, k, int(run.rng.integers(1, 5)), p))
    for n, k, s, p in cases:
        hints = int_hints(
            [
                (
                    (n + 2 * p - k) // s,
                    "You forgot the + 1: a kernel that fits exactly once gives one output, not "
                    "zero.",
                ),
                (
                    (n + p - k) // s + 1,
                    "Padding adds `padding` pixels on BOTH sides: use 2*padding.",
                ),
                (
                    -(-(n + 2 * p - k) // s) + 1,
                    "Round down (floor): a window that does not fit completely is dropped.",
                ),
                (
                    n + 2 * p - k + 1,
                    "Divide by the stride: the window moves `stride` pixels at a time.",
                ),
            ]
        )
        run.expect_int(
            [("n", n), ("kernel_size", k)],
            ref.conv_output_size(n, k, stride=s, padding=p),
            {"stride": s, "padding": p},
            hints,
        )


def check_pad2d(fn, seed=None, hidden=False):
    """Check ``fn(x, padding)``: zero-pad the last two axes of (H, W) or (C, H, W) arrays."""
    __tracebackhide__ = True
    run = Run(
        "check_pad2d",
        fn,
        "zero_pad",
        seed,
        hidden,
        forbid=NUMPY_ANSWER,
        reason="this answer asks for your own padding (np.pad or an array of zeros)",
    )
    ref = reference("cvlib.conv")
    cases = [((4, 5), 1), ((3, 4, 6), 2), ((5, 5), 0), ((2, 3, 4), (1, 2))]
    if hidden:
        cases += [((1, 1), 3), ((4, 2, 7), (0, 3)), ((6, 3), (2, 0)), ((3, 3, 3), 1)]
    for shape, padding in cases:
        x = run.rng.normal(size=shape) + 1.0  # no zeros inside, so padding values are recognisable
        pad2d_case(run, ref, x, padding)
    # "a new float array" whatever x holds: an image of integers too
    integers = run.rng.integers(1, 256, size=(3, 4))
    pad2d_case(run, ref, integers, 1)
    if hidden:
        pad2d_case(run, ref, run.rng.integers(1, 256, size=(2, 3, 5)).astype(np.uint8), (2, 1))


def pad2d_case(run, ref, x, padding):
    """One case of :func:`check_pad2d`: the result is a float array equal to ``pad2d(x)``."""
    __tracebackhide__ = True
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    lead = [(0, 0)] * (x.ndim - 2)
    every = [(ph, ph)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
    alternatives = [
        (
            "You padded every axis, the channel axis too: pad only the last two (H and W).",
            lambda x=x, every=every: np.pad(x, every),
        ),
        (
            "Padding goes on both sides: `padding` rows above AND below, `padding` columns "
            "left AND right.",
            lambda x=x, widths=[*lead, (0, ph), (0, pw)]: np.pad(x, widths),
        ),
        (
            "Padding goes on both sides: `padding` rows above AND below (not 2*padding "
            "below), `padding` columns left AND right.",
            lambda x=x, widths=[*lead, (0, 2 * ph), (0, 2 * pw)]: np.pad(x, widths),
        ),
        (
            "The pair is (pad_H, pad_W): the first number pads rows (height), the second columns.",
            lambda x=x, widths=[*lead, (pw, pw), (ph, ph)]: np.pad(x, widths),
        ),
        (
            "The border must be zeros, not copies of the edge pixels.",
            lambda x=x, widths=[*lead, (ph, ph), (pw, pw)]: np.pad(x, widths, mode="edge"),
        ),
    ]
    args = [("x", x), ("padding", padding)]
    text = run.text(args)
    got = run.call(args, text=text)
    if isinstance(got, np.ndarray) and got.dtype.kind in "iub":
        run.fail(
            f"The result has dtype {got.dtype}: zero_pad returns a new FLOAT array, also when "
            f"x holds integers (here x has dtype {x.dtype}). Create the output with a float "
            f"dtype (np.zeros(shape), or np.pad(x.astype(float), ...)).\n{in_call(text)}"
        )
    got = run.array(got, text)
    run.compare(got, ref.pad2d(x, padding), text, alternatives=alternatives)


def conv_cases(rng, hidden, channels):
    """(x, weight, bias, stride, padding) tuples; channels=False gives single-channel cases."""
    cases = []
    shapes = [(6, 7, 3, 3, 1, 0), (8, 8, 3, 2, 2, 1), (7, 9, 2, 3, 2, 2), (5, 6, 4, 4, 1, 1)]
    if hidden:
        shapes += [(9, 5, 3, 3, 3, 1), (4, 4, 4, 4, 1, 0), (10, 7, 1, 1, 2, 0), (6, 11, 5, 2, 3, 2)]
    for h, w, kh, kw, s, p in shapes:
        # Non-symmetric kernels, so flipped or transposed kernels give different answers.
        if channels:
            c_in, c_out = int(rng.integers(2, 4)), int(rng.integers(2, 5))
            x = rng.normal(size=(c_in, h, w))
            weight = rng.normal(size=(c_out, c_in, kh, kw))
            bias = rng.normal(size=c_out)
        else:
            x, weight, bias = rng.normal(size=(h, w)), rng.normal(size=(kh, kw)), None
        cases.append((x, weight, bias, s, p))
    return cases


def check_conv2d_single(fn, seed=None, hidden=False):
    """Check ``fn(x, weight)``: single-channel cross-correlation, stride 1, no padding."""
    __tracebackhide__ = True
    run = Run("check_conv2d_single", fn, "conv2d_single", seed, hidden, **LOOPS)
    ref = reference("cvlib.conv")
    for x, weight, _, _, _ in conv_cases(run.rng, hidden, channels=False):
        alternatives = [
            (_FLIP, lambda x=x, w=weight: ref.conv2d(x, w[::-1, ::-1])),
            (_TRANSPOSE, lambda x=x, w=weight: ref.conv2d(x, w.T.copy())),
            off_by_one(),
        ]
        args = [("x", x), ("weight", weight)]
        run.expect_array(args, ref.conv2d(x, weight), alternatives=alternatives)


def stride_padding_alternatives(ref, x, weight, bias, s, p):
    """Hints for convolutions with stride and padding: flipped, stride or padding mishandled."""
    h_out = ref.conv_output_size(x.shape[-2], weight.shape[-2], s, p)
    w_out = ref.conv_output_size(x.shape[-1], weight.shape[-1], s, p)
    flipped = weight[..., ::-1, ::-1]
    lead = [(0, 0)] * (x.ndim - 2)
    return [
        (_FLIP, lambda: ref.conv2d(x, flipped, bias, stride=s, padding=p)),
        (
            "The windows must move `stride` pixels at a time: the window of output (i, j) starts "
            "at row i*stride and column j*stride of the padded input.",
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
        off_by_one(),
    ]


def check_conv2d_strided(fn, seed=None, hidden=False):
    """Check ``fn(x, weight, stride=1, padding=0)`` on single-channel (H, W) inputs."""
    __tracebackhide__ = True
    ref = reference("cvlib.conv")
    isolate = earlier_answers(ref, ("zero_pad", "output_size", "conv2d_single"))
    run = Run("check_conv2d_strided", fn, "conv2d_strided", seed, hidden, isolate=isolate, **LOOPS)
    for x, weight, _, s, p in conv_cases(run.rng, hidden, channels=False):
        run.expect_array(
            [("x", x), ("weight", weight)],
            ref.conv2d(x, weight, stride=s, padding=p),
            {"stride": s, "padding": p},
            alternatives=stride_padding_alternatives(ref, x, weight, None, s, p),
        )


def check_conv2d_multi(fn, seed=None, hidden=False):
    """Check ``fn(x, weight, bias=None, stride=1, padding=0)`` on (C, H, W) inputs."""
    __tracebackhide__ = True
    ref = reference("cvlib.conv")
    names = ("zero_pad", "output_size", "conv2d_single", "conv2d_strided")
    run = Run(
        "check_conv2d_multi",
        fn,
        "conv2d_multi",
        seed,
        hidden,
        isolate=earlier_answers(ref, names),
        forbid=NUMPY_ANSWER,
        reason=OWN_LOOPS,
    )
    cases = conv_cases(run.rng, hidden, channels=True)
    if hidden:  # bias=None must work too
        x, weight, _, s, p = cases[0]
        cases.append((x, weight, None, s, p))
    for x, weight, bias, s, p in cases:
        expected = ref.conv2d(x, weight, bias, stride=s, padding=p)  # (C_out, H_out, W_out)
        alternatives = stride_padding_alternatives(ref, x, weight, bias, s, p)
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
        alternatives.append(
            (
                "Your output has one map per input channel: sum over the input channels so that "
                "there is one map per filter (C_out of them).",
                Shape.exactly((x.shape[0], *expected.shape[1:])),
            )
        )
        args = [("x", x), ("weight", weight), ("bias", bias)]
        run.expect_array(args, expected, {"stride": s, "padding": p}, alternatives)


def check_apply_filters(fn, seed=None, hidden=False):
    """Check ``fn(image, names) -> (len(names), H, W)``: named 3x3 filters, zero 'same' padding."""
    __tracebackhide__ = True
    ref = reference("cvlib.conv")
    kernels = reference("cvlib.kernels")
    names = ("zero_pad", "output_size", "conv2d_single", "conv2d_strided", "conv2d_multi")
    run = Run(
        "check_apply_filters",
        fn,
        "apply_filters",
        seed,
        hidden,
        isolate=earlier_answers(ref, names),
        forbid=NUMPY_ANSWER,
        reason="this answer asks you to apply the filters with your conv2d_multi",
    )
    all_names = sorted(kernels.KERNELS)
    cases = [["identity", "sobel_x"], list(run.rng.choice(all_names, size=3, replace=False))]
    if hidden:
        cases.append(list(run.rng.choice(all_names, size=5, replace=False)))
    for filters in cases:
        filters = [str(n) for n in filters]
        shape = (int(run.rng.integers(6, 12)), int(run.rng.integers(6, 12)))
        image = run.rng.random(size=shape)
        weight = np.stack([kernels.kernel(n) for n in filters])[:, None]  # (K, 1, 3, 3)
        alternatives = [
            (
                "Keep the image size: use padding=1 for a 3x3 filter ('same' padding).",
                lambda i=image, w=weight: ref.conv2d(i[None], w),
            ),
            (_FLIP, lambda i=image, w=weight: ref.conv2d(i[None], w[..., ::-1, ::-1], padding=1)),
        ]
        expected = ref.conv2d(image[None], weight, padding=1)  # (K, H, W)
        run.expect_array([("image", image), ("names", filters)], expected, None, alternatives)


def check_dense_params(fn, seed=None, hidden=False):
    """Check ``fn(in_features, out_features) -> int``: weights and biases of a dense layer."""
    __tracebackhide__ = True
    run = Run("check_dense_params", fn, "dense_params", seed, hidden, **FORMULA)
    cases = [(784, 10), (1, 1)] + [
        tuple(int(v) for v in run.rng.integers(1, 5000, 2)) for _ in range(8 if hidden else 3)
    ]
    for n_in, n_out in cases:
        hints = int_hints(
            [
                (n_in * n_out, "Each output neuron also has a bias."),
                (n_in * n_out + n_in, "There is one bias per OUTPUT neuron."),
            ]
        )
        args = [("in_features", n_in), ("out_features", n_out)]
        run.expect_int(args, n_in * n_out + n_out, hints=hints)


def check_conv_params(fn, seed=None, hidden=False):
    """Check ``fn(in_channels, out_channels, kernel_size) -> int`` for a Conv2d layer."""
    __tracebackhide__ = True
    run = Run("check_conv_params", fn, "conv_params", seed, hidden, **FORMULA)
    rng = run.rng
    cases = [(1, 6, 5), (3, 64, 3)] + [
        (int(rng.integers(1, 256)), int(rng.integers(1, 256)), int(rng.choice([1, 3, 5, 7])))
        for _ in range(8 if hidden else 3)
    ]
    for c_in, c_out, k in cases:
        hints = int_hints(
            [
                (c_out * c_in * k * k, "Each filter also has one bias."),
                (
                    c_out * k * k + c_out,
                    "A filter spans ALL input channels: it has in_channels * k * k weights.",
                ),
                (c_out * c_in * k + c_out, "A k x k kernel has k * k weights (square it)."),
            ]
        )
        args = [("in_channels", c_in), ("out_channels", c_out), ("kernel_size", k)]
        run.expect_int(args, c_out * c_in * k * k + c_out, hints=hints)
