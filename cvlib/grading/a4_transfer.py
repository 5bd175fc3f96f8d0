"""Checks of assignment 4: augmentations and transfer learning.

- :func:`check_hflip` and :func:`check_brightness` compare with
  :mod:`cvlib.augment.functional` on random images (one image and a batch);
- :func:`check_random_crop` compares ``fn(img, size, padding, generator)`` with
  ``cvlib.augment.RandomCrop(size, padding)(img, generator=...)`` drawing from generators with
  the same seed, so the student's random choices must be the same draws in the same order;
- :func:`check_prepare_transfer` compares which parameters train, and which weights were kept,
  with :func:`cvlib.train.transfer.replace_head` and
  :func:`cvlib.train.transfer.unfreeze_last`;
- :func:`check_fine_tuning` hands the pretrained network (prepared with the reference
  ``prepare_transfer``) and the 50 training images to the student's training function, counts
  the images it trains on, and compares the result on the test digits 5-9 with the same network
  trained from random weights by the grader (:func:`scratch_baseline`);
- :func:`check_transfer_result` scores the fine-tuned and the from-scratch models on held-out
  digits 5-9.
"""

import torch
from torch import nn

from ._student import fail, reference
from ._torch import (
    Backpropagated,
    CountedData,
    forward,
    is_module,
    parameters_of,
    tensor_result,
    train_answer,
    train_in_box,
    type_name,
    weights_from_box,
)
from .a3_cnn import heldout_accuracy
from .box_helpers import references, tools
from .checks import Run
from .remote import is_remote
from .tripwires import AUGMENTATIONS, CVLIB_TRAINING, DATA

TARGET_CLASSES = (5, 6, 7, 8, 9)
OWN_TENSOR_CODE = "this answer asks for your own code (torch's tensor operations are fine)"
OWN = {"forbid": AUGMENTATIONS, "reason": OWN_TENSOR_CODE}


def _images(g, hidden):
    shapes = [(1, 6, 7), (3, 5, 5), (2, 1, 4, 6)] + ([(3, 9, 4), (4, 3, 8, 8)] if hidden else [])
    return [torch.rand(*s, generator=g) for s in shapes]


def _expect_image(run, args, img, expected, alternatives):
    __tracebackhide__ = True
    text = run.text(args)
    got = tensor_result(run, run.call(args, text=text), img, text)
    run.compare(got, expected.double().numpy(), text, alternatives=alternatives)


def check_hflip(fn, seed=None, hidden=False):
    """Check ``fn(img)`` mirrors ``(C, H, W)`` and ``(N, C, H, W)`` images left-right."""
    __tracebackhide__ = True
    run = Run("check_hflip", fn, "hflip", seed, hidden, **OWN)
    g = torch.Generator().manual_seed(run.seed)
    ref = reference("cvlib.augment.functional")
    for img in _images(g, hidden):
        _expect_image(run, [("img", img.clone())], img, ref.hflip(img), _flip_alternatives(img))


def _flip_alternatives(img):
    """What wrong flips return: the rows reversed instead of the columns, both reversed (a half
    turn), the leading axes (channels, batch) reversed too. Where every leading axis has size 1,
    reversing it changes nothing: the half turn's hint says it all."""
    leading = tuple(range(img.ndim - 2))
    alternatives = [
        (
            "That is a vertical flip (rows reversed): a horizontal flip reverses the columns, "
            "the last axis.",
            lambda: img.flip(-2).numpy(),
        ),
        (
            "You reversed the rows too (a half turn): a horizontal flip reverses only the "
            "columns, the last axis.",
            lambda: img.flip(-2, -1).numpy(),
        ),
    ]
    if any(n > 1 for n in img.shape[:-2]):
        hint = "You flipped the channels (or the batch) too: reverse only the last axis."
        alternatives += [
            (hint, lambda: img.flip(*leading, -1).numpy()),
            (hint, lambda: img.flip(*leading, -2, -1).numpy()),
        ]
    return alternatives


def check_brightness(fn, seed=None, hidden=False):
    """Check ``fn(img, factor)`` against ``adjust_brightness``: ``clamp(factor * img, 0, 1)``."""
    __tracebackhide__ = True
    run = Run("check_brightness", fn, "adjust_brightness", seed, hidden, **OWN)
    g = torch.Generator().manual_seed(run.seed)
    ref = reference("cvlib.augment.functional")
    factors = [0.5, 1.6, 1.0, 0.0] + ([0.9, 2.5, 1.2] if hidden else [])
    for img, factor in zip(_images(g, True) * 2, factors, strict=False):
        alternatives = [
            (
                "Clamp the result to [0, 1]: a brighter image saturates at white (1.0).",
                lambda img=img, f=factor: (img * f).numpy(),
            ),
            (
                "Brightness multiplies the values by the factor, it does not add it.",
                lambda img=img, f=factor: (img + f).clamp(0, 1).numpy(),
            ),
        ]
        args = [("img", img.clone()), ("factor", factor)]
        _expect_image(run, args, img, ref.adjust_brightness(img, factor), alternatives)


def _crop_alternatives(img, size, p, draw):
    def swapped():
        gen = torch.Generator().manual_seed(draw)
        padded = nn.functional.pad(img, (p, p, p, p))
        h, w = padded.shape[-2:]
        left = int(torch.randint(0, w - size + 1, (1,), generator=gen))
        top = int(torch.randint(0, h - size + 1, (1,), generator=gen))
        return padded[..., top : top + size, left : left + size].numpy()

    def unpadded():
        gen = torch.Generator().manual_seed(draw)
        h, w = img.shape[-2:]
        if size > h or size > w:
            raise ValueError("does not fit")
        top = int(torch.randint(0, h - size + 1, (1,), generator=gen))
        left = int(torch.randint(0, w - size + 1, (1,), generator=gen))
        return img[..., top : top + size, left : left + size].numpy()

    return [
        (
            "Draw `top` first, then `left` (the test gives you a generator seeded like the "
            "reference's, so the same draws in the same order give the same crop).",
            swapped,
        ),
        ("Pad the image with `padding` zeros on every side before cropping.", unpadded),
    ]


def check_random_crop(fn, seed=None, hidden=False):
    """Check ``fn(img, size, padding, generator)`` equals ``RandomCrop`` with the same seed."""
    __tracebackhide__ = True
    run = Run("check_random_crop", fn, "random_crop", seed, hidden, **OWN)
    g = torch.Generator().manual_seed(run.seed)
    augment = reference("cvlib.augment")
    cases = [((1, 8, 8), 8, 2), ((3, 10, 7), 5, 0), ((1, 6, 9), 6, 3)]
    if hidden:
        cases += [((2, 12, 12), 12, 4), ((3, 5, 5), 3, 1), ((1, 28, 28), 28, 2)]
    for shape, size, padding in cases:
        img = torch.rand(*shape, generator=g) + 0.5  # no zeros inside: padding is visible
        draw = int(torch.randint(0, 2**31, (1,), generator=g))
        crop = augment.RandomCrop(size, padding=padding)
        expected = crop(img, generator=torch.Generator().manual_seed(draw))
        args = [("img", img.clone()), ("size", size), ("padding", padding)]
        args.append(("generator", torch.Generator().manual_seed(draw)))
        text = f"{run.name}(img of shape {shape}, size={size}, padding={padding}, generator)"
        got = tensor_result(run, run.call(args, text=text), img, text)
        alternatives = _crop_alternatives(img, size, padding, draw)
        run.compare(got, expected.double().numpy(), text, alternatives=alternatives)


def _trainable_hint(trainable, params):
    if not trainable:
        return " Nothing trains at all: the new head (at least) must be trainable."
    if len(trainable) == len(params):
        return " Everything trains: freeze the model first (requires_grad_(False))."
    return ""


def _check_prepared(run, got, expected, original, text, k, n):
    __tracebackhide__ = True
    with run.student_code(f"{text}.eval()"):
        got.eval()
    out = forward(got, torch.rand(2, 1, 28, 28), "the prepared model", run.recipe)
    if tuple(out.shape) != (2, k):
        run.fail(
            f"{text}: the model maps a (2, 1, 28, 28) batch to {tuple(out.shape)}, expected "
            f"(2, {k}). Replace the head with nn.Linear(64, {k})."
        )
    got_params = {name: (p, grad) for name, p, grad in parameters_of(run, got, text)}
    want_params = {name: (p.detach(), p.requires_grad) for name, p in expected.named_parameters()}
    if sorted(got_params) != sorted(want_params):
        run.fail(
            f"{text}: the model's parameters are {sorted(got_params)}, expected "
            f"{sorted(want_params)}. Replace `model.head` and keep everything else."
        )
    for key, (p, _) in got_params.items():
        if key.startswith("features.") and not torch.equal(p, original[key]):
            run.fail(
                f"{text} changed the pretrained weights `{key}`: keep the base as it is, only "
                "the head is new."
            )
    trainable = sorted(k_ for k_, (_, grad) in got_params.items() if grad)
    want = sorted(k_ for k_, (_, grad) in want_params.items() if grad)
    if trainable != want:
        run.fail(
            f"{text}: the trainable parameters are {trainable}, expected {want}: the last {n} "
            "layers that own parameters (convolutions, batch norms and the new head count, in "
            "the order model.modules() lists them), and nothing else."
            + _trainable_hint(trainable, got_params)
        )


def _in_box(box, model):
    """A copy of the course CNN ``model`` (weights, trainable parameters, mode) in ``box``."""
    trainable = {name: p.requires_grad for name, p in model.named_parameters()}
    return tools(box).network("course_cnn", model.state_dict(), trainable, model.training)


def check_prepare_transfer(fn, hidden=False):
    """Check ``fn(model, num_classes, n_trainable)``: new head, only the last layers trainable."""
    __tracebackhide__ = True
    run = Run(
        "check_prepare_transfer",
        fn,
        "prepare_transfer",
        hidden=hidden,
        seeded=False,
        forbid=CVLIB_TRAINING,
        reason="this answer asks for your own freezing and new head (not cvlib.train.transfer)",
    )
    transfer = reference("cvlib.train.transfer")
    cases = [(5, 1), (5, 3)] + ([(2, 5), (7, 2), (4, 7)] if hidden else [])
    for k, n in cases:
        text = f"{run.name}(load_pretrained(), num_classes={k}, n_trainable={n})"
        pretrained = transfer.load_pretrained()
        original = {key: v.clone() for key, v in pretrained.state_dict().items()}
        if is_remote(fn):  # the same pretrained network, built in the box
            pretrained = _in_box(fn.box, pretrained)
        got = run.call([("model", pretrained), ("num_classes", k), ("n_trainable", n)], text=text)
        if not is_module(got):
            run.fail(f"{text} should return the model, but returned {type_name(got)}.")
        expected = transfer.replace_head(transfer.load_pretrained(), k)
        transfer.unfreeze_last(expected, n)
        _check_prepared(run, got, expected, original, text, k, n)


def check_transfer_result(finetuned, scratch, threshold, margin=0.02, heldout=True):
    """Fine-tuned accuracy on digits 5-9 >= ``threshold`` and >= scratch's + ``margin``.

    Prints both accuracies and returns None (a number returned by the last line of a test cell
    would be read by nbgrader as a partial score).
    """
    __tracebackhide__ = True
    data = "held-out digits 5-9" if heldout else "the test digits 5-9"
    acc_ft = heldout_accuracy(finetuned, TARGET_CLASSES, 28, heldout)
    acc_sc = heldout_accuracy(scratch, TARGET_CLASSES, 28, heldout)
    print(
        f"accuracy on {data}: fine-tuned {acc_ft:.3f} (needed: {threshold:.2f}), "
        f"from scratch {acc_sc:.3f}"
    )
    if acc_ft < threshold:
        fail(
            f"The fine-tuned model reaches {acc_ft:.1%} on {data}, below the {threshold:.0%} "
            "needed. Check which layers train, the learning rate and the number of epochs."
        )
    if acc_ft < acc_sc + margin:
        fail(
            f"The fine-tuned model ({acc_ft:.1%}) should beat the model trained from scratch "
            f"({acc_sc:.1%}) by at least {margin:.0%} on {data}. Did both train on the same "
            "few images, and did the fine-tuned one start from load_pretrained()?"
        )


def _reference_answers():
    """Reference versions of the assignment's earlier answers, for the fine-tuning check."""
    transfer = reference("cvlib.train.transfer")
    augment, functional = reference("cvlib.augment"), reference("cvlib.augment.functional")

    def random_crop(img, size, padding, generator):
        return augment.RandomCrop(size, padding=padding)(img, generator=generator)

    def prepare_transfer(model, num_classes, n_trainable):
        transfer.unfreeze_last(transfer.replace_head(model, num_classes), n_trainable)
        return model

    isolate = {"hflip": functional.hflip, "adjust_brightness": functional.adjust_brightness}
    isolate.update(random_crop=random_crop, prepare_transfer=prepare_transfer)
    return transfer, isolate


def _few_shot():
    """``(images, labels)``: the 50 training images (10 per digit 5-9), as in the notebook."""
    digits, subsets = reference("cvlib.data.digits"), reference("cvlib.data.subsets")
    pool = subsets.class_subset(digits.digits(size=28, split="train"), TARGET_CLASSES)
    return subsets.few_shot(pool, per_class=10, seed=0).tensors


def scratch_baseline(images, labels, epochs=30):
    """The network from scratch the fine-tuned one must beat, trained by the grader itself.

    ``CourseCNN(num_classes=5)`` from random weights (torch seed 0), trained with
    :func:`cvlib.train.fit` (Adam, learning rate 3e-3, batches of 16) on the same images with the
    assignment's augmentation (a random crop with padding 2, a brightness factor in [0.8, 1.2]):
    a baseline that really trained, whatever the student's code does.
    """
    augment, loop = reference("cvlib.augment"), reference("cvlib.train.loop")
    transform = augment.Compose(
        [augment.RandomCrop(28, padding=2), augment.ColorJitter(brightness=0.2)], seed=0
    )
    data = augment.Augmented(torch.utils.data.TensorDataset(images, labels), transform)
    torch.manual_seed(0)
    model = reference("cvlib.models.course_cnn").CourseCNN(num_classes=5)
    loader = torch.utils.data.DataLoader(data, batch_size=16, shuffle=True)
    loop.fit(model, loader, epochs=epochs, lr=3e-3, device="cpu", progress=False)
    return model.eval()


def check_fine_tuning(fn, threshold=0.75, margin=0.02):
    """Fine-tune with ``fn(model, train_set)`` and compare with a network trained from scratch.

    ``fn`` trains the pretrained network prepared for digits 5-9 (the reference
    ``prepare_transfer(load_pretrained(), 5, 3)``, torch seed 0) on the 50 training images; it
    sees the reference ``random_crop``, ``adjust_brightness`` and ``prepare_transfer``. Fails if
    ``fn`` calls cvlib's training code or augmentations, loads other data, or trains on more
    images than it read; if the fine-tuned network is below ``threshold`` on the test digits
    5-9, or not ``margin`` above :func:`scratch_baseline`, the same network trained from random
    weights by the grader. Returns ``(finetuned, scratch)``.
    """
    __tracebackhide__ = True
    transfer, isolate = _reference_answers()
    run = Run(
        "check_fine_tuning",
        fn,
        "fine_tune",
        options={"threshold": threshold},
        isolate=isolate,
        forbid=(*CVLIB_TRAINING, *DATA, *AUGMENTATIONS),
        reason="this answer asks for your own training loop (with your augmentation)",
        trusted=(CountedData, Backpropagated),
        seeded=False,
    )
    images, labels = _few_shot()
    torch.manual_seed(0)
    finetuned = isolate["prepare_transfer"](transfer.load_pretrained(), 5, 3)
    text = f"{run.name}(prepare_transfer(load_pretrained(), 5, 3), train_set)"
    if is_remote(fn):  # fine-tuned in the box from the same network and images, scored here
        box, stand_ins = fn.box, references(fn.box)
        box_model = _in_box(box, finetuned)
        box_data = tools(box).counted(images, labels)
        isolate = {
            name: getattr(stand_ins, name)
            for name in ("hflip", "adjust_brightness", "random_crop", "prepare_transfer")
        }
        isolate["A"] = {"Augmented": stand_ins.Augmented}  # cvlib.augment's wrapper only
        args = [("model", box_model), ("train_set", box_data)]
        train_in_box(run, box_model, args, box_data, text, isolate)
        weights_from_box(run, box_model, finetuned, text)
    else:
        data = CountedData(images, labels)
        train_answer(run, finetuned, [("model", finetuned), ("train_set", data)], data, text)
    scratch = scratch_baseline(images, labels)
    print("from scratch: CourseCNN(num_classes=5) trained by the grader on the same 50 images")
    check_transfer_result(finetuned, scratch, threshold, margin, heldout=False)
    return finetuned, scratch
