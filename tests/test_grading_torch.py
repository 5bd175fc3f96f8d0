"""Grading helpers of assignments 3 to 5: right answers pass, typical mistakes fail with a hint.

Every check runs on fresh random inputs. The right answers are the instructor's solutions (the
notebooks' cells executed here), the mistakes the ones students make. No training happens here:
the trained-model checks are exercised with fixed models and thresholds on both sides of their
measured score (the training checks run in ``test_grading_submissions.py``, marked slow).
"""

import pytest
import torch
import torchvision
from nbgrader_submissions import namespace
from torch import nn

import cvlib.grading as G
from cvlib.detection.boxes import box_iou as cvlib_box_iou
from cvlib.detection.boxes import nms as cvlib_nms
from cvlib.grading.a5_detection import _exact_cases
from cvlib.grading.heldout import grader_seed, heldout_digits, heldout_shapes, perturb
from cvlib.models.lenet import LeNet5
from cvlib.train.transfer import load_pretrained

A3, A4, A5 = (namespace(name) for name in ("a3_cnn", "a4_transfer", "a5_detection"))


def fails(check, *args, match, **kwargs):
    with pytest.raises(AssertionError, match=match):
        check(*args, **kwargs)


@pytest.fixture(autouse=True)
def no_stderr(capsys):
    yield
    assert capsys.readouterr().err == ""


# --- assignment 3 --------------------------------------------------------------------------


def lenet_variant(**changes):
    """The solution's LeNet with some of its layers swapped (a class, like the answer)."""
    activation, pool, padding = (changes.get(k) for k in ("activation", "pool", "padding"))

    class Variant(nn.Module):
        def __init__(self, num_classes=10):
            super().__init__()
            act = activation or nn.ReLU
            self.net = nn.Sequential(
                nn.Conv2d(1, 6, 5, padding=padding or 0),
                act(),
                (pool or nn.MaxPool2d)(2),
                nn.Conv2d(6, 16, 5),
                act(),
                (pool or nn.MaxPool2d)(2),
                nn.Flatten(),
                nn.Linear(576 if padding else 400, 120),
                act(),
                nn.Linear(120, 84),
                act(),
                nn.Linear(84, num_classes),
                *changes.get("final", []),
            )

        def forward(self, x):
            return self.net(x)

    return Variant


class FunctionalLeNet(nn.Module):
    """LeNet-5 with pooling and activations as functional calls in forward (a correct answer)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = nn.functional.max_pool2d(nn.functional.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = self.fc2(self.fc1(x.flatten(1)).clamp(min=0)).relu()
        return self.fc3(x)


def test_lenet_passes_by_behaviour_and_mistakes_fail():
    G.check_lenet(A3["LeNet"], hidden=True)
    G.check_lenet(FunctionalLeNet, hidden=True)  # no pooling modules: still LeNet
    G.check_lenet(lenet_variant(pool=nn.AvgPool2d))  # LeNet's original average pooling
    fails(G.check_lenet, lenet_variant(padding=2), match=r"(?s)shape \(6, 32, 32\).*no padding")
    fails(G.check_lenet, lenet_variant(activation=nn.Identity), match="activation")
    fails(G.check_lenet, lenet_variant(activation=nn.Tanh), match="not tanh")
    fails(G.check_lenet, lenet_variant(final=[nn.Softmax(dim=1)]), match="not probabilities")
    fails(
        G.check_lenet,
        lambda num_classes=10: A3["LeNet"](num_classes=10),
        hidden=True,
        match=r"expected \(2, 3\)",
    )
    fails(G.check_lenet, LeNet5, match="called `cvlib.models.lenet.LeNet5")
    assert G.lenet_params(10) == sum(p.numel() for p in LeNet5().parameters())


def test_lenet_that_ignores_its_input_gets_nothing():
    class Blind(A3["LeNet"]):
        def forward(self, x):
            return super().forward(x * 0.0)

    fails(G.check_lenet, Blind, match="ignores its input")


def test_train_one_epoch_passes_and_mistakes_fail():
    G.check_train_one_epoch(A3["train_one_epoch"])
    right = A3["train_one_epoch"]

    def no_zero_grad(model, loader, optimizer, loss_fn):
        model.train()
        for x, y in loader:
            loss_fn(model(x), y).backward()
            optimizer.step()
        return 0.0

    def no_step(model, loader, optimizer, loss_fn):
        model.train()
        for x, y in loader:
            loss_fn(model(x), y).backward()
        return 0.0

    def no_train_mode(model, loader, optimizer, loss_fn):  # the model stays in eval mode
        total = 0.0
        for x, y in loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
        return total / len(loader.dataset)

    def mean_of_batches(model, loader, optimizer, loss_fn):
        model.train()
        losses = []
        for x, y in loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return sum(losses) / len(losses)

    def returns_tensor(model, loader, optimizer, loss_fn):
        right(model, loader, optimizer, loss_fn)
        return torch.tensor(1.0)

    fails(G.check_train_one_epoch, no_zero_grad, match="zero_grad")
    fails(G.check_train_one_epoch, no_step, match="did not change at all")
    fails(G.check_train_one_epoch, no_train_mode, match=r"Call model\.train\(\)")
    fails(G.check_train_one_epoch, mean_of_batches, match="last batch is smaller")
    fails(G.check_train_one_epoch, returns_tensor, match=r"loss\.item\(\)")


def test_evaluate_passes_and_mistakes_fail():
    right = A3["evaluate"]

    def percent(model, loader):
        return 100 * right(model, loader)

    def train_mode(model, loader):
        correct = sum((model(x).argmax(1) == y).sum().item() for x, y in loader)
        return correct / len(loader.dataset)

    G.check_evaluate(right)
    fails(G.check_evaluate, percent, match="percentage")
    fails(G.check_evaluate, train_mode, match=r"model\.eval\(\)", seed=3)


def test_trained_classifier_threshold_and_size_limit(capsys):
    torch.manual_seed(0)
    model = LeNet5()
    assert G.check_trained_classifier(model, threshold=0.0) is None  # never a partial score
    images, labels = heldout_digits()
    with torch.no_grad():
        accuracy = (model(images).argmax(1) == labels).double().mean().item()
    assert f"accuracy {accuracy:.3f} on held-out digits" in capsys.readouterr().out
    fails(G.check_trained_classifier, model, threshold=0.9, match="below the 90% needed")
    big = nn.Sequential(nn.Flatten(), nn.Linear(1024, 100), nn.Linear(100, 10))
    fails(G.check_trained_classifier, big, threshold=0.0, max_params=1000, match="at most")


def test_heldout_digits_are_the_test_split_moved():
    plain, labels = heldout_digits(seed=None)
    moved, same_labels = heldout_digits()
    assert torch.equal(labels, same_labels)
    assert not torch.equal(plain, moved)
    assert torch.equal(moved, perturb(plain, seed=grader_seed()))  # seeded: repeatable
    # every image keeps at least 80% of its ink unless the shift cut some off at the border
    ratio = moved.sum(dim=(1, 2, 3)) / plain.sum(dim=(1, 2, 3))
    assert ((ratio > 0.6) & (ratio <= 1.0 + 1e-6)).float().mean() > 0.95
    images, target = heldout_digits(classes=(5, 6, 7, 8, 9), size=28)
    assert images.shape[1:] == (1, 28, 28) and set(target.tolist()) == {0, 1, 2, 3, 4}


def test_the_graders_seed_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("CVLIB_HELDOUT_SEED", raising=False)
    default, _ = heldout_digits()
    assert grader_seed() == 82025
    monkeypatch.setenv("CVLIB_HELDOUT_SEED", "123")
    assert grader_seed() == 123
    rotated, _ = heldout_digits()
    assert not torch.equal(default, rotated)
    assert torch.equal(rotated, heldout_digits(seed=123)[0])
    assert not torch.equal(heldout_shapes()[0], heldout_shapes(seed=82025)[0])
    monkeypatch.setenv("CVLIB_HELDOUT_SEED", "not a number")
    with pytest.raises(ValueError, match="CVLIB_HELDOUT_SEED"):
        grader_seed()


# --- assignment 4 --------------------------------------------------------------------------


def test_augmentations_pass_and_mistakes_fail():
    G.check_hflip(A4["hflip"], hidden=True)
    G.check_hflip(lambda img: img[..., torch.arange(img.shape[-1] - 1, -1, -1)], hidden=True)
    G.check_brightness(A4["adjust_brightness"], hidden=True)
    G.check_random_crop(A4["random_crop"], hidden=True)
    fails(G.check_hflip, lambda img: img.flip(-2), match="vertical flip")
    fails(G.check_hflip, lambda img: img.flip(-1).double(), match="dtype")
    fails(G.check_hflip, torchvision.transforms.functional.hflip, match="called `torchvision")
    fails(G.check_brightness, lambda img, factor: img * factor, match="Clamp")
    fails(G.check_brightness, lambda img, factor: (img + factor).clamp(0, 1), match="multiplies")
    crop = A4["random_crop"]

    def left_first(img, size, padding, generator):
        img = nn.functional.pad(img, (padding,) * 4)
        h, w = img.shape[-2:]
        left = int(torch.randint(0, w - size + 1, (1,), generator=generator))
        top = int(torch.randint(0, h - size + 1, (1,), generator=generator))
        return img[..., top : top + size, left : left + size]

    def no_padding(img, size, padding, generator):
        return crop(img, size, 0, generator)

    fails(G.check_random_crop, left_first, match="first, then `left`", seed=1)
    fails(G.check_random_crop, no_padding, match="Pad the image", seed=1)


def test_prepare_transfer_passes_and_mistakes_fail():
    prepare = A4["prepare_transfer"]
    G.check_prepare_transfer(prepare, hidden=True)

    def head_only(model, num_classes, n_trainable):
        model.head = nn.Linear(64, num_classes)
        return model

    def reinitialised(model, num_classes, n_trainable):
        model = prepare(model, num_classes, n_trainable)
        nn.init.zeros_(model.features[0].weight)
        return model

    def counts_modules(model, num_classes, n_trainable):  # every module counts, ReLUs too
        prepare(model, num_classes, 0)
        for m in list(model.modules())[-n_trainable:]:
            for p in m.parameters(recurse=False):
                p.requires_grad_(True)
        return model

    fails(G.check_prepare_transfer, head_only, match="Everything trains")
    fails(G.check_prepare_transfer, reinitialised, match="changed the pretrained weights")
    fails(G.check_prepare_transfer, counts_modules, match="trainable parameters are")
    fails(G.check_prepare_transfer, lambda m, k, n: None, match="should return the model")


def _head_fitted_by_least_squares():
    """The pretrained base with a head solved in closed form on digits 5-9 (no training loop)."""
    from cvlib.data import class_subset, digits

    model = load_pretrained(num_classes=5).eval()
    images, labels = class_subset(digits(size=28, split="train"), (5, 6, 7, 8, 9)).tensors
    with torch.no_grad():
        features = model.features(images)  # (N, 64)
    x = torch.cat([features, torch.ones(len(features), 1)], dim=1).double()  # (N, 65)
    y = nn.functional.one_hot(labels, 5).double()  # (N, 5)
    w = torch.linalg.solve(x.T @ x + 1e-3 * torch.eye(65, dtype=x.dtype), x.T @ y)  # (65, 5)
    model.head.weight.data = w[:64].T.float()
    model.head.bias.data = w[64].float()
    return model


def test_transfer_result_compares_both_models(capsys):
    fitted = _head_fitted_by_least_squares()
    untrained = load_pretrained(num_classes=5)
    nn.init.zeros_(untrained.head.weight)
    nn.init.zeros_(untrained.head.bias)  # constant logits: always class 0 (the digit 5)
    share_of_fives = (heldout_digits(size=28, classes=(5, 6, 7, 8, 9))[1] == 0).double().mean()
    G.check_transfer_result(fitted, untrained, threshold=0.7, margin=0.3)
    assert f"from scratch {share_of_fives.item():.3f}" in capsys.readouterr().out
    fails(
        G.check_transfer_result,
        untrained,
        fitted,
        threshold=0.0,
        margin=0.02,
        match="should beat the model trained from scratch",
    )
    fails(G.check_transfer_result, untrained, untrained, threshold=0.5, match="below the 50%")


# --- assignment 5 --------------------------------------------------------------------------


def test_box_iou_passes_and_mistakes_fail():
    G.check_box_iou(A5["box_iou"], hidden=True)

    def area(x):
        return (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])

    def no_clamp(a, b):
        wh = torch.minimum(a[:, None, 2:], b[None, :, 2:]) - torch.maximum(
            a[:, None, :2], b[None, :, :2]
        )
        inter = wh[..., 0] * wh[..., 1]
        return inter / (area(a)[:, None] + area(b)[None, :] - inter)

    def no_minus(a, b):
        wh = (
            torch.minimum(a[:, None, 2:], b[None, :, 2:])
            - torch.maximum(a[:, None, :2], b[None, :, :2])
        ).clamp(min=0)
        return wh[..., 0] * wh[..., 1] / (area(a)[:, None] + area(b)[None, :])

    fails(G.check_box_iou, no_clamp, match="Clamp the width", seed=0)
    fails(G.check_box_iou, no_minus, match="overlap only once", seed=0)
    fails(G.check_box_iou, lambda a, b: A5["box_iou"](a, b).tolist(), match="torch.Tensor")
    fails(G.check_box_iou, cvlib_box_iou, match="called `cvlib.detection.boxes.box_iou`")
    fails(G.check_box_iou, torchvision.ops.box_iou, match="called `torchvision.ops.boxes.box_iou`")


def test_nms_keeps_a_box_at_the_threshold_like_torchvision():
    """The exact ties of the check: torchvision (an independent reference) keeps them too."""
    for boxes, scores, threshold in _exact_cases():
        expected = torchvision.ops.nms(boxes, scores, threshold).tolist()
        assert cvlib_nms(boxes, scores, threshold).tolist() == expected
    assert [torchvision.ops.nms(b, s, t).tolist() for b, s, t in _exact_cases()] == [
        [0, 1, 2, 3, 4],
        [0, 3, 4],
    ]


def test_nms_passes_and_mistakes_fail():
    G.check_nms(A5["nms"], hidden=True)
    iou = A5["box_iou"]

    def unsorted(boxes, scores, t):
        return A5["nms"](boxes, scores, t).sort().values

    def against_all_better(boxes, scores, t):  # drops boxes overlapping ANY better box
        order = torch.argsort(scores, descending=True, stable=True).tolist()
        overlaps = iou(boxes, boxes)
        keep = [i for n, i in enumerate(order) if all(overlaps[j, i] <= t for j in order[:n])]
        return torch.tensor(keep, dtype=torch.int64)

    def strict(boxes, scores, t):  # drops a box whose IoU EQUALS the threshold
        order = torch.argsort(scores, descending=True, stable=True).tolist()
        overlaps, keep = iou(boxes, boxes), []
        while order:
            best = order.pop(0)
            keep.append(best)
            order = [i for i in order if overlaps[best, i] < t]
        return torch.tensor(keep, dtype=torch.int64)

    def boxes_back(boxes, scores, t):
        return boxes[A5["nms"](boxes, scores, t)]

    fails(G.check_nms, unsorted, match="wrong order", seed=0)
    fails(G.check_nms, against_all_better, match="dropped too much", seed=0)
    fails(G.check_nms, strict, match="EQUALS the threshold", seed=0)
    fails(G.check_nms, boxes_back, match="indices of the kept boxes", seed=0)
    fails(G.check_nms, torchvision.ops.nms, match="called `torchvision.ops.boxes.nms`")


def test_nms_is_graded_on_its_own():
    """A broken box_iou in the notebook costs box_iou's points, not nms's too."""
    space = namespace("a5_detection")
    exec("def box_iou(a, b):\n    return torch.zeros(len(a), len(b))", space)
    G.check_nms(space["nms"], hidden=True)
    fails(G.check_box_iou, space["box_iou"], match="wrong values")


class MeanBox(nn.Module):
    def __init__(self, box):
        super().__init__()
        self.box = box

    def forward(self, x):
        return self.box.expand(len(x), 4)


def test_box_net_and_regressor_checks(capsys):
    G.check_box_net(A5["BoxNet"])
    G.check_box_net(lambda: nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 4), nn.Sigmoid()))
    fails(
        G.check_box_net,
        lambda: nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 4)),
        match="sigmoid",
    )
    fails(
        G.check_box_net,
        lambda: nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 5)),
        match=r"expected \(5, 4\)",
    )
    fails(G.check_box_net, lambda: MeanBox(torch.full((1, 4), 0.5)), match="ignores its input")
    _, boxes = heldout_shapes()
    model = MeanBox(torch.tensor([[0.25, 0.25, 0.75, 0.75]]))
    expected = cvlib_box_iou(torch.tensor([[8.0, 8.0, 24.0, 24.0]]), boxes).mean().item()
    assert G.check_box_regressor(model, threshold=0.0) is None
    assert f"mean IoU {expected:.3f} on 300 held-out shapes" in capsys.readouterr().out
    fails(G.check_box_regressor, model, threshold=0.6, match="below the 0.60 needed")


def test_max_pool_backward_reference_sends_ties_to_the_first_maximum_like_torch():
    """The convention the A2 check tests, against PyTorch (an independent reference)."""
    import numpy as np

    from cvlib.pool import max_pool2d_backward

    x = torch.tensor(np.round(np.random.default_rng(0).normal(size=(2, 3, 7, 7))).clip(-1, 1))
    x.requires_grad_(True)
    out = nn.functional.max_pool2d(x, 3, stride=2)
    dout = torch.randn_like(out)
    out.backward(dout)
    ours = max_pool2d_backward(dout.numpy(), x.detach().numpy(), 3, stride=2)
    assert np.allclose(ours, x.grad.numpy())


def test_training_utilities_stay_allowed_while_training_code_is_out_of_reach():
    import cvlib.train
    from cvlib.grading._student import call
    from cvlib.grading.tripwires import CVLIB_TRAINING, Watch

    def seeded():
        cvlib.train.set_seed(0)  # a utility, not the training: allowed
        return 1

    def fits():
        cvlib.train.fit(nn.Linear(1, 1), [(torch.zeros(1, 1), torch.zeros(1))], progress=False)

    assert call(seeded, "train", watch=Watch(CVLIB_TRAINING, "own loop")) == 1
    fails(call, fits, "train", watch=Watch(CVLIB_TRAINING, "own loop"), match="loop.fit`: own loop")


def test_training_data_must_be_read_in_the_main_process():
    from torch.utils.data import DataLoader

    from cvlib.grading._torch import CountedData

    data = CountedData(torch.zeros(8, 1), torch.zeros(8))
    assert len(list(DataLoader(data, batch_size=4))) == 2 and data.read == 8
    with pytest.raises(RuntimeError, match="without num_workers"):
        list(DataLoader(data, batch_size=4, num_workers=1))
