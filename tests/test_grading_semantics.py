"""Checks look at the inputs and at the meaning of a result, not only at thresholds (issue 20).

- Every check hands the student's function copies and compares the caller's inputs after the
  call, numpy arrays and torch tensors alike: a function that changes them in place fails.
- Assignment 6's gradient check must return the *relative* error its docstring defines: an
  absolute error passes no threshold test by luck, because the check compares the values on a
  network whose gradients are a hundred times smaller than 1.
"""

import numpy as np
import pytest
import torch

from cvlib.grading import GradingFailure, a6_capstone, check_brightness, check_nms
from cvlib.numpy_cnn import Params

# The names the check swaps for its references while the student's gradient_check runs.
loss_and_grads = cross_entropy = forward = numerical_gradient = None


def _gradient_check(relative):
    def gradient_check(params, stats, x, target, eps=1e-6):
        _, grads, _ = loss_and_grads(params, stats, x, target)
        errors = []
        for k, name in enumerate(params._fields):

            def loss(value, name=name):
                trial = params._replace(**{name: value})
                return cross_entropy(forward(trial, stats, x, True)[0], target)[0]

            numerical = numerical_gradient(loss, params[k], eps)
            scale = max(np.abs(grads[k]).max(), np.abs(numerical).max()) if relative else 1.0
            errors.append(0.0 if scale == 0 else np.abs(grads[k] - numerical).max() / scale)
        return Params(*errors)

    return gradient_check


@pytest.mark.parametrize("seed", range(4))
def test_the_gradient_check_must_return_the_relative_error(seed):
    a6_capstone.check_gradient_check(_gradient_check(relative=True), seed=seed)
    with pytest.raises(GradingFailure, match=r"the relative error|should report large errors"):
        a6_capstone.check_gradient_check(_gradient_check(relative=False), seed=seed)


def test_changing_the_callers_tensor_in_place_fails():
    check_brightness(lambda img, factor: (img * factor).clamp(0, 1))
    with pytest.raises(GradingFailure, match="changed its input `img` in place"):
        check_brightness(lambda img, factor: img.mul_(factor).clamp_(0, 1))


def _nms(overwrite):
    def nms(boxes, scores, iou_threshold):
        scores = scores if overwrite else scores.clone()
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        keep = []
        while bool((scores > -1).any()):
            best = int(scores.argmax())
            keep.append(best)
            top_left = torch.maximum(boxes[best, :2], boxes[:, :2])
            bottom_right = torch.minimum(boxes[best, 2:], boxes[:, 2:])
            overlap = (bottom_right - top_left).clamp(min=0).prod(dim=1)
            iou = overlap / (area[best] + area - overlap)
            scores[iou > iou_threshold] = -1
            scores[best] = -1
        return torch.tensor(keep, dtype=torch.long)

    return nms


def test_nms_that_overwrites_the_callers_scores_fails():
    check_nms(_nms(overwrite=False))
    with pytest.raises(GradingFailure, match="changed its input `scores` in place"):
        check_nms(_nms(overwrite=True))
