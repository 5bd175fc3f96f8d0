"""cvlib.train.calibration against hand-computed examples, scipy's minimiser and torch's NLL."""

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar

from cvlib.train.calibration import expected_calibration_error, fit_temperature, reliability


def test_ece_hand_example():
    # five predictions, 4 bins of width 0.25:
    #   confidences 0.3 (right), 0.45 (wrong)  -> bin (0.25, 0.5]: conf 0.375, acc 0.5, gap 0.125
    #   confidence 0.7 (right)                 -> bin (0.5, 0.75]: conf 0.7,   acc 1,   gap 0.3
    #   confidences 0.8 (wrong), 1.0 (right)   -> bin (0.75, 1]:   conf 0.9,   acc 0.5, gap 0.4
    # ECE = (2 * 0.125 + 1 * 0.3 + 2 * 0.4) / 5 = 0.27
    probs = np.array(
        [
            [0.3, 0.2, 0.25, 0.25],
            [0.1, 0.45, 0.2, 0.25],
            [0.7, 0.1, 0.1, 0.1],
            [0.1, 0.8, 0.05, 0.05],
            [0.0, 0.0, 1.0, 0.0],
        ]
    )
    labels = np.array([0, 0, 0, 0, 2])
    r = reliability(probs, labels, n_bins=4)
    assert r.counts.tolist() == [0, 2, 1, 2]
    assert np.allclose(r.confidence[1:], [0.375, 0.7, 0.9])
    assert np.allclose(r.accuracy[1:], [0.5, 1.0, 0.5])
    assert np.isnan(r.confidence[0]) and np.isnan(r.accuracy[0])
    assert expected_calibration_error(probs, labels, n_bins=4) == pytest.approx(0.27)


def test_ece_is_zero_when_confidence_matches_accuracy():
    # ten predictions at confidence 0.7, seven of them right
    probs = np.tile([0.7, 0.3], (10, 1))
    labels = np.array([0] * 7 + [1] * 3)
    assert expected_calibration_error(probs, labels) == pytest.approx(0.0, abs=1e-12)


def nll(logits, labels, temperature):
    return torch.nn.functional.cross_entropy(
        torch.tensor(logits) / temperature, torch.tensor(labels)
    ).item()


@pytest.mark.parametrize("seed", range(5))
def test_temperature_minimises_nll_like_scipy(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, 300)
    logits = rng.normal(0, 1, (300, 5))
    logits[np.arange(300), labels] += rng.uniform(1, 3)  # informative, over- or under-confident
    logits *= rng.uniform(0.3, 6)
    reference = minimize_scalar(
        lambda log_t: nll(logits, labels, np.exp(log_t)),
        bounds=(-5, 5),
        method="bounded",
        options={"xatol": 1e-10},
    )
    temperature = fit_temperature(logits, labels)
    assert temperature == pytest.approx(np.exp(reference.x), rel=1e-4)
    assert nll(logits, labels, temperature) <= reference.fun + 1e-12


def test_temperature_hand_example():
    # right 3 times in 4, always with a margin of 4: the fitted probability is 3/4, so
    # sigmoid(4 / T) = 3/4 and T = 4 / ln 3
    logits = np.array([[4.0, 0.0], [4.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    assert fit_temperature(logits, np.array([0, 0, 1, 1])) == pytest.approx(4 / np.log(3))


@pytest.mark.parametrize(
    "call, error, name",
    [
        (lambda: reliability(np.ones(4), np.zeros(4, int)), ValueError, "probs"),
        (lambda: reliability([["a", "b"]], [0]), TypeError, "probs"),
        (lambda: reliability(np.ones((2, 3)), [0.5, 1.0]), ValueError, "labels"),
        (lambda: reliability(np.ones((2, 3)), [0, 3]), ValueError, "labels"),
        (lambda: reliability(np.ones((2, 3)), [0, 1], n_bins=0), ValueError, "n_bins"),
        (lambda: fit_temperature(np.ones((3, 2)), [0, 1, 0]), ValueError, "logits"),
    ],
)
def test_bad_input_names_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()
