"""The course's numpy convolution and max pooling inside PyTorch's autograd.

:class:`Conv2d` and :class:`MaxPool2d` are drop-in replacements for ``torch.nn.Conv2d`` and
``torch.nn.MaxPool2d``: they subclass them, so constructor arguments, parameter names
(``weight``, ``bias``), initialisation, ``repr`` and ``state_dict`` are torch's own. Only
``forward`` differs: it hands the numbers to :func:`cvlib.conv.conv2d` or
:func:`cvlib.pool.max_pool2d`, and the backward pass to :func:`cvlib.conv.conv2d_backward` or
:func:`cvlib.pool.max_pool2d_backward`, through a :class:`torch.autograd.Function`. A network
built from these layers trains on the student's own numpy code (slowly: every call copies to
numpy and back, on the CPU).

Each call detaches the tensors, converts them to numpy (moving them to the CPU if needed),
computes, and converts the result back with the input's dtype and device. Second derivatives
(backward of backward) are not supported.
"""

import numpy as np
import torch
from torch import nn
from torch.autograd.function import once_differentiable

from cvlib.conv import conv2d, conv2d_backward
from cvlib.pool import max_pool2d, max_pool2d_backward

__all__ = ["Conv2d", "Conv2dFunction", "MaxPool2d", "MaxPool2dFunction"]


def _np(t):
    return t.detach().cpu().numpy()


def _torch(a, like):
    return torch.from_numpy(np.ascontiguousarray(a)).to(device=like.device, dtype=like.dtype)


class Conv2dFunction(torch.autograd.Function):
    """``y = conv2d(x, weight, bias)`` with the numpy forward and backward.

    Shape
    -----
    x : (N, C_in, H, W) or (C_in, H, W); weight : (C_out, C_in, kH, kW); bias : (C_out,) or None
    -> (N, C_out, H_out, W_out) or (C_out, H_out, W_out)
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation):
        ctx.save_for_backward(x, weight)
        ctx.conf = (stride, padding, dilation, bias is not None)
        b = None if bias is None else _np(bias)
        y = conv2d(_np(x), _np(weight), b, stride, padding, dilation)  # (N, C_out, H_out, W_out)
        return _torch(y, x)

    @staticmethod
    @once_differentiable
    def backward(ctx, dout):
        x, weight = ctx.saved_tensors
        stride, padding, dilation, has_bias = ctx.conf
        dx, dw, db = conv2d_backward(_np(dout), _np(x), _np(weight), stride, padding, dilation)
        db = _torch(db, weight) if has_bias else None
        return _torch(dx, x), _torch(dw, weight), db, None, None, None


class MaxPool2dFunction(torch.autograd.Function):
    """``y = max_pool2d(x)`` with the numpy forward and backward (ties: first maximum)."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding):
        ctx.save_for_backward(x)
        ctx.conf = (kernel_size, stride, padding)
        return _torch(max_pool2d(_np(x), kernel_size, stride, padding), x)

    @staticmethod
    @once_differentiable
    def backward(ctx, dout):
        (x,) = ctx.saved_tensors
        kernel_size, stride, padding = ctx.conf
        dx = max_pool2d_backward(_np(dout), _np(x), kernel_size, stride, padding)
        return _torch(dx, x), None, None, None


class Conv2d(nn.Conv2d):
    """``torch.nn.Conv2d`` whose computation runs in :mod:`cvlib.conv` (numpy).

    Same arguments as ``torch.nn.Conv2d``; ``groups`` must be 1 and ``padding_mode`` "zeros"
    (the numpy core implements only these).

    Shape
    -----
    x : (N, C_in, H, W) -> (N, C_out, H_out, W_out),
    ``H_out = floor((H + 2*padding - dilation*(kH - 1) - 1) / stride) + 1``

    Examples
    --------
    >>> conv = Conv2d(3, 8, kernel_size=3, padding=1)
    >>> conv(torch.zeros(2, 3, 16, 16)).shape
    torch.Size([2, 8, 16, 16])
    >>> sorted(conv.state_dict())
    ['bias', 'weight']
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.groups != 1:
            raise ValueError(f"`groups` must be 1 for cvlib.nn.Conv2d, got {self.groups}")
        if self.padding_mode != "zeros":
            raise ValueError(
                f"`padding_mode` must be 'zeros' for cvlib.nn.Conv2d, got {self.padding_mode!r}"
            )

    def forward(self, x):
        return Conv2dFunction.apply(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation
        )


class MaxPool2d(nn.MaxPool2d):
    """``torch.nn.MaxPool2d`` whose computation runs in :mod:`cvlib.pool` (numpy).

    Same arguments as ``torch.nn.MaxPool2d``; ``dilation`` must be 1 and ``return_indices`` and
    ``ceil_mode`` False (the numpy core implements only these).

    Shape
    -----
    x : (N, C, H, W) -> (N, C, H_out, W_out), ``H_out = floor((H + 2*padding - kH) / stride) + 1``

    Examples
    --------
    >>> MaxPool2d(2)(torch.arange(16.0).reshape(1, 1, 4, 4))
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.dilation not in (1, (1, 1)):
            raise ValueError(f"`dilation` must be 1 for cvlib.nn.MaxPool2d, got {self.dilation}")
        if self.return_indices:
            raise ValueError("`return_indices` must be False for cvlib.nn.MaxPool2d")
        if self.ceil_mode:
            raise ValueError("`ceil_mode` must be False for cvlib.nn.MaxPool2d")

    def forward(self, x):
        return MaxPool2dFunction.apply(x, self.kernel_size, self.stride, self.padding)
