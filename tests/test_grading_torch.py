"""Grading helpers of assignments 3 to 5: right answers pass, typical mistakes fail with a hint.

Every check runs on fresh random inputs; the wrong answers are the mistakes students make. No
training happens here (the trained-model checks are exercised with fixed models and thresholds
on both sides of their measured score).
"""

import pytest
import torch
from torch import nn

import cvlib.grading as G
from cvlib.detection.boxes import box_iou as cvlib_box_iou
from cvlib.detection.boxes import nms as cvlib_nms
from cvlib.grading.heldout import heldout_digits, heldout_shapes, perturb
from cvlib.models.lenet import LeNet5
from cvlib.train.transfer import load_pretrained


def fails(check, *args, match, **kwargs):
    with pytest.raises(AssertionError, match=match):
        check(*args, **kwargs)


@pytest.fixture(autouse=True)
def no_stderr(capsys):
    yield
    assert capsys.readouterr().err == ""


# --- assignment 3 --------------------------------------------------------------------------


class PaddedLeNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(576, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.net(x)


class LinearLeNet(PaddedLeNet):
    """LeNet's layers without activations."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 6, 5),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(400, 120),
            nn.Linear(120, 84),
            nn.Linear(84, num_classes),
        )


def test_lenet_passes_and_mistakes_fail():
    G.check_lenet(LeNet5, hidden=True)
    fails(G.check_lenet, PaddedLeNet, match=r"(?s)output shape \(6, 32, 32\).*no padding")
    fails(G.check_lenet, LinearLeNet, match="activation")
    fails(
        G.check_lenet,
        lambda num_classes=10: LeNet5(num_classes=10),
        hidden=True,
        match=r"expected \(2, 3\)",
    )
    assert G.lenet_params(10) == sum(p.numel() for p in LeNet5().parameters())


def right_epoch(model, loader, optimizer, loss_fn):
    model.train()
    total, seen = 0.0, 0
    for x, y in loader:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        seen += len(y)
    return total / seen


def test_train_one_epoch_passes_and_mistakes_fail():
    G.check_train_one_epoch(right_epoch)

    def no_zero_grad(model, loader, optimizer, loss_fn):
        for x, y in loader:
            loss_fn(model(x), y).backward()
            optimizer.step()
        return 0.0

    def no_step(model, loader, optimizer, loss_fn):
        for x, y in loader:
            loss_fn(model(x), y).backward()
        return 0.0

    def mean_of_batches(model, loader, optimizer, loss_fn):
        losses = []
        for x, y in loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return sum(losses) / len(losses)

    def returns_tensor(model, loader, optimizer, loss_fn):
        right_epoch(model, loader, optimizer, loss_fn)
        return torch.tensor(1.0)

    fails(G.check_train_one_epoch, no_zero_grad, match="zero_grad")
    fails(G.check_train_one_epoch, no_step, match="did not change at all")
    fails(G.check_train_one_epoch, mean_of_batches, match="last batch is smaller")
    fails(G.check_train_one_epoch, returns_tensor, match=r"loss\.item\(\)")


def test_evaluate_passes_and_mistakes_fail():
    def right(model, loader):
        model.eval()
        with torch.no_grad():
            correct = sum((model(x).argmax(1) == y).sum().item() for x, y in loader)
        return correct / len(loader.dataset)

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
    assert torch.equal(moved, perturb(plain, seed=G.heldout.HELDOUT_SEED))  # seeded: repeatable
    # every image keeps at least 80% of its ink unless the shift cut some off at the border
    ratio = moved.sum(dim=(1, 2, 3)) / plain.sum(dim=(1, 2, 3))
    assert ((ratio > 0.6) & (ratio <= 1.0 + 1e-6)).float().mean() > 0.95
    images, target = heldout_digits(classes=(5, 6, 7, 8, 9), size=28)
    assert images.shape[1:] == (1, 28, 28) and set(target.tolist()) == {0, 1, 2, 3, 4}


# --- assignment 4 --------------------------------------------------------------------------


def random_crop(img, size, padding, generator):
    img = nn.functional.pad(img, (padding,) * 4)
    h, w = img.shape[-2:]
    top = int(torch.randint(0, h - size + 1, (1,), generator=generator))
    left = int(torch.randint(0, w - size + 1, (1,), generator=generator))
    return img[..., top : top + size, left : left + size]


def test_augmentations_pass_and_mistakes_fail():
    G.check_hflip(lambda img: img.flip(-1), hidden=True)
    G.check_brightness(lambda img, factor: (img * factor).clamp(0, 1), hidden=True)
    G.check_random_crop(random_crop, hidden=True)
    fails(G.check_hflip, lambda img: img.flip(-2), match="vertical flip")
    fails(G.check_hflip, lambda img: img.flip(-1).double(), match="dtype")
    fails(G.check_brightness, lambda img, factor: img * factor, match="Clamp")
    fails(G.check_brightness, lambda img, factor: (img + factor).clamp(0, 1), match="multiplies")

    def left_first(img, size, padding, generator):
        img = nn.functional.pad(img, (padding,) * 4)
        h, w = img.shape[-2:]
        left = int(torch.randint(0, w - size + 1, (1,), generator=generator))
        top = int(torch.randint(0, h - size + 1, (1,), generator=generator))
        return img[..., top : top + size, left : left + size]

    def no_padding(img, size, padding, generator):
        return random_crop(img, size, 0, generator)

    fails(G.check_random_crop, left_first, match="first, then `left`", seed=1)
    fails(G.check_random_crop, no_padding, match="Pad the image", seed=1)


def prepare(model, num_classes, n_trainable):
    for p in model.parameters():
        p.requires_grad_(False)
    model.head = nn.Linear(64, num_classes)
    layers = [m for m in model.modules() if list(m.parameters(recurse=False))]
    for m in layers[len(layers) - n_trainable :]:
        for p in m.parameters(recurse=False):
            p.requires_grad_(True)
    return model


def test_prepare_transfer_passes_and_mistakes_fail():
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


def right_iou(a, b):
    return cvlib_box_iou(a, b)


def test_box_iou_passes_and_mistakes_fail():
    G.check_box_iou(right_iou, hidden=True)

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
    fails(G.check_box_iou, lambda a, b: cvlib_box_iou(a, b).tolist(), match="torch.Tensor")


def test_nms_passes_and_mistakes_fail():
    G.check_nms(cvlib_nms, hidden=True)

    def unsorted(boxes, scores, t):
        return cvlib_nms(boxes, scores, t).sort().values

    def against_all_better(boxes, scores, t):  # drops boxes overlapping ANY better box
        order = torch.argsort(scores, descending=True, stable=True).tolist()
        iou = cvlib_box_iou(boxes, boxes)
        keep = [i for n, i in enumerate(order) if all(iou[j, i] <= t for j in order[:n])]
        return torch.tensor(keep, dtype=torch.int64)

    def boxes_back(boxes, scores, t):
        return boxes[cvlib_nms(boxes, scores, t)]

    fails(G.check_nms, unsorted, match="wrong order", seed=0)
    fails(G.check_nms, against_all_better, match="dropped too much", seed=0)
    fails(G.check_nms, boxes_back, match="indices of the kept boxes", seed=0)


class MeanBox(nn.Module):
    def __init__(self, box):
        super().__init__()
        self.box = box

    def forward(self, x):
        return self.box.expand(len(x), 4)


def test_box_net_and_regressor_checks(capsys):
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
    _, boxes = heldout_shapes()
    model = MeanBox(torch.tensor([[0.25, 0.25, 0.75, 0.75]]))
    expected = cvlib_box_iou(torch.tensor([[8.0, 8.0, 24.0, 24.0]]), boxes).mean().item()
    assert G.check_box_regressor(model, threshold=0.0) is None
    assert f"mean IoU {expected:.3f} on 300 held-out shapes" in capsys.readouterr().out
    fails(G.check_box_regressor, model, threshold=0.6, match="below the 0.60 needed")
