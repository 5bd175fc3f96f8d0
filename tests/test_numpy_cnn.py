"""cvlib.numpy_cnn against the same network in PyTorch (copied weights, float64, autograd) and
against numerical gradients of the whole network."""

import numpy as np
import pytest
import torch
from torch import nn

from cvlib.experiments.capstone import transposed_kernel_gradient
from cvlib.gradcheck import rel_error
from cvlib.nn import conv_bn_relu
from cvlib.numpy_cnn import (
    REFERENCE,
    Ops,
    Params,
    Stats,
    forward,
    gradient_check,
    init_params,
    loss_and_grads,
    predict,
)
from cvlib.optim import sgd

TOL = 1e-10
F = torch.nn.functional


def torch_twin(params, stats):
    """The capstone network in PyTorch (float64) with ``params`` and ``stats`` copied in."""
    c1, c2 = len(params.bn1_weight), len(params.bn2_weight)
    c_in, (k, features) = params.conv1_weight.shape[1], params.fc_weight.shape
    net = nn.Sequential(
        *conv_bn_relu(c_in, c1),
        nn.MaxPool2d(2),
        *conv_bn_relu(c1, c2),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(features, k),
    ).double()
    conv1, bn1, _, _, conv2, bn2, _, _, _, fc = net
    with torch.no_grad():
        for module, weight in ((conv1, params.conv1_weight), (conv2, params.conv2_weight)):
            module.weight.copy_(torch.tensor(weight))
        for bn, (w, b), (mean, var) in (
            (bn1, params[1:3], stats[0:2]),
            (bn2, params[4:6], stats[2:4]),
        ):
            bn.weight.copy_(torch.tensor(w))
            bn.bias.copy_(torch.tensor(b))
            bn.running_mean.copy_(torch.tensor(mean))
            bn.running_var.copy_(torch.tensor(var))
        fc.weight.copy_(torch.tensor(params.fc_weight))
        fc.bias.copy_(torch.tensor(params.fc_bias))
    tensors = Params(
        conv1.weight, bn1.weight, bn1.bias, conv2.weight, bn2.weight, bn2.bias, fc.weight, fc.bias
    )
    buffers = (bn1.running_mean, bn1.running_var, bn2.running_mean, bn2.running_var)
    return net, tensors, buffers


def random_network(seed, channels=(4, 6), num_classes=5, in_channels=2, size=8):
    """Parameters with random batch norm affine terms and running estimates, not the init's."""
    rng = np.random.default_rng(seed)
    params, stats = init_params(in_channels, num_classes, channels, seed=seed, size=size)
    params = params._replace(
        bn1_weight=rng.uniform(0.5, 1.5, channels[0]),
        bn1_bias=rng.normal(size=channels[0]),
        bn2_weight=rng.uniform(0.5, 1.5, channels[1]),
        bn2_bias=rng.normal(size=channels[1]),
        fc_bias=rng.normal(size=num_classes),
    )
    stats = Stats(*(rng.uniform(0.5, 2.0, len(s)) for s in stats))
    return params, stats, rng


@pytest.mark.parametrize(("size", "seed"), [(8, 0), ((12, 8), 1), (10, 2), (14, 5)])
def test_training_step_matches_torch(size, seed):
    params, stats, rng = random_network(seed, size=size)
    h, w = (size, size) if isinstance(size, int) else size
    x, target = rng.normal(size=(6, 2, h, w)), rng.integers(0, 5, size=6)
    loss, grads, new_stats = loss_and_grads(params, stats, x, target, momentum=0.1)
    net, tensors, buffers = torch_twin(params, stats)
    expected = F.cross_entropy(net.train()(torch.tensor(x)), torch.tensor(target))
    expected.backward()
    assert abs(loss - expected.item()) < TOL
    for name, g, t in zip(Params._fields, grads, tensors, strict=True):
        assert rel_error(g, t.grad.numpy()) < TOL, name
    for s, b in zip(new_stats, buffers, strict=True):
        assert rel_error(s, b.numpy()) < TOL


def test_evaluation_matches_torch_and_ignores_the_batch():
    params, stats, rng = random_network(3)
    x = rng.normal(size=(7, 2, 8, 8))
    net, _, _ = torch_twin(params, stats)
    expected = net.eval()(torch.tensor(x)).detach().numpy()
    assert rel_error(predict(params, stats, x), expected) < TOL
    one_by_one = predict(params, stats, x, batch_size=1)
    assert rel_error(one_by_one, expected) < TOL
    logits, same_stats, _ = forward(params, stats, x, False)
    assert rel_error(logits, expected) < TOL and same_stats == stats


def test_several_sgd_steps_follow_torch():
    """Forward, backward and SGD with momentum and weight decay, 5 steps, on both sides."""
    params, stats, rng = random_network(4)
    net, tensors, buffers = torch_twin(params, stats)
    optimizer = torch.optim.SGD(tensors, lr=0.05, momentum=0.9, weight_decay=5e-4)
    velocities = None
    for _ in range(5):
        x, target = rng.normal(size=(8, 2, 8, 8)), rng.integers(0, 5, size=8)
        loss, grads, stats = loss_and_grads(params, stats, x, target)
        params, velocities = sgd(
            params, grads, velocities, lr=0.05, momentum=0.9, weight_decay=5e-4
        )
        optimizer.zero_grad()
        expected = F.cross_entropy(net.train()(torch.tensor(x)), torch.tensor(target))
        expected.backward()
        optimizer.step()
        assert abs(loss - expected.item()) < 1e-9
    for p, t in zip(params, tensors, strict=True):
        assert rel_error(p, t.detach().numpy()) < 1e-9
    for s, b in zip(stats, buffers, strict=True):
        assert rel_error(s, b.numpy()) < 1e-9


def test_whole_network_gradients_match_numerical_ones():
    params, stats, rng = random_network(5, channels=(3, 4), num_classes=3, in_channels=1)
    x, target = rng.normal(size=(5, 1, 8, 8)), np.array([0, 1, 2, 1, 0])
    errors = gradient_check(params, stats, x, target)
    assert isinstance(errors, Params)
    assert max(errors) < 1e-6, errors


def test_the_gradient_check_catches_a_wrong_layer_and_names_it():
    params, stats, rng = random_network(6, channels=(3, 4), num_classes=3, in_channels=1)
    x, target = rng.normal(size=(5, 1, 8, 8)), np.array([0, 1, 2, 1, 0])
    errors = gradient_check(
        params, stats, x, target, Ops(conv2d_backward=transposed_kernel_gradient)
    )
    assert errors.conv1_weight > 1e-2 and errors.conv2_weight > 1e-2
    assert max(errors.fc_weight, errors.fc_bias, errors.bn2_bias) < 1e-6


def test_ops_are_used():
    """Every layer function comes from the Ops: a counting copy sees each of them called."""
    calls = []

    def counted(name):
        function = getattr(REFERENCE, name)

        def wrapper(*args, **kwargs):
            calls.append(name)
            return function(*args, **kwargs)

        return wrapper

    names = [n for n in Ops.__dataclass_fields__ if n != "sgd"]
    ops = Ops(**{n: counted(n) for n in names})
    params, stats = init_params(channels=(2, 3), seed=0, size=8)
    x = np.random.default_rng(0).random((4, 1, 8, 8))
    loss_and_grads(params, stats, x, np.arange(4), ops)
    assert sorted(set(calls)) == sorted(names)


def test_init_params_shapes_and_scales():
    params, stats = init_params(3, 7, (8, 12), seed=1)
    assert [p.shape for p in params] == [
        (8, 3, 3, 3),
        (8,),
        (8,),
        (12, 8, 3, 3),
        (12,),
        (12,),
        (7, 12 * 3 * 3),
        (7,),
    ]
    assert init_params(1, 4, (2, 5), size=(8, 13))[0].fc_weight.shape == (4, 5 * 2 * 3)
    assert np.std(init_params(1, 10, (8, 256), size=8)[0].fc_weight) == pytest.approx(
        np.sqrt(1 / (256 * 4)), rel=0.05
    )
    assert np.std(init_params(1, 10, (64, 256), seed=0)[0].conv2_weight) == pytest.approx(
        np.sqrt(2 / (9 * 64)), rel=0.02
    )
    assert all(np.all(s == v) for s, v in zip(stats, [0, 1, 0, 1], strict=True))
    again, _ = init_params(3, 7, (8, 12), seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(params, again, strict=True))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(in_channels=0), "`in_channels` must be a positive int"),
        (dict(num_classes=2.5), "`num_classes` must be a positive int"),
        (dict(channels=(4,)), "`channels` must be a pair"),
        (dict(channels=(4, -1)), "`channels` must be positive ints"),
        (dict(size=3), "`size` must be an int or a pair of ints, each at least 4"),
        (dict(size=(8, 8, 8)), "`size` must be an int or a pair"),
    ],
)
def test_init_params_names_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        init_params(**kwargs)


def test_forward_wants_params_and_stats():
    params, stats = init_params(channels=(2, 2), size=8)
    with pytest.raises(TypeError, match="`params` and `stats` must be a Params and a Stats"):
        forward(tuple(params), stats, np.zeros((2, 1, 8, 8)), True)


def test_predict_names_a_bad_batch_size():
    params, stats = init_params(channels=(2, 2), size=8)
    with pytest.raises(ValueError, match="`batch_size` must be a positive int"):
        predict(params, stats, np.zeros((2, 1, 8, 8)), batch_size=0)
