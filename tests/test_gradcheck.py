"""cvlib.gradcheck: centred differences against gradients known in closed form."""

import numpy as np
import pytest

from cvlib.gradcheck import numerical_gradient, rel_error


def test_gradient_of_known_functions():
    x = np.random.default_rng(0).standard_normal((3, 4))
    assert rel_error(numerical_gradient(np.sin, x), np.cos(x)) < 1e-8
    dout = np.random.default_rng(1).standard_normal((3, 4))
    assert rel_error(numerical_gradient(lambda v: v**3, x, dout), 3 * x**2 * dout) < 1e-8


def test_gradient_of_a_scalar_function_and_input_left_unchanged():
    a = np.array([[2.0, -1.0], [0.5, 3.0]])
    x = np.array([1.0, 2.0])
    before = x.copy()
    grad = numerical_gradient(lambda v: v @ a @ v, x)  # d/dx x^T A x = (A + A^T) x
    assert rel_error(grad, (a + a.T) @ x) < 1e-8
    assert np.array_equal(x, before)


def test_numerical_gradient_catches_a_wrong_backward():
    x = np.linspace(-1, 1, 7)
    wrong = 2 * x + 0.01  # a slightly wrong derivative of x**2
    assert rel_error(numerical_gradient(np.square, x), wrong) > 1e-3


def test_rel_error():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.array([1.0, 0.0]), np.array([1.0, 1e-12])) == pytest.approx(1e-12)
    assert rel_error(np.array([2.0]), np.array([1.0])) == pytest.approx(0.5)
    assert rel_error(np.array([1.0, -1.0]), np.array([-1.0, 1.0])) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="`a` and `b` must have the same shape"):
        rel_error(np.zeros(2), np.zeros(3))


def test_integer_input_is_differentiated_in_float64():
    grad = numerical_gradient(lambda v: v**2, np.array([1, 2, 3]))
    assert grad.dtype == np.float64 and rel_error(grad, [2.0, 4.0, 6.0]) < 1e-8
