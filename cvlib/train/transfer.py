"""Transfer learning: freeze a pretrained base, swap its head, train what is left.

The lectures give two feature-extraction routes and a fine-tuning route:

1. run the frozen base once over the data and train a small head on the stored features
   (:func:`extract_features`), fast, but no augmentation is possible;
2. put the frozen base and a trainable head in one model (:func:`with_frozen_base`), slower,
   but augmentation can sit in front;
3. fine-tune: train the new head and the last few layers too (:func:`unfreeze_last`).

A *layer* here is a module that owns parameters directly (a ``Conv2d``, ``Linear`` or
``BatchNorm2d``), counted in registration order, which is the forward order for the course's
models and torchvision's.
"""

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from cvlib.models import course_cnn

from .runtime import eval_mode

__all__ = [
    "FrozenBase",
    "TrainableSummary",
    "extract_features",
    "freeze",
    "layers_with_parameters",
    "load_pretrained",
    "replace_head",
    "trainable_summary",
    "unfreeze_last",
    "with_frozen_base",
]


def _check_module(model, name="model"):
    if not isinstance(model, nn.Module):
        raise TypeError(f"`{name}` must be a torch.nn.Module, got {type(model).__name__}")


def layers_with_parameters(model):
    """``[(name, module), ...]`` of the modules that own parameters directly, in order."""
    _check_module(model)
    return [
        (name, m)
        for name, m in model.named_modules()
        if any(True for _ in m.parameters(recurse=False))
    ]


def freeze(model):
    """Make every parameter of ``model`` non-trainable (``requires_grad=False``) and drop its grad.

    Dropping ``.grad`` matters: an optimizer skips parameters whose gradient is ``None``, but a
    stale gradient from earlier training would still be applied (with momentum and weight decay).
    Returns ``model`` for chaining.

    Examples
    --------
    >>> m = freeze(nn.Linear(3, 2))
    >>> [p.requires_grad for p in m.parameters()]
    [False, False]
    """
    _check_module(model)
    for p in model.parameters():
        p.requires_grad_(False)
        p.grad = None
    return model


def unfreeze_last(model, n):
    """Freeze ``model``, then make the last ``n`` layers that own parameters trainable again.

    ``unfreeze_last(model, 4)`` is the lectures' "freeze everything up to the fourth layer from
    the end". BatchNorm layers count as layers. Returns the names of the unfrozen layers.

    Examples
    --------
    >>> m = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4), nn.Linear(4, 2))
    >>> unfreeze_last(m, 2)
    ['2', '3']
    >>> [p.requires_grad for p in m[0].parameters()]
    [False, False]
    """
    _check_module(model)
    layers = layers_with_parameters(model)
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= len(layers):
        raise ValueError(
            f"`n` must be an int in [0, {len(layers)}] (layers with parameters in "
            f"this model), got {n!r}"
        )
    freeze(model)
    chosen = layers[len(layers) - n :]
    for _, module in chosen:
        for p in module.parameters(recurse=False):
            p.requires_grad_(True)
    return [name for name, _ in chosen]


def _head_location(model):
    """``(parent, key)`` such that the head is ``parent[key]`` or ``getattr(parent, key)``."""
    for attr in ("head", "fc"):  # course models (``head``), ResNet and GoogLeNet (``fc``)
        if isinstance(getattr(model, attr, None), nn.Linear):
            return model, attr
    classifier = getattr(model, "classifier", None)
    if isinstance(classifier, nn.Linear):
        return model, "classifier"
    if isinstance(classifier, nn.Sequential):  # VGG, AlexNet, LeNet-5, the lecture CNN
        linear = [i for i, m in enumerate(classifier) if isinstance(m, nn.Linear)]
        if linear:
            return classifier, linear[-1]
    raise ValueError(
        f"`model` ({type(model).__name__}) has no head replace_head knows: expected a Linear "
        "`head` or `fc`, or a `classifier` that is a Linear or a Sequential ending in one"
    )


def replace_head(model, num_classes):
    """Swap the final Linear layer for a fresh, trainable one with ``num_classes`` outputs.

    Knows the course's models (a ``head`` attribute), ResNet and GoogLeNet (``fc``, plus the
    auxiliary classifiers when present) and VGG, AlexNet, LeNet-5 and the lecture CNN (the last
    Linear of ``classifier``). The model is changed in place and returned.

    Shape
    -----
    The head maps ``(N, in_features)`` to ``(N, num_classes)``.

    Examples
    --------
    >>> from cvlib.models import lenet5
    >>> replace_head(lenet5(), 3)(torch.zeros(2, 1, 32, 32)).shape
    torch.Size([2, 3])
    """
    _check_module(model)
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"`num_classes` must be a positive int, got {num_classes!r}")
    parent, key = _head_location(model)
    old = parent[key] if isinstance(key, int) else getattr(parent, key)
    new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
    new = new.to(device=old.weight.device, dtype=old.weight.dtype)
    if isinstance(key, int):
        parent[key] = new
    else:
        setattr(parent, key, new)
    for aux in ("aux1", "aux2"):  # GoogLeNet's auxiliary classifiers predict the same classes
        fc2 = getattr(getattr(model, aux, None), "fc2", None)
        if isinstance(fc2, nn.Linear):
            getattr(model, aux).fc2 = nn.Linear(fc2.in_features, num_classes)
    return model


@dataclass
class TrainableSummary:
    """Rows ``(name, type, params, trainable)`` of :func:`trainable_summary`; prints as a table."""

    rows: list
    total_params: int
    trainable_params: int

    def __str__(self):
        width = max([len("layer"), *(len(r[0]) for r in self.rows)])
        lines = [f"{'layer':<{width}}  {'type':<16} {'params':>10}  trainable", "-" * (width + 40)]
        for name, kind, params, trainable in self.rows:
            flag = "yes" if trainable else "no"
            lines.append(f"{name:<{width}}  {kind:<16} {params:>10,}  {flag}")
        lines.append("-" * (width + 40))
        lines.append(f"trainable {self.trainable_params:,} of {self.total_params:,} parameters")
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle):  # pragma: no cover - notebooks only
        p.text(str(self))


def trainable_summary(model):
    """Which layers of ``model`` will train: one row per layer that owns parameters.

    A layer counts as trainable when any of its own parameters has ``requires_grad``.

    Examples
    --------
    >>> m = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    >>> _ = freeze(m[0])
    >>> s = trainable_summary(m)
    >>> s.trainable_params, s.total_params
    (8, 23)
    >>> print(s)  # doctest: +NORMALIZE_WHITESPACE
    layer  type                 params  trainable
    ---------------------------------------------
    0      Linear                   15  no
    1      Linear                    8  yes
    ---------------------------------------------
    trainable 8 of 23 parameters
    """
    rows = []
    for name, m in layers_with_parameters(model):
        params = list(m.parameters(recurse=False))
        rows.append(
            (
                name,
                type(m).__name__,
                sum(p.numel() for p in params),
                any(p.requires_grad for p in params),
            )
        )
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return TrainableSummary(rows, total, trainable)


@torch.no_grad()
def extract_features(base, loader, flatten=True):
    """Run ``base`` once over ``loader`` (eval mode, no gradients) and keep what comes out.

    The first feature-extraction route: afterwards a head trains on the stored features in
    seconds, because the expensive base never runs again. ``base``'s training mode is restored.

    Parameters
    ----------
    base : nn.Module
    loader : iterable of ``(images, labels)`` batches (a ``DataLoader``)
    flatten : bool, default True
        Flatten each feature map to a vector.

    Returns
    -------
    TensorDataset of ``(features, labels)``.

    Shape
    -----
    features ``(N, D)`` with ``flatten`` (else the base's output shape), labels ``(N,)``.
    """
    _check_module(base, "base")
    device = next(base.parameters(), torch.empty(0)).device
    features, labels = [], []
    with eval_mode(base):
        for images, targets in loader:
            out = base(images.to(device))  # (B, ...)
            features.append(out.flatten(1) if flatten else out)
            labels.append(torch.as_tensor(targets))
    if not features:
        raise ValueError("`loader` gave no batches")
    return torch.utils.data.TensorDataset(torch.cat(features).cpu(), torch.cat(labels))


class FrozenBase(nn.Module):
    """A base whose parameters never train and which always runs in eval mode.

    ``model.train()`` on a model that contains a ``FrozenBase`` leaves the base in eval mode, so
    its BatchNorm layers keep using (and never update) their running statistics, and its dropout
    stays off. Only the modules around it learn.
    """

    def __init__(self, base):
        super().__init__()
        _check_module(base, "base")
        self.base = freeze(base)
        self.base.eval()

    def train(self, mode=True):
        return super().train(False)  # whatever the caller asks, the frozen base stays in eval

    def forward(self, x):
        return self.base(x)


def with_frozen_base(base, head):
    """One model ``head(base(x))`` whose base is frozen (a :class:`FrozenBase`).

    The second feature-extraction route: augmentation can transform the images in front of the
    base on every epoch, at the price of running the base on every batch.

    Examples
    --------
    >>> model = with_frozen_base(nn.Sequential(nn.Flatten(), nn.Linear(4, 3)), nn.Linear(3, 2))
    >>> trainable_summary(model).trainable_params
    8
    """
    _check_module(head, "head")
    return nn.Sequential(OrderedDict(base=FrozenBase(base), head=head))


def load_pretrained(num_classes=None, weights="digits-0-4"):
    """The course CNN with shipped weights (``course_cnn(weights=weights)``), in eval mode.

    ``"digits-0-4"`` (the default) was pretrained on digits 0-4, ``"fashion-source"`` on five
    Fashion-MNIST classes (the transfer chapter's base). The weights ship in the package
    (``cvlib/models/weights/``, made by ``python -m cvlib.experiments.pretrain``, each with a
    model card beside it saying what they were trained on). With ``num_classes`` the head is
    replaced by a fresh one (for transfer to a new task); without it the model predicts the
    source classes.

    Examples
    --------
    >>> model = load_pretrained(num_classes=5)
    >>> model(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 5])
    """
    model = course_cnn(weights=weights)
    if num_classes is not None:
        replace_head(model, num_classes)
    return model
