"""Argument checking and shape bookkeeping shared by the functions of :mod:`cvlib.conv`."""

from dataclasses import dataclass

import numpy as np

from cvlib._validate import check_array, pair
from cvlib._windows import output_size


@dataclass(frozen=True)
class Geometry:
    """Everything about a convolution's windows, as pairs ``(height, width)``."""

    kernel: tuple
    stride: tuple
    dilation: tuple
    pads: tuple  # (top, bottom, left, right)
    out: tuple  # (H_out, W_out)


def resolve_padding(padding, kernel, stride, dilation):
    """Turn ``padding`` (int, pair, "same", "valid") into ``(top, bottom, left, right)``.

    ``"same"`` pads ``dilation*(k - 1)`` in total per dimension, ``total // 2`` before and the rest
    after, exactly as PyTorch does; it needs stride 1.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(
                f'`padding` must be an int, a pair, "same" or "valid", got {padding!r}'
            )
        if stride != (1, 1):
            raise ValueError(
                f'`padding="same"` needs stride 1 (as in PyTorch), got stride {stride}'
            )
        total_h, total_w = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)
        return (total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2)
    ph, pw = pair(padding, "padding")
    return (ph, ph, pw, pw)


def prepare(x, weight, bias, stride, padding, dilation):
    """Validate the arguments of a convolution and bring them to the batched 4-D form.

    Returns ``(x4, w4, bias, geometry, unbatch)``: ``x4 (N, C, H, W)`` and ``w4 (C_out, C, kH, kW)``
    in a common float dtype, ``bias (C_out,)`` or None, a :class:`Geometry`, and ``unbatch``, which
    turns a 4-D result back into the caller's form.
    """
    x = check_array(x, "x", ndims=(2, 3, 4))
    weight = check_array(weight, "weight", ndims=2 if x.ndim == 2 else 4)
    if bias is not None:
        bias = check_array(np.asarray(bias) if np.isscalar(bias) else bias, "bias", ndims=(0, 1))
    dtype = np.result_type(x, weight, *([] if bias is None else [bias]))

    x4 = x.reshape((1,) * (4 - x.ndim) + x.shape).astype(dtype, copy=False)
    w4 = weight.reshape((1,) * (4 - weight.ndim) + weight.shape).astype(dtype, copy=False)
    if w4.shape[1] != x4.shape[1]:
        raise ValueError(f"`weight` has {w4.shape[1]} input channels but `x` has {x4.shape[1]}")
    if bias is not None:
        if bias.size != w4.shape[0] or (bias.ndim == 0 and x.ndim != 2):
            raise ValueError(
                f"`bias` must have shape ({w4.shape[0]},), one value per output channel, "
                f"got {bias.shape}"
            )
        bias = bias.reshape(-1).astype(dtype, copy=False)

    kernel = w4.shape[2:]
    stride = pair(stride, "stride", minimum=1)
    dilation = pair(dilation, "dilation", minimum=1)
    pads = resolve_padding(padding, kernel, stride, dilation)
    h_pad, w_pad = x4.shape[2] + pads[0] + pads[1], x4.shape[3] + pads[2] + pads[3]
    out = (
        output_size(h_pad, kernel[0], stride[0], dilation[0], 0),
        output_size(w_pad, kernel[1], stride[1], dilation[1], 0),
    )
    if min(out) < 1:
        raise ValueError(
            f"`weight` kernel {kernel} with dilation {dilation} is larger than the padded "
            f"input ({h_pad}, {w_pad})"
        )
    geometry = Geometry(kernel, stride, dilation, pads, out)

    def unbatch(y):
        return y.reshape(y.shape[4 - x.ndim :])

    return x4, w4, bias, geometry, unbatch


__all__ = ["Geometry", "prepare", "resolve_padding"]
