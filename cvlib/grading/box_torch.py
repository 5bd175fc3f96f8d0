"""The grader's tools inside a box, for the checks of the PyTorch assignments (3 to 5).

Networks, data loaders and optimisers do not cross between the grader and the box: they are
built here, in the box, from data the grader sends (initial weights as a state dict, images and
labels as tensors, hyper-parameters as numbers), handed to the student's functions as handles,
and read back as data (weights, outputs, counts). :func:`cvlib.grading.box_helpers.tools` sends
this module's source into a box once (the box has no ``cvlib``); its functions are then proxies
in the grader's process. Everything here runs in the student's process and may be changed by
the student's code: it can only make that student's answers wrong, because the grader decides
on the data that come back (weights loaded into its own copy of the network, accuracy measured
on its own copy of the data).

It imports only torch and the standard library, and holds no answer of any assignment (those the
checks may need as stand-ins are in :mod:`cvlib.grading.box_references`, sent only to the checks
that run after the answer's own check).
"""

import functools

import torch
from torch import nn
from torch.overrides import TorchFunctionMode


def is_module(obj):
    """True for a torch network."""
    return isinstance(obj, nn.Module)


def seed(value):
    """Seed the box's torch and keep it on one thread, as the notebook's first cell does
    (``torch.manual_seed``, ``torch.set_num_threads(1)``; the box runs only its imports)."""
    torch.set_num_threads(1)
    torch.manual_seed(value)


def state(model):
    """The network's state dict, as tensors (data that crosses)."""
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


def parameters(model):
    """``[(name, tensor, requires_grad), ...]`` of the network's parameters, in order."""
    return [
        (name, p.detach().clone(), bool(p.requires_grad)) for name, p in model.named_parameters()
    ]


def training(model):
    """Whether the network is in training mode."""
    return bool(model.training)


def _tiny(kind):
    if kind == "batchnorm":  # output depends on the mode: train_one_epoch's check
        return nn.Sequential(
            nn.Flatten(), nn.Linear(16, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)
        )
    if kind == "dropout":  # evaluate's check
        return nn.Sequential(
            nn.Flatten(), nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 3)
        )
    raise ValueError(f"unknown tiny network {kind!r}")


def conv_bn_relu(in_channels, out_channels, kernel_size=3):
    """``cvlib.nn.conv_bn_relu``: Conv2d without bias (size kept), BatchNorm2d, ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class CourseCNN(nn.Module):
    """``cvlib.models.CourseCNN`` (the same layers, names and state dict)."""

    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.features = nn.Sequential(
            *conv_bn_relu(in_channels, 16),
            nn.MaxPool2d(2),
            *conv_bn_relu(16, 32),
            nn.MaxPool2d(2),
            *conv_bn_relu(32, 64),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(64, num_classes)

    def forward(self, x):
        return self.head(self.features(x))


def network(kind, weights, trainable=None, train=False):
    """A network of the grader's (``"batchnorm"``, ``"dropout"``: the tiny ones;
    ``"course_cnn"``) with the grader's ``weights`` (a state dict), ``trainable`` (names ->
    requires_grad) and mode."""
    torch.set_num_threads(1)  # as the reference here: on two, a step rounds differently (1e-5)
    if kind == "course_cnn":
        model = CourseCNN(num_classes=len(weights["head.bias"]))
    else:
        model = _tiny(kind)
    model.load_state_dict(weights)
    for name, p in model.named_parameters():
        p.requires_grad_(bool((trainable or {}).get(name, True)))
    return model.train(train)


def load(model, weights):
    """Load the grader's ``weights`` into a network (the answers' stand-ins)."""
    model.load_state_dict(weights)
    return None


class CountedData(torch.utils.data.Dataset):
    """The check's training examples, counted as the student's code reads them.

    The tensors are kept out of sight (no ``.tensors``), so the examples come through
    ``__getitem__`` only. Used by the checks in the box and, unboxed, in the notebook.
    """

    def __init__(self, *tensors):
        self._tensors = tensors
        self.read = 0

    def __len__(self):
        return len(self._tensors[0])

    def __getitem__(self, index):
        if torch.utils.data.get_worker_info() is not None:  # a worker process: uncounted
            raise RuntimeError(
                "read the training data in the main process (a DataLoader without "
                "num_workers): the test counts the images your code reads"
            )
        self.read += 1
        return tuple(t[index] for t in self._tensors)


def counted(*tensors):
    """A :class:`CountedData` of ``tensors``."""
    return CountedData(*tensors)


def loader(data, batch_size, shuffle=False, generator_seed=None):
    """A DataLoader over ``data`` (a list of tensors: a TensorDataset; or a data set kept here)."""
    if isinstance(data, (list, tuple)):
        data = torch.utils.data.TensorDataset(*data)
    generator = None if generator_seed is None else torch.Generator().manual_seed(generator_seed)
    return torch.utils.data.DataLoader(
        data, batch_size=batch_size, shuffle=shuffle, generator=generator
    )


def sgd(model, lr, momentum):
    """``torch.optim.SGD`` over the network's parameters."""
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)


def cross_entropy():
    """``nn.CrossEntropyLoss()``."""
    return nn.CrossEntropyLoss()


class Backpropagated:
    """Counts the examples whose loss flows back through ``model``: a forward hook marks each
    output, a tensor hook on it counts its rows when the gradient passes."""

    def __init__(self, model):
        self.count = 0
        self.handle = model.register_forward_hook(self.forward_hook)

    def forward_hook(self, module, inputs, output):
        if isinstance(output, torch.Tensor) and output.requires_grad:
            output.register_hook(functools.partial(self.backward_hook, len(output)))

    def backward_hook(self, n, grad):
        self.count += n

    def remove(self):
        self.handle.remove()


def backpropagated(model):
    """A :class:`Backpropagated` counter on ``model``."""
    return Backpropagated(model)


def counts(counter, data):
    """``(images backpropagated, images read)``; removes the counter's hook."""
    counter.remove()
    return int(counter.count), int(data.read)


class ShapeTrace(TorchFunctionMode):
    """Records ``(operation, per-image output shape)`` of every torch call on a batch of ``n``."""

    def __init__(self, n):
        super().__init__()
        self.n, self.steps = n, []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if isinstance(out, torch.Tensor) and out.ndim >= 2 and out.shape[0] == self.n:
            self.steps.append((getattr(func, "__name__", str(func)), tuple(out.shape[1:])))
        return out


def trace(model, x):
    """``(model(x), [(operation, per-image output shape), ...])`` without gradients, every torch
    operation of the forward pass recorded."""
    tracer = ShapeTrace(len(x))
    with torch.no_grad(), tracer:
        out = model(x)
    return out, tracer.steps


class _Modes:
    def __init__(self, model):
        self.modes = []
        self.handle = model.register_forward_pre_hook(self.record)

    def record(self, module, args):
        self.modes.append(bool(module.training))


def record_modes(model):
    """Start recording the mode the network runs in at each forward pass."""
    return _Modes(model)


def modes(recorder):
    """The modes recorded (True: training); removes the hook."""
    recorder.handle.remove()
    return list(recorder.modes)


def forward(model, x):
    """``model(x)`` without gradients."""
    with torch.no_grad():
        return model(x)
