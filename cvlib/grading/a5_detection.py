"""Checks of assignment 5: IoU, non-maximum suppression, and a trained box regressor.

The references are :func:`cvlib.detection.boxes.box_iou` and :func:`cvlib.detection.boxes.nms`
from a freshly loaded copy of the module, on random boxes (overlapping, nested, disjoint, touching
and identical ones, so every branch of a correct answer is exercised).
"""

import torch
from torch import nn

from ._student import call, fail, reference
from ._torch import (
    Backpropagated,
    CountedData,
    build,
    train_on_loader,
)
from .checks import Run
from .heldout import heldout_shapes
from .tripwires import BOXES, CVLIB_TRAINING, DATA, NETWORKS

OWN_TENSOR_CODE = "this answer asks for your own code (torch's tensor operations are fine)"
OWN = {"forbid": BOXES, "reason": OWN_TENSOR_CODE}


def random_boxes(generator, n, size=32.0):
    """``(n, 4)`` float boxes ``xyxy`` inside a ``size`` square, some of them sharing corners.

    Examples
    --------
    >>> b = random_boxes(torch.Generator().manual_seed(0), 5)
    >>> b.shape, bool((b[:, 2:] >= b[:, :2]).all())
    (torch.Size([5, 4]), True)
    """
    xy = torch.rand(n, 2, generator=generator) * size * 0.7  # (n, 2)
    wh = 1.0 + torch.rand(n, 2, generator=generator) * size * 0.4  # (n, 2)
    boxes = torch.cat([xy, xy + wh], dim=1).round()  # whole pixels: touching edges happen
    if n >= 4:
        boxes[1] = boxes[0]  # identical
        boxes[3] = torch.cat([boxes[2, 2:], boxes[2, 2:] + 3])  # touching at a corner
    return boxes


def _as_tensor(run, got, text, shape, kind="float"):
    __tracebackhide__ = True
    if got is None:
        run.fail(f"{text} returned None: did you forget the `return` statement?")
    if not isinstance(got, torch.Tensor):
        run.fail(
            f"{text} should return a torch.Tensor, but returned {type(got).__name__}. Build "
            "the result with torch operations (or torch.tensor(...) at the end)."
        )
    got = got.detach().clone()
    if tuple(got.shape) != tuple(shape):
        hint = ""
        if kind == "index" and got.ndim == 2 and got.shape[-1] == 4:
            hint = " Return the indices of the kept boxes, not the boxes themselves."
        elif kind == "float" and tuple(got.shape) == tuple(shape)[::-1]:
            hint = (
                " Your matrix is transposed: row i holds the IoUs of a[i] (the first argument) "
                "with every box of b, shape (N, M)."
            )
        elif kind == "float" and got.numel() == shape[0] * shape[1] and got.ndim != 2:
            hint = " Keep the (N, M) layout: row i holds the IoUs of a[i] with every box of b."
        run.fail(f"{text} returned shape {tuple(got.shape)}, expected {tuple(shape)}.{hint}")
    return got


def _iou_alternatives(ref, a, b):
    def area(x):
        return (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])

    def raw_inter():
        tl = torch.maximum(a[:, None, :2], b[None, :, :2])
        br = torch.minimum(a[:, None, 2:], b[None, :, 2:])
        return (br - tl).double()

    def no_clamp():
        wh = raw_inter()
        inter = wh[..., 0] * wh[..., 1]
        return inter / (area(a)[:, None] + area(b)[None, :] - inter)

    def no_minus():
        wh = raw_inter().clamp(min=0)
        inter = wh[..., 0] * wh[..., 1]
        return inter / (area(a)[:, None] + area(b)[None, :])

    def plus_one():
        c, d = a.clone(), b.clone()
        c[:, 2:] += 1
        d[:, 2:] += 1
        return ref.box_iou(c.double(), d.double())

    return [
        (
            "Clamp the width and height of the intersection at 0: two boxes that do not overlap "
            "have intersection 0, not a negative width times a negative height.",
            no_clamp,
        ),
        ("The union counts the overlap only once: area(a) + area(b) - intersection.", no_minus),
        (
            "Boxes here are continuous: the width is x2 - x1, without the + 1 of pixel-index "
            "conventions.",
            plus_one,
        ),
    ]


def check_box_iou(fn, seed=None, hidden=False):
    """Check ``fn(a, b) -> (N, M)`` IoU of every box of ``a`` with every box of ``b``."""
    __tracebackhide__ = True
    run = Run("check_box_iou", fn, "box_iou", seed, hidden, **OWN)
    g = torch.Generator().manual_seed(run.seed)
    ref = reference("cvlib.detection.boxes")
    cases = [(5, 4), (1, 1), (8, 8)] + ([(12, 3), (3, 20), (30, 30)] if hidden else [])
    for n, m in cases:
        a, b = random_boxes(g, n), random_boxes(g, m)
        if n == m:
            b[: n // 2] = a[: n // 2]  # identical pairs on the diagonal
        text = f"{run.name}(a of shape ({n}, 4), b of shape ({m}, 4))"
        got = run.call([("a", a.clone()), ("b", b.clone())], text=text)
        got = _as_tensor(run, got, text, (n, m)).double().numpy()
        expected = ref.box_iou(a.double(), b.double()).numpy()
        alternatives = _iou_alternatives(ref, a, b)
        run.compare(got, expected, text, "the IoU matrix", alternatives, rtol=1e-4, atol=1e-5)


def _clustered(g, n):
    centres = random_boxes(g, max(1, n // 4))
    picks = torch.randint(0, len(centres), (n,), generator=g)
    jitter = torch.randn(n, 4, generator=g) * 1.5
    boxes = centres[picks] + jitter  # (n, 4): groups of overlapping boxes
    boxes[:, 2:] = torch.maximum(boxes[:, 2:], boxes[:, :2] + 0.5)
    return boxes


def _greedy(iou, scores, keeps):
    """Greedy NMS by decreasing score (ties: the lower index first); ``keeps(iou_row, kept,
    before)`` says whether a box stays, from its IoUs with every box, the boxes kept and the
    boxes visited before it."""
    order = torch.argsort(scores, descending=True, stable=True).tolist()
    kept = []
    for position, i in enumerate(order):
        if keeps(
            iou[i],
            torch.tensor(kept, dtype=torch.int64),
            torch.tensor(order[:position], dtype=torch.int64),
        ):
            kept.append(i)
    return kept


def _nms_hint(got, expected, iou, scores, threshold):
    """The hint for a wrong NMS, chosen by what it kept: the right boxes in another order; two
    kept boxes that overlap by more than the threshold; what dropping a box at an IoU equal to
    the threshold keeps; what dropping a box that overlaps any better box (kept or not) keeps."""
    if sorted(got) == sorted(expected):
        return (
            "\nHint: the right boxes, in the wrong order: return them by decreasing score, the "
            "order in which greedy NMS keeps them."
        )
    valid = [i for i in got if 0 <= i < len(iou)]
    if any(iou[i, j] > threshold for k, i in enumerate(valid) for j in valid[k + 1 :]):
        return (
            "\nHint: you kept boxes that overlap a kept box by more than the threshold: drop "
            "every box whose IoU with a kept box is > iou_threshold."
        )
    if got == _greedy(iou, scores, lambda row, kept, before: bool((row[kept] < threshold).all())):
        return (
            "\nHint: a box whose IoU with a kept box EQUALS the threshold is kept: drop a box only "
            "if its IoU is greater than iou_threshold (as torchvision.ops.nms does)."
        )
    if got == _greedy(
        iou, scores, lambda row, kept, before: bool((row[before] <= threshold).all())
    ):
        return (
            "\nHint: you dropped too much: drop a box only if its IoU with a box you KEPT (not "
            "with any higher-scoring box) exceeds the threshold."
        )
    return ""


def _exact_cases():
    """Boxes whose IoU with the best box is exactly the threshold (0.5 and 0.25): kept."""
    boxes = torch.tensor(
        [[0.0, 0, 4, 4], [0, 0, 4, 2], [0, 2, 4, 4], [0, 0, 2, 2], [10, 10, 12, 12]]
    )  # IoU with box 0: 0.5, 0.5, 0.25, 0
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5])
    return [(boxes, scores, 0.5), (boxes, scores, 0.25)]


def _kept_indices(run, got, text, expected):
    __tracebackhide__ = True
    if isinstance(got, (list, tuple)) and all(isinstance(i, int) for i in got):
        run.fail(
            f"{text} returned a {type(got).__name__}; return a tensor of indices, e.g. "
            "torch.tensor(keep, dtype=torch.int64)."
        )
    one_d = isinstance(got, torch.Tensor) and got.ndim == 1
    got = _as_tensor(run, got, text, (len(got),) if one_d else (len(expected),), kind="index")
    if got.dtype not in (torch.int64, torch.int32):
        run.fail(
            f"{text} returned a tensor of dtype {got.dtype}; indices are integers (torch.int64)."
        )
    return got.tolist()


def check_nms(fn, seed=None, hidden=False):
    """Check ``fn(boxes, scores, iou_threshold) -> indices`` against greedy NMS.

    A box whose IoU with a kept box equals the threshold is kept (torchvision's rule; tested with
    exact ties). ``fn`` is graded on its own: while it runs, ``box_iou`` is the reference one.
    """
    __tracebackhide__ = True
    ref = reference("cvlib.detection.boxes")
    run = Run("check_nms", fn, "nms", seed, hidden, isolate={"box_iou": ref.box_iou}, **OWN)
    g = torch.Generator().manual_seed(run.seed)
    sizes = [(12, 0.5), (20, 0.3), (1, 0.5)] + ([(40, 0.7), (30, 0.1), (25, 0.5)] if hidden else [])
    cases = [(_clustered(g, n), torch.rand(n, generator=g), t) for n, t in sizes]
    for boxes, scores, threshold in [*cases, *_exact_cases()]:
        args = [("boxes", boxes.clone()), ("scores", scores.clone()), ("iou_threshold", threshold)]
        text = run.text(args)
        got = run.call(args, text=text)
        expected = ref.nms(boxes, scores, threshold).tolist()
        got = _kept_indices(run, got, text, expected)
        if got != expected:
            run.fail(
                f"{text} kept the boxes {got}, expected {expected} (in this order)."
                + _nms_hint(got, expected, ref.box_iou(boxes, boxes), scores, threshold)
            )


def predicted_boxes(model, images):
    """Pixel ``xyxy`` boxes from ``model(images)`` (coordinates divided by the image size)."""
    __tracebackhide__ = True
    if not isinstance(model, nn.Module):
        fail(f"the trained model should be a torch.nn.Module, but it is {type(model).__name__}.")
    model.eval()
    with torch.no_grad():
        out = call(model, "the trained model", [("x", images)])
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (len(images), 4):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        fail(
            f"the trained model should map {len(images)} images to a ({len(images)}, 4) tensor "
            f"of boxes, but gave {shape}."
        )
    b = out.float().clamp(0, 1) * images.shape[-1]  # (N, 4) in pixels
    return torch.cat([torch.minimum(b[:, :2], b[:, 2:]), torch.maximum(b[:, :2], b[:, 2:])], 1)


def check_box_regressor(model, threshold, heldout=True, size=32):
    """Fail unless ``model``'s boxes reach a mean IoU of ``threshold`` on one-object shapes.

    ``heldout=True`` scores 300 shapes drawn with the graders' seed; ``heldout=False`` the 200
    shapes of ``cvlib.data.shapes(200, size, seed=1)`` (the notebook's test set). The predicted
    corners are put in order first (``x1 <= x2``, ``y1 <= y2``). Prints the mean IoU and returns
    None (nbgrader would read a returned number as a partial score).
    """
    __tracebackhide__ = True
    if heldout:
        images, boxes = heldout_shapes(size=size)
    else:
        data = reference("cvlib.data.shapes").shapes(200, size=size, max_objects=1, seed=1)
        images, boxes = data.images, data.first_boxes()
    pred = predicted_boxes(model, images)
    iou = reference("cvlib.detection.boxes").box_iou(pred, boxes).diagonal()  # (N,)
    mean = iou.mean().item()
    data = "held-out shapes" if heldout else "test shapes"
    print(
        f"mean IoU {mean:.3f} on {len(images)} {data} (needed: {threshold:.2f}); "
        f"{(iou > 0.5).double().mean().item():.0%} of the boxes have IoU > 0.5"
    )
    if mean < threshold:
        note = (
            "\n(Hidden tests draw the held-out shapes with the instructor's seed; on your "
            "machine heldout=True draws shapes of the same kind.)"
        )
        fail(
            f"The predicted boxes reach a mean IoU of {mean:.3f} on {data}, below the "
            f"{threshold:.2f} needed. Train longer or with another learning rate, and check that "
            "the targets are the boxes divided by the image size." + (note if heldout else "")
        )


def check_box_net(model_fn, size=32):
    """Check ``model_fn()`` maps ``(N, 3, size, size)`` images to ``(N, 4)`` values in [0, 1]
    that depend on the image."""
    __tracebackhide__ = True
    run = Run(
        "check_box_net",
        model_fn,
        "BoxNet",
        seeded=False,
        forbid=(*NETWORKS, *BOXES),
        reason="this answer asks for your own network (torch.nn's layers and functions are fine)",
    )
    model = build(run, model_fn)
    with run.student_code(f"{run.name}().eval()"):
        model.eval()
    outputs = []
    for x in (torch.rand(5, 3, size, size), torch.rand(5, 3, size, size)):
        with torch.no_grad():
            out = run.call([("x", x)], fn=model, name=f"{run.name}()")
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != (5, 4):
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            run.fail(
                f"{run.name}() maps a batch of shape (5, 3, {size}, {size}) to {shape}, expected "
                "(5, 4): one box (x1, y1, x2, y2) per image."
            )
        if out.min() < 0 or out.max() > 1:
            run.fail(
                f"{run.name}() gives box coordinates outside [0, 1] (from {out.min().item():.3g} "
                f"to {out.max().item():.3g}). The boxes are divided by the image size: end the "
                "network with torch.sigmoid so every coordinate lies in [0, 1]."
            )
        outputs.append(out)
    if torch.allclose(outputs[0], outputs[1], atol=1e-6):
        run.fail(
            f"{run.name}() gives the same boxes whatever the images: the network ignores its "
            "input (the boxes must come from the image's features)."
        )


def reference_box_net():
    """The network that BoxNet's text describes, as a ``Sequential`` (N, 3, 32, 32) -> (N, 4)."""
    blocks = []
    for c_in, c_out in ((3, 16), (16, 32), (32, 64)):
        blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
    head = [nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Linear(128, 4), nn.Sigmoid()]
    return nn.Sequential(*blocks, *head)


def check_box_training(fn, threshold=0.6, size=32):
    """Train the box network with ``fn(model, train_loader)`` and score it on the test shapes.

    The model is :func:`reference_box_net` (BoxNet as the notebook describes it; ``fn`` sees it as
    ``BoxNet`` and the reference ``box_iou``), the data the notebook's 1,000 training shapes with
    their boxes divided by ``size``, torch seed 0 before the call. Fails if ``fn`` calls cvlib's
    training or detection code, loads other data, or trains on more images than it read; returns
    the trained model (for the hidden test on held-out shapes).
    """
    __tracebackhide__ = True
    boxes = reference("cvlib.detection.boxes")
    run = Run(
        "check_box_training",
        fn,
        "train_box_net",
        options={"threshold": threshold},
        isolate={"BoxNet": reference_box_net, "box_iou": boxes.box_iou},
        forbid=(*CVLIB_TRAINING, *DATA, *NETWORKS, *BOXES),
        reason="this answer asks for your own training loop",
        trusted=(CountedData, Backpropagated),
        seeded=False,
    )
    shapes = reference("cvlib.data.shapes").shapes(1000, size=size, max_objects=1, seed=0)
    torch.manual_seed(0)
    model = reference_box_net()
    train_on_loader(
        run,
        model,
        (shapes.images, shapes.first_boxes() / size),
        "BoxNet(), train_loader",
        "BoxNet",
        lambda stand_ins: {"BoxNet": stand_ins.BoxNet, "box_iou": boxes.box_iou},
    )
    check_box_regressor(model, threshold, heldout=False, size=size)
    return model
