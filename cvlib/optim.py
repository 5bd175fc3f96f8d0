"""Gradient descent, momentum and Adam in numpy: the update rules of ``torch.optim``, by hand.

An optimiser holds a list of parameter arrays and updates them **in place** from their
gradients, one ``step(grads)`` at a time, the way ``torch.optim`` does. The rules, for a
parameter :math:`\\theta` with gradient :math:`g` at step :math:`t = 1, 2, \\dots`:

- :class:`SGD`, plain: :math:`\\theta \\leftarrow \\theta - \\eta\\, g`;
- :class:`SGD` with momentum :math:`\\mu`: :math:`v \\leftarrow \\mu v + g`,
  :math:`\\theta \\leftarrow \\theta - \\eta\\, v` (PyTorch's form, :math:`v = 0` at the start);
- :class:`Adam` (Kingma and Ba, 2015): running means of the gradient and of its square,
  :math:`m \\leftarrow \\beta_1 m + (1 - \\beta_1) g`, :math:`s \\leftarrow \\beta_2 s +
  (1 - \\beta_2) g^2`, corrected for their start at zero, :math:`\\hat m = m / (1 - \\beta_1^t)`,
  :math:`\\hat s = s / (1 - \\beta_2^t)`, and the step
  :math:`\\theta \\leftarrow \\theta - \\eta\\, \\hat m / (\\sqrt{\\hat s} + \\epsilon)`.

Weight decay :math:`\\lambda` shrinks every weight towards zero. In :class:`SGD` it is the
gradient of :math:`\\tfrac{\\lambda}{2}\\lVert\\theta\\rVert^2` added to :math:`g` (as
``torch.optim.SGD(weight_decay=...)``); in :class:`Adam` it is applied to the weights directly,
:math:`\\theta \\leftarrow \\theta (1 - \\eta\\lambda)`, outside the adaptive scaling (as
``torch.optim.AdamW``; Loshchilov and Hutter, 2019).

Examples
--------
Minimise :math:`(\\theta - 3)^2` from :math:`\\theta = 0`; the gradient is :math:`2(\\theta - 3)`:

>>> theta = np.zeros(1)
>>> opt = SGD([theta], lr=0.1)
>>> for _ in range(100):
...     opt.step([2 * (theta - 3)])
>>> theta.round(6)
array([3.])
"""

import numbers

import numpy as np

__all__ = ["SGD", "Adam"]


def _check_rate(value, name, low=0.0, high=None, low_open=True):
    """``value`` as a float in (low, high) (or [low, ...) when ``low_open`` is False)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be a number, got {value!r}")
    too_low = value <= low if low_open else value < low
    if too_low or (high is not None and value >= high) or not np.isfinite(value):
        bounds = f"{'(' if low_open else '['}{low}, {high if high is not None else 'inf'})"
        raise ValueError(f"`{name}` must lie in {bounds}, got {value!r}")
    return float(value)


def _check_params(params):
    """The parameters as a list of float ndarrays (updated in place, so they must be arrays)."""
    params = list(params)
    if not params:
        raise ValueError("`params` is empty: give the optimiser at least one array to update")
    for i, p in enumerate(params):
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            raise TypeError(f"`params[{i}]` must be a float numpy array, got {type(p).__name__}")
    return params


class _Optimizer:
    """What both optimisers share: the parameters, the step count, the gradient checks."""

    def __init__(self, params, lr):
        self.params = _check_params(params)
        self.lr = _check_rate(lr, "lr")
        self.t = 0  # number of steps taken

    def _grads(self, grads):
        grads = list(grads)
        if len(grads) != len(self.params):
            raise ValueError(f"`grads` has {len(grads)} arrays but there are {len(self.params)}")
        out = []
        for i, (g, p) in enumerate(zip(grads, self.params, strict=True)):
            g = np.asarray(g, dtype=p.dtype)
            if g.shape != p.shape:
                raise ValueError(f"`grads[{i}]` has shape {g.shape} but its parameter {p.shape}")
            out.append(g)
        self.t += 1
        return out


class SGD(_Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay (``torch.optim.SGD``).

    Parameters
    ----------
    params : list of ndarray
        Float arrays, updated in place by :meth:`step`.
    lr : float
        Learning rate :math:`\\eta > 0`.
    momentum : float, default 0
        :math:`\\mu \\in [0, 1)`; 0 is plain gradient descent.
    weight_decay : float, default 0
        :math:`\\lambda \\ge 0`, added to the gradient as :math:`\\lambda\\theta`.

    Shape
    -----
    ``step(grads)``: ``grads[i]`` has the shape of ``params[i]``.

    Examples
    --------
    >>> w = np.array([1.0, -2.0])
    >>> opt = SGD([w], lr=0.5, momentum=0.9)
    >>> opt.step([np.array([1.0, 1.0])]); w
    array([ 0.5, -2.5])
    >>> opt.step([np.array([1.0, 1.0])]); w  # v = 0.9 * 1 + 1 = 1.9
    array([-0.45, -3.45])
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self.momentum = _check_rate(momentum, "momentum", 0.0, 1.0, low_open=False)
        self.weight_decay = _check_rate(weight_decay, "weight_decay", 0.0, low_open=False)
        self.velocity = [np.zeros_like(p) for p in self.params]

    def step(self, grads):
        """Update every parameter in place from its gradient."""
        for p, g, v in zip(self.params, self._grads(grads), self.velocity, strict=True):
            g = g + self.weight_decay * p
            if self.momentum:
                v *= self.momentum
                v += g  # v = mu * v + g
                g = v
            p -= self.lr * g


class Adam(_Optimizer):
    """Adam with bias correction and decoupled weight decay (``torch.optim.Adam`` / ``AdamW``).

    Parameters
    ----------
    params : list of ndarray
        Float arrays, updated in place by :meth:`step`.
    lr : float, default 1e-3
        Learning rate :math:`\\eta > 0`.
    betas : tuple of two floats, default (0.9, 0.999)
        Decay rates :math:`\\beta_1, \\beta_2 \\in [0, 1)` of the two running means.
    eps : float, default 1e-8
        Added to :math:`\\sqrt{\\hat s}` so that a zero gradient does not divide by zero.
    weight_decay : float, default 0
        :math:`\\lambda \\ge 0`; every step first multiplies each weight by
        :math:`1 - \\eta\\lambda` (``torch.optim.AdamW``; with 0, ``torch.optim.Adam``).

    Shape
    -----
    ``step(grads)``: ``grads[i]`` has the shape of ``params[i]``.

    Examples
    --------
    The first step of Adam moves every weight by about ``lr``, whatever the gradient's scale:

    >>> w = np.zeros(3)
    >>> Adam([w], lr=0.1).step([np.array([1e-3, 1.0, -50.0])])
    >>> w.round(4)
    array([-0.1, -0.1,  0.1])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise TypeError(f"`betas` must be a pair of floats, got {betas!r}")
        self.betas = tuple(
            _check_rate(b, f"betas[{i}]", 0.0, 1.0, low_open=False) for i, b in enumerate(betas)
        )
        self.eps = _check_rate(eps, "eps", 0.0, low_open=False)
        self.weight_decay = _check_rate(weight_decay, "weight_decay", 0.0, low_open=False)
        self.m = [np.zeros_like(p) for p in self.params]  # running mean of g
        self.s = [np.zeros_like(p) for p in self.params]  # running mean of g**2

    def step(self, grads):
        """Update every parameter in place from its gradient."""
        grads = self._grads(grads)
        b1, b2 = self.betas
        for p, g, m, s in zip(self.params, grads, self.m, self.s, strict=True):
            p *= 1 - self.lr * self.weight_decay
            m *= b1
            m += (1 - b1) * g
            s *= b2
            s += (1 - b2) * g * g
            m_hat = m / (1 - b1**self.t)  # bias correction: m and s start at 0
            s_hat = s / (1 - b2**self.t)
            p -= self.lr * m_hat / (np.sqrt(s_hat) + self.eps)
