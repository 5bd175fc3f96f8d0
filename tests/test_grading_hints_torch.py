"""Each hint of the PyTorch assignments' checks (3, 4 and 5) is chosen by what the wrong answer
looks like: for every hint, one wrong answer that earns it and one (also wrong) that must not.

The wrong answers are the instructor's solutions (``nbgrader_submissions.solutions``) with one
or two lines changed the way students get them wrong; ``HINTS`` is the table the issue asks for
(issue 24), continuing ``test_grading_hints.py``'s for assignments 1, 2 and 6.
"""

import pytest
import torch
from nbgrader_submissions import namespace, solutions
from torch import nn

import cvlib.grading as G


def edited(name, grade_id, *edits):
    """The instructor's answer ``grade_id`` with ``(old, new)`` edits, defined as the notebook
    would define it (among the notebook's imports and other answers)."""
    source = solutions(name)[grade_id]
    for old, new in edits:
        assert old in source, old
        source = source.replace(old, new)
    before = namespace(name)
    space = dict(before)
    exec(compile(source, f"<{grade_id}>", "exec"), space)
    (defined,) = [value for key, value in space.items() if before.get(key) is not value]
    return defined


def message_of(check, fn, seed):
    """The failure message of ``check(fn, seed=seed)`` (the answer must fail)."""
    with pytest.raises(AssertionError) as info:
        check(fn, seed=seed)
    return str(info.value)


# --- assignment 3: LeNet -----------------------------------------------------------------------


def lenet(model_fn, seed):
    """check_lenet draws no seed: its inputs are torch's, seeded here."""
    torch.manual_seed(seed)
    G.check_lenet(model_fn)


def a3(grade_id, *edits):
    return edited("a3_cnn", grade_id, *edits)


FIRST_CONV = "nn.Conv2d(1, 6, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),"
SECOND_CONV = "nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),"
PADDED = a3(  # LeNet's convolutions with 'same' padding (the flattened size adjusted to match)
    "lenet",
    ("nn.Conv2d(1, 6, kernel_size=5)", "nn.Conv2d(1, 6, kernel_size=5, padding=2)"),
    ("nn.Linear(16 * 5 * 5, 120)", "nn.Linear(16 * 6 * 6, 120)"),
)
POOL_STRIDE_1 = a3(
    "lenet",
    ("nn.MaxPool2d(2)", "nn.MaxPool2d(2, stride=1)"),
    ("nn.Linear(16 * 5 * 5, 120)", "nn.Linear(16 * 22 * 22, 120)"),
)
EIGHT_FILTERS = a3(
    "lenet",
    ("nn.Conv2d(1, 6, kernel_size=5)", "nn.Conv2d(1, 8, kernel_size=5)"),
    ("nn.Conv2d(6, 16", "nn.Conv2d(8, 16"),
)
END = "return self.classifier(torch.flatten(x, 1))"
SOFTMAX = a3("lenet", (END, f"{END}.softmax(dim=1)"))
LOG_SOFTMAX = a3("lenet", (END, f"{END}.log_softmax(dim=1)"))
TANH = a3("lenet", ("nn.ReLU()", "nn.Tanh()"))
SIGMOID = a3("lenet", ("nn.ReLU()", "nn.Sigmoid()"))
NO_ACTIVATION = a3("lenet", ("nn.ReLU()", "nn.Identity()"))
RELU_MISSING = [
    a3("lenet", (FIRST_CONV, FIRST_CONV.replace(" nn.ReLU(),", ""))),
    a3("lenet", (SECOND_CONV, SECOND_CONV.replace(" nn.ReLU(),", ""))),
    a3("lenet", ("nn.Linear(16 * 5 * 5, 120), nn.ReLU(),", "nn.Linear(16 * 5 * 5, 120),")),
    a3("lenet", ("nn.Linear(120, 84), nn.ReLU(),", "nn.Linear(120, 84),")),
]
NOT_A_MODULE = a3("lenet", ("class LeNet(nn.Module):", "class LeNet:"))


class DenseAsConvolutions(nn.Module):
    """LeNet-5 without activations whose first dense layer is a 5x5 convolution (as in the
    original paper's C5): its weights are not laid out as the check looks for them."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.c1, self.c3 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6, self.out = nn.Linear(120, 84), nn.Linear(84, num_classes)

    def forward(self, x):
        x = nn.functional.max_pool2d(self.c3(nn.functional.max_pool2d(self.c1(x), 2)), 2)
        return self.out(self.f6(self.c5(x).flatten(1)))


# --- assignment 3: one epoch and the accuracy -------------------------------------------------


NO_STEP = a3("train_one_epoch", ("optimizer.step()", "pass  # optimizer.step() forgotten"))
NO_TRAIN_MODE = a3("train_one_epoch", ("model.train()", "pass  # model.train() forgotten"))
NO_ZERO_GRAD = a3("train_one_epoch", ("optimizer.zero_grad()", "pass  # zero_grad forgotten"))
LOSS_TENSOR = a3(
    "train_one_epoch", ("total += loss.item() * len(labels)", "total += loss * len(labels)")
)
LAST_LOSS = a3("train_one_epoch", ("return total / seen", "return loss.item()"))
MEAN_OF_BATCHES = a3(
    "train_one_epoch",
    ("total += loss.item() * len(labels)", "total += loss.item()"),
    ("seen += len(labels)", "seen += 1"),
)
COUNTED = "correct += (model(images).argmax(dim=1) == labels).sum().item()"
NO_EVAL_MODE = a3("evaluate", ("model.eval()", "pass  # model.eval() forgotten"))
PERCENT = a3("evaluate", ("return correct / seen", "return 100 * correct / seen"))
COUNT = a3("evaluate", ("return correct / seen", "return correct"))
MEAN_OF_BATCH_ACCURACIES = a3(
    "evaluate",
    (COUNTED, "correct += (model(images).argmax(dim=1) == labels).float().mean().item()"),
    ("seen += len(labels)", "seen += 1"),
)
ACCURACY_TENSOR = a3("evaluate", (COUNTED, COUNTED.replace(".sum().item()", ".sum()")))

# --- assignment 4 ------------------------------------------------------------------------------


def a4(grade_id, *edits):
    return edited("a4_transfer", grade_id, *edits)


VERTICAL = a4("hflip", ("img.flip(-1)", "img.flip(-2)"))
HALF_TURN = a4("hflip", ("img.flip(-1)", "img.flip(-2, -1)"))
FIRST_AXIS_TOO = a4("hflip", ("img.flip(-1)", "img.flip(0, -1)"))  # channels, or the batch
DOUBLE = a4("hflip", ("img.flip(-1)", "img.flip(-1).double()"))
UNCLAMPED = a4("adjust_brightness", ("(img * factor).clamp(0.0, 1.0)", "img * factor"))
ADDED = a4("adjust_brightness", ("(img * factor)", "(img + factor)"))
DRAWS = (
    "    top = int(torch.randint(0, h - size + 1, (1,), generator=generator))\n"
    "    left = int(torch.randint(0, w - size + 1, (1,), generator=generator))"
)
LEFT_FIRST = a4("random_crop", (DRAWS, "\n".join(DRAWS.split("\n")[::-1])))
UNPADDED = a4(
    "random_crop",
    ("img = nn.functional.pad(img, (padding, padding, padding, padding))", "img = img"),
)


def prepare(fn, seed):
    """check_prepare_transfer has no random inputs: the seed is not used."""
    G.check_prepare_transfer(fn)


EVERYTHING_TRAINS = a4("prepare_transfer", ("p.requires_grad_(False)", "pass"))
NOTHING_TRAINS = a4(  # the head replaced before the freezing; a module's attribute set, not its
    "prepare_transfer",  # parameters' flags
    (
        "    for p in model.parameters():\n        p.requires_grad_(False)\n"
        "    model.head = nn.Linear(model.head.in_features, num_classes)\n",
        "    model.head = nn.Linear(model.head.in_features, num_classes)\n"
        "    for p in model.parameters():\n        p.requires_grad_(False)\n",
    ),
    (
        "        for p in layer.parameters(recurse=False):\n            p.requires_grad_(True)",
        "        layer.requires_grad = True",
    ),
)

# --- assignment 5 ------------------------------------------------------------------------------


def a5(grade_id, *edits):
    return edited("a5_detection", grade_id, *edits)


NO_CLAMP = a5("box_iou", ("(bottom_right - top_left).clamp(min=0)", "(bottom_right - top_left)"))
NO_MINUS = a5("box_iou", ("area_b[None, :] - inter", "area_b[None, :]"))
PLUS_ONE = a5(  # pixel-index boxes: x2 is the last pixel inside
    "box_iou",
    (
        "(a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])",
        "(a[:, 2] - a[:, 0] + 1) * (a[:, 3] - a[:, 1] + 1)",
    ),
    (
        "(b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])",
        "(b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)",
    ),
    ("(bottom_right - top_left).clamp(min=0)", "(bottom_right - top_left + 1).clamp(min=0)"),
)
IOU_TRANSPOSED = a5("box_iou", ("return inter / union", "return (inter / union).T"))
IOU_NUMPY = a5("box_iou", ("return inter / union", "return (inter / union).numpy()"))
IOU_FLAT = a5("box_iou", ("return inter / union", "return (inter / union).flatten()"))
KEEP = "return torch.tensor(keep, dtype=torch.int64)"
BY_INDEX = a5("nms", (KEEP, "return torch.tensor(sorted(keep), dtype=torch.int64)"))
STRICT = a5("nms", ("iou[best, i] <= iou_threshold", "iou[best, i] < iou_threshold"))
FIRST_KEPT_ONLY = a5("nms", ("iou[best, i] <= iou_threshold", "iou[keep[0], i] <= iou_threshold"))
ANY_BETTER = a5(  # a box dropped by a better box that was itself dropped
    "nms",
    (
        "    keep = []\n"
        "    while order:\n"
        "        best = order.pop(0)\n"
        "        keep.append(best)\n"
        "        order = [i for i in order if iou[best, i] <= iou_threshold]\n",
        "    keep = [i for n, i in enumerate(order)\n"
        "            if all(iou[j, i] <= iou_threshold for j in order[:n])]\n",
    ),
)
BOXES_BACK = a5("nms", (KEEP, "return boxes[keep]"))
LIST_BACK = a5("nms", (KEEP, "return keep"))
FLOAT_INDICES = a5("nms", (KEEP, "return torch.tensor(keep, dtype=torch.float32)"))


def box_net(model_fn, seed):
    """check_box_net draws no seed: the network's initial weights are torch's, seeded here."""
    torch.manual_seed(seed)
    G.check_box_net(model_fn)


NO_SIGMOID = a5(
    "box_net",
    ("return torch.sigmoid(self.head(self.features(x)))", "return self.head(self.features(x))"),
)
BLIND = a5("box_net", ("self.features(x)", "self.features(x * 0.0)"))

# --- the table: (check, hint, a wrong answer that earns it, a wrong answer that must not) ------

PLACES = ("first convolution", "second convolution", "first dense layer", "second dense layer")
HINTS = {
    # assignment 3
    "LeNet, padded convolutions": (
        lenet,
        "The channels are right but the size is not",
        PADDED,
        EIGHT_FILTERS,
    ),
    "LeNet, pooling stride 1": (
        lenet,
        "followed by a 2x2 pooling with stride 2",
        POOL_STRIDE_1,
        PADDED,
    ),
    "LeNet, softmax": (lenet, "not probabilities", SOFTMAX, LOG_SOFTMAX),
    "LeNet, log-softmax": (lenet, "no log-softmax at the end", LOG_SOFTMAX, SOFTMAX),
    "LeNet, tanh": (lenet, "not tanh", TANH, SIGMOID),
    "LeNet, sigmoid": (lenet, "not the sigmoid", SIGMOID, TANH),
    "LeNet, no activations": (lenet, "Put a ReLU after each", NO_ACTIVATION, TANH),
    "LeNet, no activations (weights laid out otherwise)": (
        lenet,
        "Put a ReLU after each",
        DenseAsConvolutions,
        TANH,
    ),
    **{
        f"LeNet, no ReLU after the {place}": (
            lenet,
            f"The ReLU after the {place} is missing",
            RELU_MISSING[i],
            RELU_MISSING[i - 1],
        )
        for i, place in enumerate(PLACES)
    },
    "LeNet, not a Module": (lenet, "Did you subclass nn.Module?", NOT_A_MODULE, SOFTMAX),
    "train_one_epoch, no step": (
        G.check_train_one_epoch,
        "The weights did not change at all",
        NO_STEP,
        NO_ZERO_GRAD,
    ),
    "train_one_epoch, no model.train()": (
        G.check_train_one_epoch,
        "Call model.train() at the start",
        NO_TRAIN_MODE,
        NO_STEP,
    ),
    "train_one_epoch, no zero_grad": (
        G.check_train_one_epoch,
        "Call optimizer.zero_grad() before",
        NO_ZERO_GRAD,
        NO_TRAIN_MODE,
    ),
    "train_one_epoch, a tensor": (
        G.check_train_one_epoch,
        "use loss.item() when you add up",
        LOSS_TENSOR,
        LAST_LOSS,
    ),
    "train_one_epoch, last batch": (
        G.check_train_one_epoch,
        "the loss of the last batch only",
        LAST_LOSS,
        MEAN_OF_BATCHES,
    ),
    "train_one_epoch, mean of batches": (
        G.check_train_one_epoch,
        "you averaged the batch losses",
        MEAN_OF_BATCHES,
        LAST_LOSS,
    ),
    "evaluate, training mode": (G.check_evaluate, "call model.eval()", NO_EVAL_MODE, PERCENT),
    "evaluate, percentage": (G.check_evaluate, "not a percentage", PERCENT, COUNT),
    "evaluate, count": (
        G.check_evaluate,
        "divide the number of correct predictions by the number of examples",
        COUNT,
        MEAN_OF_BATCH_ACCURACIES,
    ),
    "evaluate, mean of batches": (
        G.check_evaluate,
        "not batches",
        MEAN_OF_BATCH_ACCURACIES,
        COUNT,
    ),
    "evaluate, a tensor": (G.check_evaluate, "(use .item())", ACCURACY_TENSOR, PERCENT),
    # assignment 4
    "hflip, vertical": (G.check_hflip, "That is a vertical flip", VERTICAL, HALF_TURN),
    "hflip, half turn": (G.check_hflip, "You reversed the rows too", HALF_TURN, VERTICAL),
    "hflip, first axis too": (
        G.check_hflip,
        "You flipped the channels (or the batch) too",
        FIRST_AXIS_TOO,
        HALF_TURN,
    ),
    "hflip, float64": (G.check_hflip, "keep the input's dtype", DOUBLE, VERTICAL),
    "adjust_brightness, unclamped": (G.check_brightness, "Clamp the result", UNCLAMPED, ADDED),
    "adjust_brightness, added": (G.check_brightness, "it does not add it", ADDED, UNCLAMPED),
    "random_crop, left first": (
        G.check_random_crop,
        "Draw `top` first, then `left`",
        LEFT_FIRST,
        UNPADDED,
    ),
    "random_crop, unpadded": (
        G.check_random_crop,
        "Pad the image with `padding` zeros",
        UNPADDED,
        LEFT_FIRST,
    ),
    "prepare_transfer, nothing trains": (
        prepare,
        "Nothing trains at all",
        NOTHING_TRAINS,
        EVERYTHING_TRAINS,
    ),
    "prepare_transfer, everything trains": (
        prepare,
        "Everything trains: freeze the model first",
        EVERYTHING_TRAINS,
        NOTHING_TRAINS,
    ),
    # assignment 5
    "box_iou, no clamp": (G.check_box_iou, "Clamp the width and height", NO_CLAMP, NO_MINUS),
    "box_iou, overlap counted twice": (
        G.check_box_iou,
        "The union counts the overlap only once",
        NO_MINUS,
        NO_CLAMP,
    ),
    "box_iou, + 1": (G.check_box_iou, "without the + 1", PLUS_ONE, NO_CLAMP),
    "box_iou, transposed": (G.check_box_iou, "Your matrix is transposed", IOU_TRANSPOSED, IOU_FLAT),
    "box_iou, flattened": (G.check_box_iou, "Keep the (N, M) layout", IOU_FLAT, IOU_TRANSPOSED),
    "box_iou, a numpy array": (
        G.check_box_iou,
        "Build the result with torch operations",
        IOU_NUMPY,
        IOU_FLAT,
    ),
    "nms, by index": (G.check_nms, "the right boxes, in the wrong order", BY_INDEX, STRICT),
    "nms, first kept box only": (
        G.check_nms,
        "you kept boxes that overlap a kept box",
        FIRST_KEPT_ONLY,
        STRICT,
    ),
    "nms, IoU equal to the threshold": (
        G.check_nms,
        "EQUALS the threshold",
        STRICT,
        ANY_BETTER,
    ),
    "nms, any better box": (G.check_nms, "you dropped too much", ANY_BETTER, STRICT),
    "nms, the boxes": (
        G.check_nms,
        "Return the indices of the kept boxes",
        BOXES_BACK,
        LIST_BACK,
    ),
    "nms, float indices": (G.check_nms, "indices are integers", FLOAT_INDICES, LIST_BACK),
    "nms, a list": (G.check_nms, "return a tensor of indices", LIST_BACK, BOXES_BACK),
    "BoxNet, no sigmoid": (box_net, "end the network with torch.sigmoid", NO_SIGMOID, BLIND),
}


@pytest.mark.parametrize("run", [0, 1])
@pytest.mark.parametrize("case", list(HINTS))
def test_each_hint_fits_its_mistake_only(case, run):
    check, hint, earns, must_not = HINTS[case]
    earned = message_of(check, earns, run)
    assert f"Hint: {hint}" in earned or hint in earned.split("\nHint: ", 1)[-1], earned
    other = message_of(check, must_not, run)
    assert hint not in other, other


def test_a_transposed_iou_matrix_is_not_a_flattened_one():
    """The shape says which: (M, N) is transposed, (N * M,) flattened, and neither is the
    other's hint."""
    transposed = message_of(G.check_box_iou, IOU_TRANSPOSED, 0)
    assert "returned shape (4, 5), expected (5, 4). Your matrix is transposed" in transposed
    assert "Keep the (N, M) layout" not in transposed


def test_messages_lead_with_what_differs():
    """The first line says what differs; the hint comes after it."""
    message = message_of(lenet, DenseAsConvolutions, 0)
    first = message.splitlines()[0]
    assert first.startswith(
        "DenseAsConvolutions(num_classes=10) computes a linear function of the image"
    ), first
    assert message.splitlines()[1].startswith("Hint: Put a ReLU"), message
    message = message_of(G.check_evaluate, MEAN_OF_BATCH_ACCURACIES, 0)
    assert message.splitlines()[0].startswith("evaluate(model, loader) returned "), message
