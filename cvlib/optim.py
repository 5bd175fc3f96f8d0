"""Gradient descent, momentum and Adam in numpy: the update rules of ``torch.optim``, by hand.

Two forms of the same rules:

- :func:`sgd`, functional: one step of SGD over a sequence of parameters, returning new arrays
  and new velocities and leaving its arguments untouched (assignment 6's numpy training loop,
  :mod:`cvlib.numpy_training`, uses it);
- :class:`SGD` and :class:`Adam`, stateful: an optimiser holds a list of parameter arrays and
  updates them **in place** from their gradients, one ``step(grads)`` at a time, the way
  ``torch.optim`` does. :meth:`SGD.step` does its arithmetic through :func:`sgd`.

The rules, for a parameter :math:`\\theta` with gradient :math:`g` at step :math:`t = 1, 2, \\dots`
(learning rate :math:`\\eta`, momentum :math:`\\mu`, dampening :math:`\\tau`, weight decay
:math:`\\lambda`)::

    g = g + lambda * theta                                 # weight decay (L2 penalty)
    v = g                      on the first step          # the momentum buffer ("velocity")
    v = mu * v + (1 - tau) * g on the later ones
    g = v                      (or g + mu * v with Nesterov momentum)
    theta = theta - eta * g

Momentum keeps a running sum of past gradients, so steps grow along directions where the
gradient keeps its sign and cancel where it oscillates. :class:`Adam` (Kingma and Ba, 2015) keeps
running means of the gradient and of its square,
:math:`m \\leftarrow \\beta_1 m + (1 - \\beta_1) g`, :math:`u \\leftarrow \\beta_2 u +
(1 - \\beta_2) g^2`, corrected for their start at zero, :math:`\\hat m = m / (1 - \\beta_1^t)`,
:math:`\\hat u = u / (1 - \\beta_2^t)`, and steps
:math:`\\theta \\leftarrow \\theta - \\eta\\, \\hat m / (\\sqrt{\\hat u} + \\epsilon)`.

Weight decay :math:`\\lambda` shrinks every weight towards zero. In SGD it is the gradient of
:math:`\\tfrac{\\lambda}{2}\\lVert\\theta\\rVert^2` added to :math:`g` (as
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

import numpy as np

from cvlib._validate import as_float_array, check_shape, is_real

__all__ = ["SGD", "Adam", "sgd"]


def sgd(
    params,
    grads,
    velocities=None,
    *,
    lr,
    momentum=0.0,
    dampening=0.0,
    weight_decay=0.0,
    nesterov=False,
):
    """One step of SGD over a sequence of parameters: ``(new_params, new_velocities)``.

    The same arithmetic as ``torch.optim.SGD(params, lr, momentum, dampening, weight_decay,
    nesterov)``; the velocities are its ``momentum_buffer`` entries.

    Parameters
    ----------
    params, grads : sequence of ndarray
        The parameters and their gradients, pairwise of the same shape. A named tuple comes back
        as the same named tuple.
    velocities : sequence of ndarray, optional
        The velocities the previous step returned; ``None`` on the first step (the velocity then
        starts as the gradient itself, as in PyTorch).
    lr : float >= 0
        Learning rate.
    momentum : float >= 0, default 0
        ``mu``; 0 is plain gradient descent.
    dampening : float, default 0
        ``tau``, the share of the new gradient left out of the velocity.
    weight_decay : float >= 0, default 0
        ``lambda``, the L2 penalty's coefficient, added to each gradient as ``lambda * p``.
    nesterov : bool, default False
        Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).

    Returns
    -------
    new_params : same container type as ``params``
    new_velocities : same container type as ``params``, or None when ``momentum == 0``

    Raises
    ------
    TypeError, ValueError
        On a non-array entry, sequences of different lengths, a gradient or velocity shaped
        unlike its parameter, or a hyperparameter out of range.

    Shape
    -----
    params[i], grads[i], velocities[i] : any shape, the same for the three.

    Examples
    --------
    >>> p, v = sgd([np.array([1.0, 2.0])], [np.array([0.5, -1.0])], lr=0.1, momentum=0.9)
    >>> p[0], v[0]
    (array([0.95, 2.1 ]), array([ 0.5, -1. ]))
    >>> p, v = sgd(p, [np.array([0.5, -1.0])], v, lr=0.1, momentum=0.9)
    >>> p[0], v[0]  # v = 0.9 * v + g
    (array([0.855, 2.29 ]), array([ 0.95, -1.9 ]))
    """
    arrays, grads, velocities = _check(params, grads, velocities, momentum)
    _check_hyper(lr, momentum, dampening, weight_decay, nesterov)
    new_params, new_velocities = [], []
    for k, (p, g) in enumerate(zip(arrays, grads, strict=True)):
        if weight_decay:
            g = g + weight_decay * p
        if momentum:
            v = g if velocities is None else momentum * velocities[k] + (1 - dampening) * g
            new_velocities.append(v)
            g = g + momentum * v if nesterov else v
        new_params.append(p - lr * g)
    kind = _container(params)
    return kind(new_params), kind(new_velocities) if momentum else None


def _container(params):
    """The constructor that rebuilds ``params``' type from a list (named tuples keep names)."""
    if isinstance(params, tuple) and hasattr(type(params), "_make"):
        return type(params)._make
    return tuple if isinstance(params, tuple) else list


def _check(params, grads, velocities, momentum):
    """The three sequences as lists of float arrays (``None`` velocities stay ``None``)."""
    if velocities is not None and not momentum:
        raise ValueError("`velocities` were given but `momentum` is 0: there is nothing to carry")
    checked = [_arrays(params, "params", None)]
    checked.append(_arrays(grads, "grads", checked[0]))
    checked.append(None if velocities is None else _arrays(velocities, "velocities", checked[0]))
    return checked


def _arrays(seq, name, like):
    """``seq`` as a list of float arrays, shaped entry by entry like ``like`` (if given)."""
    if isinstance(seq, np.ndarray) or not isinstance(seq, tuple | list):
        raise TypeError(f"`{name}` must be a list or tuple of arrays, got {type(seq).__name__}")
    arrays = [as_float_array(a, f"{name}[{k}]") for k, a in enumerate(seq)]
    if like is not None:
        if len(arrays) != len(like):
            raise ValueError(f"`{name}` has {len(arrays)} entries but `params` has {len(like)}")
        for k, (a, p) in enumerate(zip(arrays, like, strict=True)):
            check_shape(a, f"{name}[{k}]", p.shape, f"the shape of `params[{k}]`")
    return arrays


def _check_hyper(lr, momentum, dampening, weight_decay, nesterov):
    for name, value in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
        if not is_real(value) or not value >= 0:
            raise ValueError(f"`{name}` must be a number >= 0, got {value!r}")
    if not is_real(dampening):
        raise ValueError(f"`dampening` must be a number, got {dampening!r}")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("Nesterov momentum needs `momentum` > 0 and `dampening` == 0")


def _check_rate(value, name, low=0.0, high=None, low_open=True):
    """``value`` as a float in (low, high) (or [low, ...) when ``low_open`` is False)."""
    if not is_real(value):
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
            g = np.array(g, dtype=p.dtype)  # a copy: a velocity may keep it
            if g.shape != p.shape:
                raise ValueError(f"`grads[{i}]` has shape {g.shape} but its parameter {p.shape}")
            out.append(g)
        self.t += 1
        return out


class SGD(_Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay (``torch.optim.SGD``).

    The in-place, stateful form of :func:`sgd`: every :meth:`step` calls :func:`sgd` with the
    velocities it returned last time and copies the new parameters into the arrays given here.

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
    dampening : float, default 0
        :math:`\\tau`, the share of the new gradient left out of the velocity.
    nesterov : bool, default False
        Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).

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

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, dampening=0.0, nesterov=False):
        super().__init__(params, lr)
        self.momentum = _check_rate(momentum, "momentum", 0.0, 1.0, low_open=False)
        self.weight_decay = _check_rate(weight_decay, "weight_decay", 0.0, low_open=False)
        self.dampening = dampening
        self.nesterov = nesterov
        _check_hyper(self.lr, self.momentum, dampening, self.weight_decay, nesterov)
        self.velocity = None  # sgd's velocities: None until the first step with momentum

    def step(self, grads):
        """Update every parameter in place from its gradient."""
        new, self.velocity = sgd(
            self.params,
            self._grads(grads),
            self.velocity,
            lr=self.lr,
            momentum=self.momentum,
            dampening=self.dampening,
            weight_decay=self.weight_decay,
            nesterov=self.nesterov,
        )
        for p, n in zip(self.params, new, strict=True):
            p[...] = n


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
        Added to :math:`\\sqrt{\\hat u}` so that a zero gradient does not divide by zero.
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
        self.u = [np.zeros_like(p) for p in self.params]  # running mean of g**2

    def step(self, grads):
        """Update every parameter in place from its gradient."""
        grads = self._grads(grads)
        b1, b2 = self.betas
        for p, g, m, u in zip(self.params, grads, self.m, self.u, strict=True):
            p *= 1 - self.lr * self.weight_decay
            m *= b1
            m += (1 - b1) * g
            u *= b2
            u += (1 - b2) * g * g
            m_hat = m / (1 - b1**self.t)  # bias correction: m and u start at 0
            u_hat = u / (1 - b2**self.t)
            p -= self.lr * m_hat / (np.sqrt(u_hat) + self.eps)
