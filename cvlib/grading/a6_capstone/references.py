"""What the checks of assignment 6 share: the rules, the reference answers, the network's data.

- :data:`OWN`: while a student's function runs, cvlib's numpy references, the capstone network
  and its training, all of PyTorch and SciPy and the data sets are out of reach
  (:data:`cvlib.grading.tripwires.NUMPY_ONLY`);
- :func:`answers`: the notebook's answers as cvlib's references, with the notebook's signatures,
  built on private copies of the modules (:func:`cvlib.grading.reference`). A check swaps them in
  for the earlier answers a function uses, so that each answer is graded on its own;
- :func:`network`: the private copy of :mod:`cvlib.numpy_cnn` and its :class:`~cvlib.numpy_cnn.Ops`
  made of private copies, and :func:`random_network` a network with non-trivial weights;
- :func:`fashion`: assignment 6's data, Fashion-MNIST at 14x14 (:func:`cvlib.data.capstone_data`);
- :func:`call_text`: a call described for messages, each named tuple of arrays (``Params``,
  ``Stats``, gradients) in a few words instead of one shape per array.
"""

import numpy as np

from .._student import reference
from ..tripwires import NUMPY_ONLY

OWN_NUMPY = (
    "this assignment asks for your own numpy code (PyTorch, SciPy and cvlib's reference "
    "implementations are out of reach; cvlib.numpy_cnn.init_params is fine)"
)
OWN = {"forbid": NUMPY_ONLY, "reason": OWN_NUMPY}
LAYERS = ("conv", "pool", "layers", "batchnorm", "optim", "gradcheck")


def col2im(cols, x_shape, kernel_size, stride=1, padding=0):
    """The transpose of :func:`cvlib.conv.im2col`: each column entry added onto the pixel it was
    copied from (entries copied from the padding are dropped).

    Built from im2col itself: ``im2col`` of the image ``1, 2, ..., N*C*H*W`` tells, for every
    entry of ``cols``, which pixel it came from (0: the padding).

    Shape
    -----
    cols : (N, C*k*k, H_out*W_out) -> (N, C, H, W) = ``x_shape``
    """
    size = int(np.prod(x_shape))
    origin = np.arange(1, size + 1, dtype=np.float64).reshape(x_shape)
    source = reference("cvlib.conv").im2col(origin, kernel_size, stride, padding).astype(np.int64)
    added = np.bincount(source.ravel(), weights=np.ravel(cols), minlength=size + 1)
    return added[1:].reshape(x_shape)  # (N, C, H, W)


def answers():
    """``{name: reference}`` for every answer of sections 1-6, with the notebook's signatures."""
    conv, pool, layers, bn, optim, gradcheck = (reference(f"cvlib.{m}") for m in LAYERS)

    def im2col(x, kernel_size, stride=1, padding=0):
        return conv.im2col(x, kernel_size, stride, padding)

    def conv2d(x, weight, bias=None, stride=1, padding=0):
        return conv.conv2d(x, weight, bias, stride, padding)

    def conv2d_backward(dout, x, weight, stride=1, padding=0):
        return conv.conv2d_backward(dout, x, weight, stride, padding)

    def max_pool2d(x, kernel_size, stride=None):
        return pool.max_pool2d(x, kernel_size, stride)

    def max_pool2d_backward(dout, x, kernel_size, stride=None):
        return pool.max_pool2d_backward(dout, x, kernel_size, stride)

    def batch_norm(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
        return bn.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)

    def batch_norm_backward(dout, x, running_mean, running_var, weight, training, eps=1e-5):
        return bn.batch_norm_backward(dout, x, running_mean, running_var, weight, training, eps)

    def sgd(params, grads, velocities, lr, momentum=0.0, weight_decay=0.0):
        velocities = velocities if momentum else None
        return optim.sgd(
            params, grads, velocities, lr=lr, momentum=momentum, weight_decay=weight_decay
        )

    def numerical_gradient(f, x, eps=1e-6):
        return gradcheck.numerical_gradient(f, x, eps=eps)

    own = (im2col, conv2d, conv2d_backward, max_pool2d, max_pool2d_backward, batch_norm)
    own += (batch_norm_backward, sgd, numerical_gradient, col2im)
    same = {n: getattr(layers, n) for n in ("relu", "relu_backward", "linear", "linear_backward")}
    return {**{f.__name__: f for f in own}, **same, "cross_entropy": layers.cross_entropy}


def network(conv2d_backward=None):
    """``(cnn, ops)``: a private copy of :mod:`cvlib.numpy_cnn` and its layers as private copies
    (``conv2d_backward`` replaces the convolution's backward pass, e.g. by a knock-out)."""
    conv, pool, layers, bn, optim, _ = (reference(f"cvlib.{m}") for m in LAYERS)
    cnn = reference("cvlib.numpy_cnn")
    ops = cnn.Ops(
        conv2d=conv.conv2d,
        conv2d_backward=conv2d_backward or conv.conv2d_backward,
        max_pool2d=pool.max_pool2d,
        max_pool2d_backward=pool.max_pool2d_backward,
        relu=layers.relu,
        relu_backward=layers.relu_backward,
        batch_norm=bn.batch_norm,
        batch_norm_backward=bn.batch_norm_backward,
        linear=layers.linear,
        linear_backward=layers.linear_backward,
        cross_entropy=layers.cross_entropy,
        sgd=optim.sgd,
    )
    return cnn, ops


def transposed_kernel_gradient(dout, x, weight, stride=1, padding=0, dilation=1):
    """The knock-out the whole-network checks must catch: ``dweight`` with the kernel's rows and
    columns swapped (as :func:`cvlib.experiments.capstone.transposed_kernel_gradient`)."""
    dx, dweight, dbias = reference("cvlib.conv").conv2d_backward(
        dout, x, weight, stride, padding, dilation
    )
    return dx, dweight.swapaxes(-1, -2), dbias


def network_answers(cnn, ops):
    """The notebook's ``forward``, ``loss_and_grads`` and ``predict`` as the reference network
    built from ``ops`` (the student's ``Params`` and ``Stats`` are accepted)."""

    def forward(params, stats, x, training, momentum=0.1):
        return cnn.forward(cnn.Params(*params), cnn.Stats(*stats), x, training, ops, momentum)

    def loss_and_grads(params, stats, x, target):
        return cnn.loss_and_grads(cnn.Params(*params), cnn.Stats(*stats), x, target, ops)

    def predict(params, stats, x):
        return cnn.predict(cnn.Params(*params), cnn.Stats(*stats), x, ops)

    return {"forward": forward, "loss_and_grads": loss_and_grads, "predict": predict}


def random_network(cnn, rng, channels=(3, 4), num_classes=5, size=8):
    """``(params, stats)`` of the reference network for images of ``size`` with every array
    random (batch norm's weights around 1, its running variances positive), so that no layer is
    an identity."""
    c1, c2 = channels
    seed = int(rng.integers(1 << 30))
    params, _ = cnn.init_params(1, num_classes, channels, seed=seed, size=size)
    params = params._replace(
        bn1_weight=rng.normal(1.0, 0.3, c1),
        bn1_bias=rng.normal(0.0, 0.3, c1),
        bn2_weight=rng.normal(1.0, 0.3, c2),
        bn2_bias=rng.normal(0.0, 0.3, c2),
        fc_bias=rng.normal(0.0, 0.3, num_classes),
    )
    stats = cnn.Stats(
        rng.normal(0.0, 0.5, c1), rng.uniform(0.5, 2.0, c1),
        rng.normal(0.0, 0.5, c2), rng.uniform(0.5, 2.0, c2),
    )  # fmt: skip
    return params, stats


def fashion(split):
    """``(images (N, 1, 14, 14) float64 in [0, 1], labels (N,) int64)``: assignment 6's data
    (:func:`cvlib.data.capstone_data`: 5,000 training images, or the 1,000 held-out test
    images), from a private copy."""
    return reference("cvlib.data.fashion_mnist").capstone_data(split)


class _Summary:
    """An argument shown in a message by its description alone."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def _summary(value):
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return _Summary(f"a {type(value).__name__} of {len(value)} arrays")
    return value


def call_text(run, args, kwargs=None):
    """``sgd(params=a Params of 8 arrays, grads=..., lr=0.1)``: :meth:`Run.text
    <cvlib.grading.checks.Run.text>` with the named tuples of arrays summarised."""
    args = [(name, _summary(value)) for name, value in args]
    return run.text(args, {name: _summary(value) for name, value in (kwargs or {}).items()})
