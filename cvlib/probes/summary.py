"""Layer-by-layer summary of a PyTorch model: output shapes, parameters, cost, receptive field.

:func:`summary` runs one forward pass on a zero input with a forward hook on every leaf module
(a module without children, or one that holds parameters of its own), so nested containers
(ResNet blocks, Inception branches) are followed down to their convolutions. One row per call, in
execution order.

Counting conventions
--------------------
- ``params``: parameters the module holds directly, counted on its first call only (a module
  called twice, like the ReLU reused inside torchvision's ResNet blocks, gets a second row with 0).
  Leaf modules with parameters that never run (GoogLeNet's auxiliary heads in eval mode) are listed
  at the end with ``output_shape=None``, so ``total_params == sum(p.numel() for p in
  model.parameters())``.
- ``macs``: multiply-accumulate operations (one multiply and one add) for ONE input image, counted
  for convolutions and linear layers only, biases excluded:
  convolution ``C_out * H_out * W_out * (C_in / groups) * kH * kW``, linear ``in * out``.
  Pools, activations and batch norm cost comparatively little and count 0. Many papers call this
  number "FLOPs"; strictly a multiply-add is two floating-point operations.
- ``receptive_field``: side of the square of input pixels that one output cell depends on (a pair
  for non-square kernels); ``jump``: distance in input pixels between neighbouring output cells
  (the product of the strides so far). A convolution or pool with kernel k, dilation d and
  stride s maps ``(r, j)`` to ``(r + d*(k - 1)*j, j*s)``; elementwise layers keep both. Dense
  layers, flatten and adaptive pools see the whole input: ``None``.

How branches are tracked (honestly): each tensor a hooked layer produces is remembered with its
``(r, j)``; a layer whose input is one of these tensors (or a view of it) starts from it, so a
ResNet shortcut projection starts from the block's input, not from the conv before it. Tensors made
outside modules (``torch.cat`` in Inception, ``out + identity`` when not in place, functional
calls) are unknown; a layer reading one continues from the layer executed just before it. The
residual addition itself is not a module and adds no row: in-place ``out += identity`` keeps the
main path's ``(r, j)``, which is the larger of the two. After an Inception module the next layer
continues from the last branch run (the pool projection), which is not always the widest branch.
The receptive field may exceed the image: it counts padding positions too.
"""

from dataclasses import dataclass

import torch
from torch import nn

_POOLS = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
_GLOBAL = (
    nn.Linear,
    nn.Flatten,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool2d,
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveMaxPool1d,
)


@dataclass
class Row:
    """One call of one leaf module (see the module docstring for the conventions)."""

    name: str
    type: str
    output_shape: tuple | None
    params: int
    trainable: int
    macs: int
    receptive_field: int | tuple | None
    jump: int | tuple | None


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _square(p):
    return None if p is None else (p[0] if p[0] == p[1] else p)


def _first_tensor(x):
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, (tuple, list)):
        for item in x:
            t = _first_tensor(item)
            if t is not None:
                return t
    return None


def count_macs(module, x, out):
    """Multiply-adds for one sample of a Conv/ConvTranspose/Linear call, else 0.

    Examples
    --------
    >>> conv = nn.Conv2d(3, 32, 5)
    >>> x = torch.zeros(1, 3, 100, 100)
    >>> count_macs(conv, x, conv(x))  # 32 * 96 * 96 * 3 * 5 * 5
    22118400
    """
    n = out.shape[0] if out.dim() > 1 else 1
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        per_input = module.out_channels // module.groups * _prod(module.kernel_size)
        return x.numel() // n * per_input
    if isinstance(module, nn.modules.conv._ConvNd):
        per_output = module.in_channels // module.groups * _prod(module.kernel_size)
        return out.numel() // n * per_output
    if isinstance(module, nn.Linear):
        return out.numel() // n * module.in_features
    return 0


def _prod(values):
    result = 1
    for v in values:
        result *= v
    return result


def _next_field(module, field):
    """(receptive field, jump) pairs after `module`, given the pairs before it (None = global)."""
    if isinstance(module, _GLOBAL) or field is None:
        return None
    (rh, rw), (jh, jw) = field
    if isinstance(module, (nn.modules.conv._ConvNd, *_POOLS)) and not isinstance(
        module, nn.modules.conv._ConvTransposeNd
    ):
        (kh, kw), (sh, sw) = _pair(module.kernel_size), _pair(module.stride or module.kernel_size)
        (dh, dw) = _pair(getattr(module, "dilation", 1))
        return (rh + dh * (kh - 1) * jh, rw + dw * (kw - 1) * jw), (jh * sh, jw * sw)
    return field


class Summary:
    """What :func:`summary` returns: ``rows`` plus totals; ``print(s)`` shows the table.

    Attributes
    ----------
    rows : list of Row
    input_size : tuple
    total_params, trainable_params, total_macs : int
    """

    def __init__(self, rows, input_size):
        self.rows = rows
        self.input_size = tuple(input_size)
        self.total_params = sum(r.params for r in rows)
        self.trainable_params = sum(r.trainable for r in rows)
        self.total_macs = sum(r.macs for r in rows)

    def __getitem__(self, name):
        """The first row called `name`."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no row named {name!r}")

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __str__(self):
        header = ("Layer", "Type", "Output shape", "Params", "MACs", "RF", "Jump")
        lines = [header]
        for r in self.rows:
            shape = "-" if r.output_shape is None else "x".join(map(str, r.output_shape))
            lines.append(
                (
                    r.name,
                    r.type,
                    shape,
                    f"{r.params:,}",
                    f"{r.macs:,}",
                    _fmt(r.receptive_field),
                    _fmt(r.jump),
                )
            )
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        rule = "-" * (sum(widths) + 2 * (len(widths) - 1))

        def fmt(line):
            left = [c.ljust(w) for c, w in zip(line[:3], widths[:3], strict=True)]
            right = [c.rjust(w) for c, w in zip(line[3:], widths[3:], strict=True)]
            return "  ".join(left + right).rstrip()

        out = [fmt(lines[0]), rule, *map(fmt, lines[1:]), rule]
        out.append(f"Input: {'x'.join(map(str, self.input_size))} (one image)")
        out.append(f"Total params: {self.total_params:,} (trainable {self.trainable_params:,})")
        out.append(
            f"Total MACs: {self.total_macs:,} multiply-adds per image "
            f"({self.total_macs / 1e9:.3f} G; conv and linear layers only)"
        )
        return "\n".join(out)

    __repr__ = __str__


def _fmt(v):
    if v is None:
        return "-"
    return str(v) if isinstance(v, int) else "x".join(map(str, v))


def summary(model, input_size, *, device=None, dtype=torch.float32):
    """Summarise `model` by running a zero input of shape ``(1, *input_size)`` through it.

    Parameters
    ----------
    model : torch.nn.Module
    input_size : sequence of int
        Shape of one input without the batch dimension, e.g. ``(3, 224, 224)``.
    device : torch.device or str, optional
        Where to build the input; default: where the model's first parameter lives.
    dtype : torch.dtype, default torch.float32

    Returns
    -------
    Summary
        ``.rows``, ``.total_params``, ``.trainable_params``, ``.total_macs``; printable.

    Raises
    ------
    TypeError
        If `model` is not a module or `input_size` is not a sequence of ints.
    ValueError
        If a dimension of `input_size` is not positive.

    Notes
    -----
    The model runs once in eval mode under ``torch.no_grad()``; its train/eval flags are restored.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2))
    >>> s = summary(net, (1, 8, 8))
    >>> [(r.name, r.output_shape, r.receptive_field, r.jump) for r in s.rows]
    [('0', (4, 6, 6), 3, 1), ('1', (4, 6, 6), 3, 1), ('2', (4, 3, 3), 4, 2)]
    >>> s.total_params, s.total_macs  # 4*9 + 4;  4*6*6 * 1*3*3
    (40, 1296)
    """
    _check_arguments(model, input_size)
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else "cpu"
    leaves = [
        (name, m)
        for name, m in model.named_modules()
        if not any(True for _ in m.children()) or any(True for _ in m.parameters(False))
    ]
    recorder = _Recorder()
    modes = {m: m.training for m in model.modules()}
    handles = [
        m.register_forward_hook(recorder.hook(name or type(m).__name__, m)) for name, m in leaves
    ]
    x = torch.zeros(1, *input_size, device=device, dtype=dtype)
    recorder.fields[x.data_ptr()] = (x, ((1, 1), (1, 1)))
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes.items():
            m.training = mode
    for name, m in leaves:  # parameters of layers that did not run (e.g. auxiliary heads)
        params = list(m.parameters(recurse=False))
        if m not in recorder.seen and params:
            n, trainable = (
                sum(p.numel() for p in params),
                sum(p.numel() for p in params if p.requires_grad),
            )
            recorder.rows.append(Row(name, type(m).__name__, None, n, trainable, 0, None, None))
    return Summary(recorder.rows, input_size)


def _check_arguments(model, input_size):
    if not isinstance(model, nn.Module):
        raise TypeError(f"`model` must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(input_size, (tuple, list, torch.Size)) or not all(
        isinstance(d, int) for d in input_size
    ):
        raise TypeError(
            f"`input_size` must be a sequence of ints like (3, 224, 224), got {input_size!r}"
        )
    if any(d <= 0 for d in input_size):
        raise ValueError(f"`input_size` must have positive dimensions, got {tuple(input_size)}")


class _Recorder:
    """The forward hooks' shared state: one :class:`Row` per call, in execution order.

    ``fields`` maps a tensor's address to ``(tensor, (receptive field, jump))`` (the tensor is
    kept alive so that its address stays unique); ``last`` is the pair of the last layer run.
    """

    def __init__(self):
        self.rows, self.seen, self.calls, self.fields = [], set(), {}, {}
        self.last = ((1, 1), (1, 1))

    def hook(self, name, module):
        def record(mod, inputs, output):
            x, out = _first_tensor(inputs), _first_tensor(output)
            if out is None:
                return
            before = (
                self.fields.get(x.data_ptr(), (None, self.last))[1] if x is not None else self.last
            )
            field = _next_field(mod, before)
            self.fields[out.data_ptr()] = (out, field)
            self.last = field
            self.calls[name] = self.calls.get(name, 0) + 1
            first_call = module not in self.seen
            self.seen.add(module)
            params = list(module.parameters(recurse=False)) if first_call else []
            self.rows.append(
                Row(
                    name=name if self.calls[name] == 1 else f"{name}#{self.calls[name]}",
                    type=type(module).__name__,
                    output_shape=tuple(out.shape[1:]),
                    params=sum(p.numel() for p in params),
                    trainable=sum(p.numel() for p in params if p.requires_grad),
                    macs=count_macs(mod, x, out) if x is not None else 0,
                    receptive_field=None if field is None else _square(field[0]),
                    jump=None if field is None else _square(field[1]),
                )
            )

        return record
