"""Calibration: does a classifier's confidence match how often it is right?

A classifier is **calibrated** when, of all the images it labels with confidence ``p`` (its
largest softmax probability), a share ``p`` is labelled correctly. The **reliability diagram**
sorts the images into ``M`` equal-width bins of confidence and plots, per bin ``B_m``, the
accuracy against the mean confidence; the **expected calibration error** is their gap, weighted
by the share of images in the bin (Naeini et al., 2015; Guo et al., 2017)::

    ECE = sum_m |B_m| / n * | acc(B_m) - conf(B_m) |

**Temperature scaling** (Guo et al., 2017) divides every logit by one number ``T > 0`` before
the softmax, ``softmax(z / T)``, with ``T`` chosen to minimise the negative log-likelihood on
held-out images. ``T > 1`` softens over-confident probabilities; the order of the logits, and
so every prediction and the accuracy, stays the same.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["Reliability", "expected_calibration_error", "fit_temperature", "reliability"]


def _as_2d(values, name):
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be an array of numbers") from None
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] < 2:
        raise ValueError(
            f"`{name}` must have shape (N, classes) with N >= 1 and at least two "
            f"classes, got {array.shape}"
        )
    return array


def _labels(labels, n, classes):
    labels = np.asarray(labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"`labels` must be {n} integers, got shape {labels.shape} of {labels.dtype}"
        )
    if labels.min() < 0 or labels.max() >= classes:
        raise ValueError(f"`labels` must lie in 0..{classes - 1}")
    return labels


@dataclass(frozen=True)
class Reliability:
    """Per-bin ``counts``, mean ``confidence`` and ``accuracy`` (NaN in empty bins), and the
    bin ``edges`` (``M + 1`` values from 0 to 1)."""

    edges: np.ndarray
    counts: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray

    @property
    def ece(self):
        """Expected calibration error: the count-weighted mean of ``|accuracy - confidence|``."""
        full = self.counts > 0
        gaps = np.abs(self.accuracy[full] - self.confidence[full])
        return float(np.sum(self.counts[full] * gaps) / self.counts.sum())


def reliability(probs, labels, n_bins=10):
    """Bin the predictions by confidence, as the reliability diagram does.

    Bin ``m`` holds the confidences in ``(m / M, (m + 1) / M]`` (the first bin also holds 0).

    Parameters
    ----------
    probs : array, shape (N, classes)
        Predicted probabilities (rows of a softmax).
    labels : array of int, shape (N,)
    n_bins : int, default 10

    Returns
    -------
    Reliability

    Examples
    --------
    >>> r = reliability([[0.9, 0.1], [0.6, 0.4]], [0, 1], n_bins=5)
    >>> r.counts.tolist(), round(r.ece, 2)
    ([0, 0, 1, 0, 1], 0.35)
    """
    probs = _as_2d(probs, "probs")
    labels = _labels(labels, *probs.shape)
    if not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"`n_bins` must be a positive integer, got {n_bins!r}")
    confidence = probs.max(axis=1)  # (N,)
    correct = probs.argmax(axis=1) == labels  # (N,)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, confidence) - 1, 0, n_bins - 1)  # bin of each, (N,)
    counts = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore"):
        mean_conf = np.bincount(which, confidence, minlength=n_bins) / counts
        accuracy = np.bincount(which, correct.astype(float), minlength=n_bins) / counts
    return Reliability(edges, counts, mean_conf, accuracy)


def expected_calibration_error(probs, labels, n_bins=10):
    """``reliability(probs, labels, n_bins).ece``: see :func:`reliability`.

    Examples
    --------
    >>> round(expected_calibration_error([[0.9, 0.1], [0.6, 0.4]], [0, 1], n_bins=5), 2)
    0.35
    """
    return reliability(probs, labels, n_bins).ece


def _nll_and_derivatives(beta, logits, labels):
    """Mean NLL of ``softmax(beta * z)`` and its first two derivatives in ``beta = 1 / T``."""
    scaled = beta * logits  # (N, K)
    scaled -= scaled.max(axis=1, keepdims=True)
    p = np.exp(scaled)
    p /= p.sum(axis=1, keepdims=True)  # softmax(beta z), (N, K)
    log_z = np.log(np.exp(scaled).sum(axis=1)) + (beta * logits).max(axis=1)  # (N,)
    true = logits[np.arange(len(labels)), labels]  # (N,)
    mean_z = (p * logits).sum(axis=1)  # E_p[z], (N,)
    var_z = (p * logits**2).sum(axis=1) - mean_z**2  # Var_p[z] >= 0, (N,)
    return np.mean(log_z - beta * true), np.mean(mean_z - true), np.mean(var_z)


def fit_temperature(logits, labels, tol=1e-10, max_iter=100):
    """The temperature ``T`` that minimises the mean negative log-likelihood of
    ``softmax(logits / T)`` on ``labels``.

    The NLL is convex in ``beta = 1 / T`` (its second derivative is the mean variance of the
    logits under the softmax), so Newton's method on ``beta``, from ``beta = 1``, finds the
    minimum; a step that would make ``beta`` negative is halved instead.

    Parameters
    ----------
    logits : array, shape (N, classes)
        Held-out (validation) logits; fitting on the test images would report a flattered ECE.
    labels : array of int, shape (N,)
    tol : float
        Stop when a Newton step changes ``beta`` by less than this.
    max_iter : int

    Returns
    -------
    float
        ``T > 0``.

    Examples
    --------
    >>> z = np.array([[4.0, 0.0], [4.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    >>> round(fit_temperature(z, np.array([0, 0, 1, 1])), 3)  # right 3 times in 4: p = 0.75
    3.641
    """
    logits = _as_2d(logits, "logits")
    labels = _labels(labels, *logits.shape)
    beta = 1.0
    for _ in range(max_iter):
        _, slope, curvature = _nll_and_derivatives(beta, logits, labels)
        if curvature <= 0:
            raise ValueError("`logits` are equal within every row: no temperature changes them")
        step = slope / curvature
        while beta - step <= 0:
            step /= 2
        beta -= step
        if abs(step) < tol:
            break
    return float(1.0 / beta)
