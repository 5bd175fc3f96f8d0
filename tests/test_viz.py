"""Tests for cvlib.viz: every function returns a Figure with the expected axes (Agg backend)."""

import re

import numpy as np
import pytest
import torch
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from model_helpers import tiny_cnn
from torch import nn

from cvlib import viz
from cvlib.viz import show_matrices, show_matrix
from cvlib.viz._figure import to_image


@pytest.mark.parametrize(
    "images",
    [
        np.random.default_rng(0).integers(0, 256, (7, 16, 16, 3), dtype=np.uint8),  # NHWC uint8
        torch.rand(7, 3, 16, 16),  # NCHW float
        torch.rand(7, 1, 16, 16),  # grayscale with a channel axis
        [np.zeros((16, 16))] * 7,  # list of grayscale
    ],
)
def test_show_images_layouts(images):
    fig = viz.show_images(images, titles=[str(i) for i in range(7)], ncols=4)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 7
    assert fig.axes[3].get_title() == "3"


def test_to_image_handles_layouts_and_ranges():
    chw = torch.arange(3 * 4 * 5, dtype=torch.float32).reshape(3, 4, 5)
    hwc = to_image(chw)
    assert hwc.shape == (4, 5, 3)
    assert hwc.min() == 0.0 and hwc.max() == 1.0  # rescaled from 0..59
    assert to_image(np.full((4, 4, 3), 255, np.uint8)).max() == 1.0
    assert to_image(np.full((1, 4, 4), 0.25)).shape == (4, 4)
    with pytest.raises(ValueError, match="image"):
        to_image(np.zeros((2, 4, 4, 4, 4)))
    with pytest.raises(ValueError, match="titles"):
        viz.show_images(np.zeros((2, 8, 8)), titles=["one"])  # two grayscale images


def test_show_filters_grid_and_colour():
    conv = nn.Conv2d(3, 10, 5)
    assert len(viz.show_filters(conv).axes) == 10
    assert len(viz.show_filters(conv.weight, channel=1).axes) == 10
    assert len(viz.show_filters(np.ones((3, 3))).axes) == 1
    with pytest.raises(ValueError, match="channel"):
        viz.show_filters(conv, channel=3)


def test_show_feature_maps_draws_the_probe():
    model = tiny_cnn()
    image = torch.rand(3, 16, 16)
    assert len(viz.show_feature_maps(model, image, "3", max_maps=5).axes) == 5
    assert len(viz.show_feature_maps(model, image, "0").axes) == 6
    with pytest.raises(ValueError, match="layer"):
        viz.show_feature_maps(model, image, "nope")


def test_plot_seed_results_bars_and_dots():
    from cvlib.experiments import SeedResults

    r = SeedResults({"a": [0.5, 0.7], "b": [0.9, 0.8]}, seeds=(0, 1), setting="toy")
    ax = viz.plot_seed_results(r)
    heights = [round(bar.get_height(), 6) for bar in ax.patches]
    assert heights == [0.6, 0.85]
    assert [list(line.get_ydata()) for line in ax.lines if len(line.get_ydata()) == 2][-2:] == [
        [0.5, 0.7],
        [0.9, 0.8],
    ]
    with pytest.raises(TypeError, match="result"):
        viz.plot_seed_results(object())


def test_plot_history_duck_typed():
    class History:
        def __init__(self):
            self.train_loss = [1.0, 0.6, 0.4]
            self.train_acc = [0.5, 0.7, 0.8]
            self.val_loss = [1.1, 0.8, 0.7]
            self.val_acc = [0.4, 0.6, 0.7]

    fig = viz.plot_history(History())
    assert len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 2
    assert loss_ax.get_xlabel() == "epoch" and acc_ax.get_ylabel() == "accuracy"
    np.testing.assert_allclose(acc_ax.lines[1].get_ydata(), History().val_acc)
    with pytest.raises(TypeError, match="history"):
        viz.plot_history(object())


def test_plot_confusion_counts_and_normalised():
    confusion = np.array([[5, 1, 0], [2, 3, 0], [0, 0, 4]])
    fig = viz.plot_confusion(confusion, class_names=["a", "b", "c"])
    assert len(fig.axes) == 1
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts[:3] == ["5", "1", "0"]
    fig = viz.plot_confusion(torch.tensor(confusion), normalize=True)
    assert fig.axes[0].texts[0].get_text() == "0.83"  # 5 / 6
    with pytest.raises(ValueError, match="square"):
        viz.plot_confusion(np.zeros((2, 3)))


def test_overlay_heatmap_draw_boxes_overlay_mask():
    image = torch.rand(3, 16, 16)
    assert len(viz.overlay_heatmap(image, [torch.rand(16, 16)] * 2, titles=["a", "b"]).axes) == 3
    fig = viz.draw_boxes(
        image,
        torch.tensor([[1.0, 1, 8, 8], [4, 4, 12, 14]]),
        labels=[0, 2],
        scores=[0.9, 0.5],
        class_names=["c", "s", "t"],
        true_boxes=torch.tensor([[1.0, 1, 9, 9]]),
    )
    assert len(fig.axes) == 1
    assert len(fig.axes[0].patches) == 3
    assert [t.get_text() for t in fig.axes[0].texts] == ["c 0.90", "t 0.50"]
    mask = torch.zeros(16, 16, dtype=torch.long)
    mask[2:6, 2:6] = 1
    assert len(viz.overlay_mask(image, mask).axes) == 1
    assert len(viz.overlay_mask(image, mask, true_mask=mask, class_names=["c", "s", "t"]).axes) == 2
    with pytest.raises(ValueError, match="mask"):
        viz.overlay_mask(image, torch.zeros(8, 8, dtype=torch.long))


def test_conv_animation_frames_and_html():
    image = np.arange(25.0).reshape(5, 5)
    anim = viz.conv_animation(image, np.ones((3, 3)), stride=2, padding=1)
    assert isinstance(anim, FuncAnimation)
    assert len(anim._fig.axes) == 3
    # padded 7x7, kernel 3, stride 2: a 3x3 output, so 9 frames
    assert anim.to_jshtml().count("data:image/png") == 9
    html = viz.conv_animation_html(image, np.ones((3, 3)), stride=2, padding=1, as_string=True)
    # the player is self-contained: no stylesheet or font from another host, no icon-font markup
    assert "http" not in html.lower().replace("http-equiv", "")
    assert 'class="fa' not in html and "\u25b6" in html
    assert html.count("data:image/png") == 9
    assert "<script" in html
    assert viz.conv_animation_html(np.eye(3), np.ones((2, 2))).data.count("data:image/png") == 4
    with pytest.raises(ValueError, match="kernel"):
        viz.conv_animation(np.eye(3), np.ones((4, 4)))


def test_conv_animation_html_names_its_frames_and_slider():
    image = np.arange(25.0).reshape(5, 5)
    html = viz.conv_animation_html(image, np.ones((3, 3)), stride=2, padding=1, as_string=True)
    alt = re.search(r'<img alt="([^"]+)" id="_anim_img', html).group(1)
    # says what the frames show, with the numbers of this animation: 9 steps, 3x3 output
    assert alt.startswith("Animation in 9 steps: a 3 by 3 kernel slides with stride 2")
    assert "5 by 5 input, padded by 1 pixel of zeros" in alt and "3 by 3 output" in alt
    assert re.search(r'<input aria-label="[^"]+" id="_anim_slider', html)
    own = viz.conv_animation_html(np.eye(3), np.ones((2, 2)), as_string=True, alt='a "quoted" <b>')
    assert 'alt="a &quot;quoted&quot; &lt;b&gt;"' in own  # escaped, never markup


def test_animation_last_frame_is_the_convolution():
    image = np.arange(16.0).reshape(4, 4)
    kernel = np.array([[1.0, 0.0], [0.0, -1.0]])
    anim = viz.conv_animation(image, kernel)
    anim.to_jshtml()  # draws every frame, leaving the last one
    out = anim._fig.axes[2].images[0].get_array()
    expected = torch.nn.functional.conv2d(
        torch.tensor(image)[None, None], torch.tensor(kernel)[None, None]
    )[0, 0].numpy()
    np.testing.assert_allclose(np.asarray(out), expected)


# --- moved from the teaching-helpers tests ----------------------------------------


def test_show_matrix_writes_every_value():
    a = np.array([[1, -2], [3, 4]])
    fig = show_matrix(a, title="a", fmt="d")
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["-2", "1", "3", "4"]
    assert fig.axes[0].get_title() == "a"
    fig = show_matrices([("x", np.eye(3)), ("y", a)], suptitle="two")
    assert len(fig.axes) == 2 and len(fig.axes[0].texts) == 9


def test_show_matrix_bad_input():
    with pytest.raises(ValueError, match="a"):
        show_matrix(np.zeros((2, 2, 2)))
