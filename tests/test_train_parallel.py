"""cvlib.train.parallel: runs spread over processes give the numbers of a plain loop, to the bit."""

import os

import pytest
import torch
from torch import nn

from cvlib.experiments import augmentation
from cvlib.train import Workers, fit_one_cycle, run_parallel, torch_threads
from cvlib.train.parallel import default_workers


def seeded_training(seed, channels_last):
    """A small conv net trained from ``seed``: the final weights as a list of tensors."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()
    )
    head = nn.Linear(4 * 4 * 4, 3)
    net = nn.Sequential(model, head)
    x, y = torch.rand(24, 1, 8, 8), torch.randint(0, 3, (24,))
    data = torch.utils.data.TensorDataset(x, y)

    def loss(m, xb, yb):
        return nn.functional.cross_entropy(m(xb), yb)

    fit_one_cycle(net, data, loss, 2, 1e-2, 8, seed, progress=False, channels_last=channels_last)
    return [p.detach().contiguous() for p in net.parameters()]


def one_step_gradients(channels_last):
    """The gradients of one `fit_one_cycle` step (lr 0: the weights stay put)."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 4, 3), nn.Flatten(), nn.Linear(4 * 2 * 2, 3),
    )  # fmt: skip
    data = torch.utils.data.TensorDataset(torch.rand(6, 3, 8, 8), torch.randint(0, 3, (6,)))
    seen = []

    def loss(m, xb, yb):
        seen.append(xb.is_contiguous(memory_format=torch.channels_last))
        return nn.functional.cross_entropy(m(xb), yb)

    fit_one_cycle(net, data, loss, 1, 1e-3, 6, progress=False, channels_last=channels_last)
    return seen, [p.grad.contiguous() for p in net.parameters()]


def test_channels_last_computes_the_same_gradients():
    seen_plain, plain = one_step_gradients(False)
    seen_fast, fast = one_step_gradients(True)
    assert seen_plain == [False] and seen_fast == [True]  # the layout really changed
    for a, b in zip(plain, fast, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)  # same maths, other summation order


@pytest.mark.slow
def test_parallel_runs_equal_a_serial_loop_bit_for_bit():
    jobs = [dict(seed=s, channels_last=True) for s in (0, 1, 2)]
    parallel = run_parallel(seeded_training, jobs, workers=2)
    with torch_threads(1):  # what every worker uses
        serial = [seeded_training(**job) for job in jobs]
    for run, ref in zip(parallel, serial, strict=True):
        for a, b in zip(run, ref, strict=True):
            assert torch.equal(a, b)


@pytest.mark.slow
def test_an_experiment_gives_the_same_figures_in_worker_processes(monkeypatch):
    settings = dict(n_train=20, seeds=(0, 1), epochs=2)
    monkeypatch.delenv("CVLIB_WORKERS", raising=False)
    if default_workers(4) < 2:
        pytest.fail("this test needs at least two cores to run worker processes")
    parallel = augmentation.run(**settings)
    monkeypatch.setenv("CVLIB_WORKERS", "1")
    serial = augmentation.run(**settings)
    assert parallel.accuracies == serial.accuracies


def fail(message):
    raise ValueError(message)


def test_workers_futures_carry_results_and_errors(monkeypatch):
    monkeypatch.setenv("CVLIB_WORKERS", "1")
    with Workers() as pool:
        assert pool.workers == 1
        assert pool.submit(pow, base=2, exp=5).result() == 32
        failing = pool.submit(fail, message="broken run")
        with pytest.raises(ValueError, match="broken run"):
            failing.result()


def test_bad_arguments(monkeypatch):
    with pytest.raises(TypeError, match="jobs\\[1\\]"):
        run_parallel(pow, [dict(base=1, exp=1), (1, 2)])
    with pytest.raises(ValueError, match="workers"):
        Workers(0)
    monkeypatch.setenv("CVLIB_WORKERS", "two")
    with pytest.raises(ValueError, match="CVLIB_WORKERS"):
        default_workers()
    monkeypatch.setenv("CVLIB_WORKERS", "3")
    assert default_workers(2) == 2 and default_workers() == 3
    assert os.environ["CVLIB_WORKERS"] == "3"


def test_pending_waits_for_every_run_and_keeps_their_order():
    from concurrent.futures import Future

    from cvlib.train import Pending

    futures = [Future() for _ in range(3)]
    for value, future in zip((3, 1, 2), futures, strict=True):
        future.set_result(value)
    assert Pending(futures).result() == [3, 1, 2]
    assert Pending(futures, finish=sorted).result() == [1, 2, 3]
    failed = Future()
    failed.set_exception(ValueError("a run failed"))
    with pytest.raises(ValueError, match="a run failed"):
        Pending([futures[0], failed]).result()
