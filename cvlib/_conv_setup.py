"""Argument checking and shape bookkeeping shared by the functions of :mod:`cvlib.conv`."""

import numpy as np

from cvlib._geometry import geometry, resolve_padding
from cvlib._validate import check_array, pair


def prepare(x, weight, bias, stride, padding, dilation):
    """Validate the arguments of a convolution and bring them to the batched 4-D form.

    Returns ``(x4, w4, bias, geometry, unbatch)``: ``x4 (N, C, H, W)`` and ``w4 (C_out, C, kH, kW)``
    in a common float dtype, ``bias (C_out,)`` or None, a :class:`~cvlib._geometry.Geometry`, and
    ``unbatch``, which
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
    geom = geometry(x4.shape[2:], kernel, stride, dilation, pads, "the `weight` kernel")

    def unbatch(y):
        return y.reshape(y.shape[4 - x.ndim :])

    return x4, w4, bias, geom, unbatch


__all__ = ["prepare"]
