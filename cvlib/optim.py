"""Stochastic gradient descent with momentum and weight decay, in numpy, as ``torch.optim.SGD``.

One step, for every parameter ``p`` with gradient ``grad`` (learning rate ``lr``, momentum
``mu``, dampening ``tau``, weight decay ``lambda``)::

    g = grad + lambda * p                                  # weight decay (L2 penalty)
    v = g                      on the first step          # the momentum buffer ("velocity")
    v = mu * v + (1 - tau) * g on the later ones
    g = v                      (or g + mu * v with Nesterov momentum)
    p = p - lr * g

Momentum keeps a running sum of past gradients, so steps grow along directions where the
gradient keeps its sign and cancel where it oscillates. The functions return new arrays and
leave their arguments untouched (PyTorch updates its tensors in place).
"""

import numbers

import numpy as np

from cvlib._validate import as_float_array, check_shape

__all__ = ["sgd"]


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
        if not _is_real(value) or not value >= 0:
            raise ValueError(f"`{name}` must be a number >= 0, got {value!r}")
    if not _is_real(dampening):
        raise ValueError(f"`dampening` must be a number, got {dampening!r}")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("Nesterov momentum needs `momentum` > 0 and `dampening` == 0")


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
