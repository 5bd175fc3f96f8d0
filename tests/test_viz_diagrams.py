"""The diagrams of cvlib.viz render (to PNG, Agg) and write the numbers of the code they show,
checked against independent computations (PyTorch layers, forward hooks, torchvision)."""

import io

import numpy as np
import pytest
import torch
import torchvision.ops as tvops
from matplotlib.colors import to_rgb
from torch import nn

import cvlib
from cvlib import viz
from cvlib.data import shapes
from cvlib.detection import crop_and_warp
from cvlib.models import BasicBlock, Bottleneck, Inception, PreActBlock, fcn_small, resnet18
from cvlib.models.googlenet import INCEPTION_CFG
from cvlib.viz._draw import COLOURS


def rendered(fig):
    """The figure drawn to PNG bytes (fails if anything in it cannot be drawn)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    return fig


def texts(fig, axes=0):
    return [t.get_text() for t in fig.axes[axes].texts]


@pytest.mark.parametrize(
    ("c_in", "size", "k", "c_out", "stride", "padding"), [(3, 6, 3, 2, 1, 0), (4, 9, 3, 5, 2, 1)]
)
def test_conv_volume_diagram_writes_pytorchs_shapes(c_in, size, k, c_out, stride, padding):
    fig = rendered(viz.conv_volume_diagram(c_in, size, k, c_out, stride, padding))
    layer = nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding)
    out = layer(torch.zeros(1, c_in, size, size)).shape[1:]
    written = texts(fig)
    assert f"output {out[0]} x {out[1]} x {out[2]}" in written
    assert f"input {c_in} x {size} x {size}" in written
    weights = layer.weight[0].numel()
    assert any(f"= {weights} weights + 1 bias" in t for t in written)


STACKS = [
    [("conv 3x3", 3, 1)] * 3,
    [("conv 3x3", 3, 1), ("pool 2", 2, 2), ("conv 3x3", 3, 1), ("pool 2", 2, 2), ("conv", 3, 1)],
    [("conv 5x5 / 2", 5, 2), ("conv 3x3", 3, 1)],
]


def torch_stack(layers):
    modules = []
    for name, k, s in layers:
        modules.append(nn.MaxPool2d(k, s) if name.startswith("pool") else nn.Conv2d(1, 1, k, s))
    return nn.Sequential(*modules)


@pytest.mark.parametrize("layers", STACKS)
def test_receptive_field_diagram_agrees_with_the_summary(layers):
    fig = rendered(viz.receptive_field_diagram(layers))
    rows = cvlib.summary(torch_stack(layers), (1, 64, 64)).rows
    assert fig.receptive_fields == [r.receptive_field for r in rows]
    assert f"RF {fig.receptive_fields[-1]}, jump {rows[-1].jump}" in texts(fig)
    highlight = to_rgb(COLOURS["highlight"])
    input_row = [p for p in fig.axes[0].patches if p.get_y() == 0.0]
    lit = [p for p in input_row if np.allclose(p.get_facecolor()[:3], highlight)]
    assert len(lit) == fig.receptive_fields[-1]  # the highlighted input cells are the field


def test_im2col_diagram_shows_unfolds_matrix():
    x = np.arange(20.0).reshape(4, 5)
    fig = rendered(viz.im2col_diagram(x, 3, stride=1))
    unfold = torch.nn.functional.unfold(torch.tensor(x)[None, None], 3)[0].numpy()  # (9, 6)
    written = [float(t) for t in texts(fig, 1)]
    np.testing.assert_array_equal(np.array(written).reshape(unfold.shape), unfold)
    assert (
        fig.axes[1].get_title().startswith(f"im2col matrix, {unfold.shape[0]} x {unfold.shape[1]}")
    )
    assert len(fig.axes[0].patches) == x.size + unfold.shape[1]  # cells, then one window each
    with pytest.raises(ValueError, match="x"):
        viz.im2col_diagram(np.zeros((2, 3, 3)))


@pytest.mark.parametrize("name", ["inception3a", "inception4e"])
def test_inception_diagram_widths_are_the_modules(name):
    cfg = INCEPTION_CFG[name]
    size = 28 if name.startswith("inception3") else 14
    fig = rendered(viz.inception_diagram(cfg, size=size))
    out = Inception(*cfg)(torch.zeros(1, cfg[0], size, size)).shape
    assert f"output {out[1]} x {out[2]} x {out[3]}" in texts(fig)
    _, c1, r3, c3, r5, c5, proj = cfg
    assert f"concatenate: {c1} + {c3} + {c5} + {proj} channels" in texts(fig)
    assert f"1x1 conv, {r3}" in texts(fig) and f"1x1 conv, {r5}" in texts(fig)
    with pytest.raises(ValueError, match="config"):
        viz.inception_diagram(cfg[:6])


def conv_lines(fig):
    return [" ".join(t.split()) for t in texts(fig) if "conv" in t and "projection" not in t]


def test_block_diagram_reads_the_blocks():
    projected = resnet18().layer2[0]  # 64 -> 128, stride 2, 1x1 projection
    blocks = [BasicBlock(64, 64), projected, Bottleneck(256, 64), PreActBlock(16, 32, 2)]
    fig = rendered(
        viz.block_diagram(blocks, ["basic", "with a projection", "bottleneck", "pre-act"])
    )
    expected = []
    for block in blocks:
        for conv in (getattr(block, f"conv{i}", None) for i in (1, 2, 3)):
            if conv is not None:
                k, s = conv.kernel_size[0], conv.stride[0]
                text = f"{k}x{k} conv {conv.in_channels}→{conv.out_channels}"
                expected.append(text + (f", stride {s}" if s > 1 else ""))
    assert conv_lines(fig) == expected
    shortcuts = [
        t for t in texts(fig) if t == "identity" or t.startswith(("projection", "subsample"))
    ]
    assert shortcuts[0] == "identity" and shortcuts[2] == "identity"
    assert " ".join(shortcuts[1].split()) == "projection 1x1 conv 64→128, stride 2 + batch norm"
    assert shortcuts[3].startswith("subsample")  # option A in the pre-activation block
    order = [t for t in texts(fig) if t in ("batch norm", "ReLU") or "conv" in t]
    assert order[-6:-3] == ["batch norm", "ReLU", "3x3 conv\n16→32, stride 2"]  # BN first
    assert texts(fig).count("ReLU") == 2 + 2 + 3 + 2  # none after the pre-act addition
    with pytest.raises(ValueError, match="titles"):
        viz.block_diagram(blocks, ["one"])


@pytest.mark.parametrize(("batch", "channels", "groups"), [(4, 6, 2), (3, 8, 4)])
def test_norm_axes_diagram_shades_the_normalised_sets(batch, channels, groups):
    fig = rendered(viz.norm_axes_diagram(batch, channels, groups))
    shaded = np.array(viz._draw.lighter(COLOURS["highlight"], 0.2))
    per_cube = len(fig.axes[0].patches) // 4
    counts = []
    for k in range(4):
        faces = fig.axes[0].patches[k * per_cube : (k + 1) * per_cube]
        counts.append(sum(np.allclose(p.get_facecolor()[:3], shaded) for p in faces))
    assert counts == [batch, channels, 1, channels // groups]  # BN, LN, IN, GN front cells
    with pytest.raises(ValueError, match="groups"):
        viz.norm_axes_diagram(4, 6, 4)


def test_fcn_diagram_shapes_are_the_networks():
    model = fcn_small()
    fig = rendered(viz.fcn_diagram(model, (3, 32, 32)))
    seen = {}
    for name in ("stage1", "stage2", "stage3", "up2", "mix2", "up1", "mix1", "classifier"):
        module = getattr(model, name)

        def record(module, inputs, output, name=name):
            seen[name] = output.shape  # (returns None: the output is left alone)

        module.register_forward_hook(record)
    model.eval()(torch.zeros(1, 3, 32, 32))
    labels = [" x ".join(map(str, seen[n][1:])) for n in seen]
    written = texts(fig)
    assert all(label in written for label in labels)
    assert "4 x 32 x 32" in written


def test_rcnn_diagram_draws_the_real_pipeline():
    data = shapes(2, size=32, max_objects=2, seed=3, task="detect")
    image, target = data[1]
    proposals = torch.tensor([[0.0, 0, 16, 16], [8, 8, 24, 24], [16, 16, 32, 32]])
    crops = crop_and_warp(image[None], [proposals], 16)
    detections = {"boxes": target["boxes"], "labels": target["labels"]}
    fig = rendered(viz.rcnn_diagram(image, proposals, crops, detections, data.classes, 230))
    assert len(fig.axes[0].child_axes) == 1 + 3 + 1  # the image, three crops, the detections
    names = ", ".join(data.classes[c] for c in target["labels"].tolist())
    assert f"5. detections:\n{names}" in texts(fig)
    assert any("230 proposals" in t for t in texts(fig))


@pytest.mark.parametrize(
    ("box", "size", "scale"), [((1, 0, 4, 5), 2, 1.0), ((4, 8, 27, 24), (2, 3), 0.25)]
)
def test_roi_pool_diagram_values_are_torchvisions(box, size, scale):
    f = np.random.default_rng(1).integers(0, 20, (8, 8)).astype(np.float32)
    fig = rendered(viz.roi_pool_diagram(f, box, size, scale))
    theirs = tvops.roi_pool(
        torch.tensor(f)[None, None],
        [torch.tensor([box], dtype=torch.float32)],
        size,
        spatial_scale=scale,
    )[0, 0]
    assert [float(t) for t in texts(fig, 1)] == theirs.flatten().tolist()


def test_captioning_diagram_and_embedding_plot():
    fig = rendered(viz.captioning_diagram(("one", "square", "<end>"), ("how", "many", "?"), "one"))
    assert "answer: one" in texts(fig) and texts(fig).count("LSTM") == 3 + 3
    points = np.random.default_rng(0).normal(size=(40, 2))
    fig = rendered(
        viz.plot_embedding(points, np.arange(40) % 4, class_names=list("abcd"), markers={3: "x"})
    )
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == list("abcd")
    with pytest.raises(ValueError, match="points"):
        viz.plot_embedding(np.zeros((3, 3)), [0, 1, 2])


def test_computational_graph_diagram_writes_autograd_numbers():
    # f = (x * y + z) * w, values and gradients from torch.autograd, not from the diagram
    leaves = {
        k: torch.tensor(v, requires_grad=True)
        for k, v in {"x": 3.0, "y": -2.0, "z": 4.0, "w": -3.0}.items()
    }
    q = leaves["x"] * leaves["y"]
    s = q + leaves["z"]
    f = s * leaves["w"]
    for t in (q, s):
        t.retain_grad()
    f.backward()
    inner = {"q": (q, q.grad), "s": (s, s.grad), "f": (f, torch.tensor(1.0))}
    nodes = {k: (0, i, k, v.item(), v.grad.item()) for i, (k, v) in enumerate(leaves.items())}
    for i, (k, (t, g)) in enumerate(inner.items()):
        nodes[k] = (2 + i, 1, k, t.item(), g.item())
    edges = [("x", "q"), ("y", "q"), ("q", "s"), ("z", "s"), ("s", "f"), ("w", "f")]
    fig = rendered(viz.computational_graph_diagram(nodes, edges))
    written = texts(fig)
    for _, value, grad in fig.labels:
        assert value in written and grad in written
    assert dict((n, (v, g)) for n, v, g in fig.labels)["x"] == ("3", "6")  # df/dx = w * y = 6
    assert len(fig.axes[0].patches) == len(nodes) + len(edges)


def test_computational_graph_diagram_rejects_unknown_edges():
    with pytest.raises(ValueError, match="edges"):
        viz.computational_graph_diagram({"a": (0, 0, "a", 1.0, 1.0)}, [("a", "b")])
