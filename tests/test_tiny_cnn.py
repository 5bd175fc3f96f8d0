"""cvlib.tiny_cnn (assignment 2's network) against numerical gradients, and its layers given as
an Ops, with functions replaced from modules as the grader does."""

import numpy as np

from cvlib import conv, layers, pool, tiny_cnn
from cvlib.gradcheck import numerical_gradient, rel_error
from cvlib.numpy_cnn import REFERENCE, Ops


def small_problem(seed=0):
    rng = np.random.default_rng(seed)
    x, target = rng.normal(size=(3, 1, 4, 4)), np.array([0, 1, 2])
    return x, target, tiny_cnn.init_params(1, 3, 4, filters=2, seed=seed + 1)


def test_gradients_match_numerical_gradient():
    x, target, params = small_problem()
    _, grads = tiny_cnn.loss_and_grads(params, x, target)
    for index in range(4):

        def loss_of(value, index=index):
            changed = list(params)
            changed[index] = value
            return np.array(tiny_cnn.loss_and_grads(changed, x, target)[0])

        numerical = numerical_gradient(loss_of, params[index])
        assert rel_error(grads[index], numerical) < 1e-6


def test_sgd_step_moves_each_parameter_against_its_gradient():
    x, target, params = small_problem(1)
    loss, grads = tiny_cnn.loss_and_grads(params, x, target)
    step_loss, new = tiny_cnn.sgd_step(params, x, target, 0.1)
    assert step_loss == loss
    for p, g, n in zip(params, grads, new, strict=True):
        np.testing.assert_allclose(n, p - 0.1 * g)


def test_layers_come_from_the_ops_and_modules_replace_them():
    x, target, params = small_problem(2)

    def no_relu_backward(dout, x):
        return dout

    class Forgetful:  # an object with some of the functions, as the grader's knock-outs
        relu_backward = staticmethod(no_relu_backward)

    expected = tiny_cnn.loss_and_grads(params, x, target, Ops(relu_backward=no_relu_backward))
    replaced = REFERENCE.replaced_from(conv, pool, Forgetful)
    by_module = tiny_cnn.loss_and_grads(params, x, target, replaced)
    right = tiny_cnn.loss_and_grads(params, x, target, REFERENCE.replaced_from(conv, pool, layers))
    for got, want in zip(by_module[1], expected[1], strict=True):
        np.testing.assert_array_equal(got, want)
    assert not np.allclose(right[1][0], expected[1][0])  # the knock-out changes the gradient
    assert REFERENCE.replaced_from(None, Forgetful).relu_backward is no_relu_backward
    assert REFERENCE.replaced_from(Forgetful).relu is REFERENCE.relu
