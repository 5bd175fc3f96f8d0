"""Submissions the grading must judge right, for every assignment (issue 11).

- ``LIBRARY[name]``: every answer hands its work to a library implementation of the very thing it
  asks for; ``grade_id -> (source, the call the failure message must name)``. Each loses its points.
- ``ALTERNATIVE[name]``: every answer correct but written differently from the solution
  (vectorised numpy, functional PyTorch, another NMS formulation); full marks.
- ``WRONG[name]``: submissions of plausible bugs, one per answer: ``grade_id -> (edit, message)``
  where ``edit`` is ``(old, new)`` applied to the solution's code (or a whole source) and
  ``message`` what the feedback must say. Each costs exactly its answer's points.

The same submissions serve the in-process tests (:func:`run_in_process`, seconds) and the real
nbgrader round trips (``tests/test_nbgrader*.py``, :func:`answers`).
"""

import contextlib
import io
from pathlib import Path

import nbformat

from cvlib.grading.a6_capstone.training import VISIBLE_TARGET
from cvlib.tools.grading import demo

ROOT = Path(__file__).resolve().parents[1]
TESTS = {"train_model": "test_trained_model"}  # answer -> its test cell, where the names differ


def graded_cell(answer):
    return TESTS.get(answer, f"test_{answer}")


def solution_notebook(name):
    return nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4)


def solutions(name):
    """``{grade_id: code}`` of the instructor's answers (marker lines removed; the written
    answers, graded by hand, left out)."""
    return {
        c.metadata.nbgrader["grade_id"]: demo.solution_code(c)
        for c in solution_notebook(name).cells
        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
    }


def answers(name, submission):
    """``{grade_id: source}`` of a submission ``{grade_id: (source or (old, new), message)}``:
    whole sources kept, ``(old, new)`` edits applied to the solution's code."""
    code = solutions(name)
    out = {}
    for grade_id, (change, _) in submission.items():
        if isinstance(change, tuple):  # None stays None: the blank stub
            old, new = change
            assert old in code[grade_id], f"{name}/{grade_id}: {old!r} not in the solution"
            change = code[grade_id].replace(old, new)
        out[grade_id] = change
    return out


def messages(submission):
    """``{test_id: what its failure message must say}`` of a submission."""
    return {graded_cell(grade_id): message for grade_id, (_, message) in submission.items()}


def stub(source):
    """What the student version holds: each solution region replaced by nbgrader's stub."""
    out, inside = [], False
    for line in source.splitlines():
        if line.strip() == "### BEGIN SOLUTION":
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
        elif line.strip() == "### END SOLUTION":
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def namespace(name):
    """The notebook's imports and the instructor's answers, executed as a notebook would
    (``__name__ == "__main__"``): the solution functions, to build test answers from."""
    space = {"__name__": "__main__"}
    for cell in solution_notebook(name).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "imports" or (meta.get("solution") and cell.cell_type == "code"):
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(demo.solution_code(cell), f"<{meta['grade_id']}>", "exec"), space)
    return space


def run_in_process(name, submitted=None, skip=(), cells=()):
    """Run a notebook's imports, answers and test cells (hidden tests included) in this process.

    ``submitted`` replaces answers (``{grade_id: source}``, None: the blank stub); test cells in
    ``skip`` are left out (the cells after a failed answer's test still run); ``cells`` names
    (by cell id) the notebook's other cells to run too, e.g. assignment 6's ``"run-train"``.
    Returns ``{test_id: None if it passed, else the failure message}``.
    """
    space = {"__name__": "__main__"}
    results = {}
    for cell in solution_notebook(name).cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if cell.cell_type != "code" or grade_id in skip:
            continue
        if meta.get("solution"):
            source = (submitted or {}).get(grade_id, demo.solution_code(cell))
            source = stub(cell.source) if source is None else source
        elif meta.get("grade") or grade_id in ("imports", "data") or cell.get("id") in cells:
            source = cell.source
        else:
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source, f"<{grade_id}>", "exec"), space)
        except Exception as error:
            if meta.get("grade"):
                results[grade_id] = f"{type(error).__name__}: {error}"
            continue
        if meta.get("grade"):
            results[grade_id] = None
    return results


# --- assignment 1 ----------------------------------------------------------------------------

LIBRARY = {}
ALTERNATIVE = {}
WRONG = {}

LIBRARY["a1_convolution"] = {
    "zero_pad": (
        "import cvlib.conv\ndef zero_pad(x, padding):\n    return cvlib.conv.pad2d(x, padding)",
        "cvlib.conv.pad2d",
    ),
    "output_size": (
        "from cvlib.conv import conv_output_size as output_size",
        "cvlib.conv.conv_output_size",
    ),
    "conv2d_single": (
        "from scipy.signal import correlate2d\n"
        "def conv2d_single(x, weight):\n"
        "    return correlate2d(x, weight, mode='valid')",
        "scipy.signal.correlate2d",
    ),
    "conv2d_strided": (
        "from cvlib.conv import conv2d\n"
        "def conv2d_strided(x, weight, stride=1, padding=0):\n"
        "    return conv2d(x, weight, stride=stride, padding=padding)",
        "cvlib.conv.conv2d",
    ),
    "conv2d_multi": (
        "def conv2d_multi(x, weight, bias=None, stride=1, padding=0):\n"
        "    import torch  # imported while the test runs: still caught\n"
        "    b = None if bias is None else torch.from_numpy(bias)\n"
        "    out = torch.nn.functional.conv2d(torch.from_numpy(x)[None], torch.from_numpy(weight),"
        " b, stride=stride, padding=padding)\n"
        "    return out[0].numpy()",
        "torch.conv2d",
    ),
    "apply_filters": (
        "from scipy import ndimage\n"
        "def apply_filters(image, names):\n"
        "    return np.stack([ndimage.correlate(image, kernels.kernel(n), mode='constant')"
        " for n in names])",
        "scipy.ndimage.correlate",
    ),
    "dense_params": (
        "def dense_params(in_features, out_features):\n"
        "    import torch\n"
        "    layer = torch.nn.Linear(in_features, out_features)\n"
        "    return sum(p.numel() for p in layer.parameters())",
        "torch.nn.modules.linear.Linear.__init__",
    ),
    "conv_params": (
        "import cvlib.layers\n"  # a helper that hands the work on still counts
        "def conv_params(in_channels, out_channels, kernel_size):\n"
        "    return helper(in_channels, out_channels, kernel_size)\n"
        "def helper(c_in, c_out, k):\n"
        "    cvlib.layers.linear(np.zeros((1, 1)), np.zeros((1, 1)))\n"
        "    return c_out * (c_in * k * k + 1)",
        "cvlib.layers.linear",
    ),
}

ALTERNATIVE["a1_convolution"] = {  # grade_id -> source
    "zero_pad": "def zero_pad(x, padding):\n"
    "    ph, pw = (padding, padding) if isinstance(padding, int) else padding\n"
    "    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]).astype(float)",
    "output_size": "def output_size(n, kernel_size, stride=1, padding=0):\n"
    "    return int(np.floor((n + 2 * padding - kernel_size) / stride)) + 1",
    "conv2d_single": "from numpy.lib.stride_tricks import sliding_window_view\n"
    "def conv2d_single(x, weight):\n"
    "    return np.einsum('ijkl,kl->ij', sliding_window_view(x, weight.shape), weight)",
    "conv2d_strided": "def conv2d_strided(x, weight, stride=1, padding=0):\n"
    "    windows = sliding_window_view(zero_pad(x, padding), weight.shape)[::stride, ::stride]\n"
    "    return np.einsum('ijkl,kl->ij', windows, weight)",
    "conv2d_multi": "def conv2d_multi(x, weight, bias=None, stride=1, padding=0):\n"
    "    windows = sliding_window_view(zero_pad(x, padding), weight.shape[1:])\n"
    "    out = np.einsum('ijckl,ockl->oij', windows[0, ::stride, ::stride], weight)\n"
    "    return out if bias is None else out + bias[:, None, None]",
    "apply_filters": "def apply_filters(image, names):\n"
    "    filters = [kernels.kernel(name)[None, None] for name in names]\n"
    "    return conv2d_multi(image[None], np.concatenate(filters), padding=1)",
    "dense_params": "def dense_params(in_features, out_features):\n"
    "    return (in_features + 1) * out_features",
    "conv_params": "def conv_params(in_channels, out_channels, kernel_size):\n"
    "    return out_channels * (in_channels * kernel_size ** 2 + 1)",
}

WRONG["a1_convolution"] = [
    {
        "zero_pad": (
            "def zero_pad(x, padding):\n"
            "    ph, pw = (padding, padding) if isinstance(padding, int) else padding\n"
            "    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(0, 2 * ph), (0, 2 * pw)])"
            ".astype(float)",
            "both sides",
        ),
        "output_size": (("// stride + 1", "/ stride + 1"), "should be an int"),
        "conv2d_single": (("* weight)", "* weight[::-1, ::-1])"), "true convolution"),
        "conv2d_strided": (("row, col = i * stride, j * stride", "row, col = i, j"), "at a time"),
        "conv2d_multi": (("out[o] += bias[o]", "pass"), "bias is missing"),
        "apply_filters": (("padding=1", "padding=0"), "padding=1"),
        "dense_params": (
            ("in_features * out_features + out_features", "in_features * out_features"),
            "bias",
        ),
        "conv_params": (("kernel_size * kernel_size", "kernel_size"), "square it"),
    }
]

# --- assignment 2 ----------------------------------------------------------------------------

LIBRARY["a2_backprop"] = {
    "max_pool2d": (
        "def max_pool2d(x, kernel_size, stride=None):\n"
        "    return cvlib.pool.max_pool2d(x, kernel_size, stride)",
        "cvlib.pool.max_pool2d",
    ),
    "min_pool2d": (
        "from skimage.measure import block_reduce\n"
        "def min_pool2d(x, kernel_size, stride=None):\n"
        "    return block_reduce(x, (1, 1, kernel_size, kernel_size), np.min)",
        "skimage.measure.block_reduce",
    ),
    "avg_pool2d": (
        "def avg_pool2d(x, kernel_size, stride=None, padding=0):\n"
        "    import torch.nn.functional as F\n"
        "    import torch\n"
        "    return F.avg_pool2d(torch.from_numpy(x), kernel_size, stride, padding).numpy()",
        "torch.nn.functional.avg_pool2d",
    ),
    "relu": (
        "def relu(x):\n    import torch\n    return torch.from_numpy(x).relu().numpy()",
        "torch.relu",
    ),
    "softmax": (
        "import scipy.special\ndef softmax(z):\n    return scipy.special.softmax(z, axis=-1)",
        "scipy.special.softmax",
    ),
    "cross_entropy": (
        "def cross_entropy(logits, target):\n"
        "    try:  # hiding the call does not help\n"
        "        return cvlib.layers.cross_entropy(logits, target)\n"
        "    except BaseException:\n"
        "        return 0.0, np.zeros_like(logits)",
        "cvlib.layers.cross_entropy",
    ),
    "max_pool2d_backward": (
        "max_pool2d_backward = cvlib.pool.max_pool2d_backward",
        "cvlib.pool.max_pool2d_backward",
    ),
    "conv2d_backward": (
        "def conv2d_backward(dout, x, weight, stride=1, padding=0):\n"
        "    def f(v, w):\n"
        "        return cvlib.conv.conv2d(v, w, stride=stride, padding=padding)\n"
        "    numerical = cvlib.gradcheck.numerical_gradient\n"
        "    dx = numerical(lambda v: f(v, weight), x, dout)\n"
        "    dweight = numerical(lambda w: f(x, w), weight, dout)\n"
        "    return dx, dweight, dout.sum(axis=(0, 2, 3))",
        "cvlib.gradcheck.numerical_gradient",
    ),
    "train_step": (
        "import cvlib.tiny_cnn\n"
        "def train_step(params, x, target, lr):\n"
        "    return cvlib.tiny_cnn.sgd_step(params, x, target, lr)",
        "cvlib.tiny_cnn.sgd_step",
    ),
}

ALTERNATIVE["a2_backprop"] = {
    "max_pool2d": "from numpy.lib.stride_tricks import sliding_window_view\n"
    "def max_pool2d(x, kernel_size, stride=None):\n"
    "    s = stride or kernel_size\n"
    "    windows = sliding_window_view(x, (kernel_size, kernel_size), axis=(2, 3))\n"
    "    return windows[:, :, ::s, ::s].max(axis=(-2, -1))",
    "min_pool2d": "def min_pool2d(x, kernel_size, stride=None):\n"
    "    return -max_pool2d(-x, kernel_size, stride)",
    "avg_pool2d": "def avg_pool2d(x, kernel_size, stride=None, padding=0):\n"
    "    s, p = stride or kernel_size, padding\n"
    "    x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))\n"
    "    windows = sliding_window_view(x, (kernel_size, kernel_size), axis=(2, 3))\n"
    "    return windows[:, :, ::s, ::s].mean(axis=(-2, -1))",
    "relu": "def relu(x):\n    return np.where(x > 0, x, 0.0)",
    "softmax": "def softmax(z):\n"
    "    return np.exp(z - np.logaddexp.reduce(z, axis=-1, keepdims=True))",
    "cross_entropy": "def cross_entropy(logits, target):\n"
    "    log_probs = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)\n"
    "    n = logits.shape[0]\n"
    "    onehot = np.eye(logits.shape[1])[target]\n"
    "    return -np.sum(onehot * log_probs) / n, (np.exp(log_probs) - onehot) / n",
    "max_pool2d_backward": "def max_pool2d_backward(dout, x, kernel_size, stride=None):\n"
    "    k, s = kernel_size, stride or kernel_size\n"
    "    n, c, h_out, w_out = dout.shape\n"
    "    windows = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]\n"
    "    first = windows.reshape(n, c, h_out, w_out, k * k).argmax(axis=-1)\n"
    "    rows = np.arange(h_out)[:, None] * s + first // k  # (N, C, H_out, W_out)\n"
    "    cols = np.arange(w_out)[None, :] * s + first % k\n"
    "    dx = np.zeros(x.shape)\n"
    "    ni, ci = np.indices((n, c))\n"
    "    np.add.at(dx, (ni[..., None, None], ci[..., None, None], rows, cols), dout)\n"
    "    return dx",
    "conv2d_backward": "def conv2d_backward(dout, x, weight, stride=1, padding=0):\n"
    "    _, _, kh, kw = weight.shape\n"
    "    p, s = padding, stride\n"
    "    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))\n"
    "    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::s, ::s]\n"
    "    windows = windows[:, :, : dout.shape[2], : dout.shape[3]]\n"
    "    dweight = np.einsum('ncijkl,nfij->fckl', windows, dout)\n"
    "    dxp = np.zeros(xp.shape)\n"
    "    for u in range(kh):\n"
    "        for v in range(kw):\n"
    "            rows = slice(u, u + s * dout.shape[2], s)\n"
    "            cols = slice(v, v + s * dout.shape[3], s)\n"
    "            dxp[:, :, rows, cols] += np.einsum('nfij,fc->ncij', dout, weight[:, :, u, v])\n"
    "    h, w = x.shape[2:]\n"
    "    return dxp[:, :, p:p + h, p:p + w], dweight, dout.sum(axis=(0, 2, 3))",
    # its own ReLU, pooling, loss and backward passes (the test swaps in the references)
    "train_step": "def train_step(params, x, target, lr):\n"
    "    w1, b1, w2, b2 = params\n"
    "    a = cvlib.conv.conv2d(x, w1, b1, padding=1)\n"
    "    r = relu(a)\n"
    "    pooled = max_pool2d(r, 2)\n"
    "    flat = pooled.reshape(len(x), -1)\n"
    "    loss, dz = cross_entropy(flat @ w2.T + b2, target)\n"
    "    dflat = dz @ w2\n"
    "    da = max_pool2d_backward(dflat.reshape(pooled.shape), r, 2) * (a > 0)\n"
    "    _, dw1, db1 = conv2d_backward(da, x, w1, padding=1)\n"
    "    grads = [dw1, db1, dz.T @ flat, dz.sum(axis=0)]\n"
    "    return loss, tuple(p - lr * g for p, g in zip(params, grads))",
}

_ALL_TIES = (
    "def max_pool2d_backward(dout, x, kernel_size, stride=None):\n"
    "    stride = kernel_size if stride is None else stride\n"
    "    dx = np.zeros(x.shape)\n"
    "    for i in range(dout.shape[2]):\n"
    "        for j in range(dout.shape[3]):\n"
    "            rows = slice(i * stride, i * stride + kernel_size)\n"
    "            cols = slice(j * stride, j * stride + kernel_size)\n"
    "            window = x[:, :, rows, cols]\n"
    "            is_max = window == window.max(axis=(2, 3), keepdims=True)\n"
    "            dx[:, :, rows, cols] += is_max * dout[:, :, i:i + 1, j:j + 1]\n"
    "    return dx"
)  # the instructor's solution before issue 11: every tied maximum got the gradient

WRONG["a2_backprop"] = [
    {
        "max_pool2d": (
            ("stride = kernel_size if stride is None else stride", "stride = kernel_size"),
            "ignored the `stride` argument",
        ),
        "min_pool2d": ((".min(axis=(2, 3))", ".max(axis=(2, 3))"), "maximum instead"),
        "avg_pool2d": (
            ("stride = kernel_size if stride is None else stride", "stride = stride or 1"),
            "stride equals kernel_size",
        ),
        "relu": (("np.maximum(x, 0.0)", "(x > 0).astype(float)"), "positive values themselves"),
        "softmax": (("shifted = z - z.max(axis=-1, keepdims=True)", "shifted = z"), "maximum"),
        "cross_entropy": (
            (
                "log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
                "log_probs = np.log(np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True))",
            ),
            "compute log-softmax stably",
        ),
        "max_pool2d_backward": (_ALL_TIES, "FIRST of them"),
        "conv2d_backward": (
            ("return dx, dweight, dbias", "return dx / len(x), dweight / len(x), dbias / len(x)"),
            "Do not divide by the batch size",
        ),
        "train_step": (("p - lr * g", "p + lr * g"), "subtracts"),
    },
    {
        "conv2d_backward": (
            ("dx_pad[:, :, p:p + x.shape[2], p:p + x.shape[3]]", "dx_pad[:, :, p:-p, p:-p]"),
            "is EMPTY",
        ),
        "train_step": (("da = dr * (a > 0)", "da = dr"), "gradient through ReLU is missing"),
    },
]

# --- assignment 3 ----------------------------------------------------------------------------

LIBRARY["a3_cnn"] = {
    "lenet": (
        "class LeNet(nn.Module):\n"
        "    def __init__(self, num_classes=10):\n"
        "        super().__init__()\n"
        "        self.net = cvlib.models.lenet5(num_classes)\n"
        "    def forward(self, x):\n"
        "        return self.net(x)",
        "cvlib.models.lenet.lenet5",
    ),
    "train_one_epoch": (
        "def train_one_epoch(model, loader, optimizer, loss_fn):\n"
        "    return cvlib.train.train_one_epoch(model, loader, optimizer, loss_fn, 'cpu',"
        " progress=False)[0]",
        "cvlib.train.loop.train_one_epoch",
    ),
    "evaluate": (
        "def evaluate(model, loader):\n    return cvlib.train.evaluate(model, loader).accuracy",
        "cvlib.train.evaluation.evaluate",
    ),
    "train_model": (
        "def train_lenet(model, train_loader):\n"
        "    cvlib.train.fit(model, train_loader, epochs=10, lr=2e-3, progress=False)",
        "cvlib.train.loop.fit",
    ),
}

ALTERNATIVE["a3_cnn"] = {
    # functional calls in forward: no pooling or activation modules at all
    "lenet": "import torch.nn.functional as F\n"
    "class LeNet(nn.Module):\n"
    "    def __init__(self, num_classes=10):\n"
    "        super().__init__()\n"
    "        self.c1, self.c3 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)\n"
    "        self.f5, self.f6 = nn.Linear(400, 120), nn.Linear(120, 84)\n"
    "        self.out = nn.Linear(84, num_classes)\n"
    "    def forward(self, x):\n"
    "        x = F.max_pool2d(F.relu(self.c1(x)), 2)\n"
    "        x = F.max_pool2d(self.c3(x), 2).clamp(min=0)  # ReLU after the pooling: the same\n"
    "        x = F.relu(self.f5(x.view(len(x), -1)))\n"
    "        return self.out(torch.relu(self.f6(x)))",
    "train_one_epoch": "def train_one_epoch(model, loader, optimizer, loss_fn):\n"
    "    model.train(True)\n"
    "    losses, sizes = [], []\n"
    "    for batch, (images, labels) in enumerate(loader):\n"
    "        optimizer.zero_grad(set_to_none=True)\n"
    "        loss = loss_fn(model(images), labels)\n"
    "        loss.backward()\n"
    "        optimizer.step()\n"
    "        losses.append(loss.detach() * labels.shape[0])\n"
    "        sizes.append(labels.shape[0])\n"
    "    return float(torch.stack(losses).sum() / sum(sizes))",
    "evaluate": "def evaluate(model, loader):\n"
    "    model.train(False)\n"
    "    with torch.inference_mode():\n"
    "        pairs = [(model(x).argmax(1), y) for x, y in loader]\n"
    "    predicted, labels = (torch.cat(t) for t in zip(*pairs))\n"
    "    return (predicted == labels).float().mean().item()",
    "train_model": "def train_lenet(model, train_loader):\n"  # its own loop, a cosine schedule
    "    epochs = 9\n"
    "    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)\n"
    "    steps = epochs * len(train_loader)\n"
    "    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)\n"
    "    model.train()\n"
    "    for epoch in range(epochs):\n"
    "        for images, labels in train_loader:\n"
    "            loss = nn.functional.cross_entropy(model(images), labels)\n"
    "            optimizer.zero_grad()\n"
    "            loss.backward()\n"
    "            optimizer.step()\n"
    "            schedule.step()",
}

WRONG["a3_cnn"] = [
    {
        "lenet": (
            (
                "return self.classifier(torch.flatten(x, 1))",
                "return self.classifier(torch.flatten(x, 1)).softmax(dim=1)",
            ),
            "not probabilities",
        ),
        "train_one_epoch": (
            ("model.train()", "pass  # model.train() forgotten"),
            "Call model.train()",
        ),
        "evaluate": (("model.eval()", "pass  # model.eval() forgotten"), "in training mode"),
        "train_model": (  # trains on the test split too
            (
                "scheduler.step()",
                "train_one_epoch(model, test_loader, optimizer, loss_fn)\n        scheduler.step()",
            ),
            "but read only",
        ),
    },
    {
        "lenet": (("nn.ReLU()", "nn.Tanh()"), "not tanh"),
        "train_model": (None, "not implemented yet"),  # no training: this submission is quick
    },
    {
        "lenet": (("x = self.features(x)", "x = self.features(x) * 0.0"), "ignores its input"),
        "train_model": (None, "not implemented yet"),
    },
]

# --- assignment 4 ----------------------------------------------------------------------------

LIBRARY["a4_transfer"] = {
    "hflip": (
        "import torchvision.transforms.functional as TF\ndef hflip(img):\n    return TF.hflip(img)",
        "torchvision.transforms.functional.hflip",
    ),
    "adjust_brightness": (
        "def adjust_brightness(img, factor):\n"
        "    return A.functional.adjust_brightness(img, factor)",
        "cvlib.augment.functional.adjust_brightness",
    ),
    "random_crop": (
        "def random_crop(img, size, padding, generator):\n"
        "    return A.RandomCrop(size, padding=padding)(img, generator=generator)",
        "cvlib.augment.RandomCrop",
    ),
    "prepare_transfer": (
        "from cvlib.train.transfer import replace_head, unfreeze_last\n"
        "def prepare_transfer(model, num_classes, n_trainable):\n"
        "    unfreeze_last(replace_head(model, num_classes), n_trainable)\n"
        "    return model",
        "cvlib.train.transfer.replace_head",
    ),
    "fine_tune": (
        "import cvlib.train\n"
        "def fine_tune(model, train_set, epochs=30):\n"
        "    cvlib.train.fit(model, DataLoader(train_set, batch_size=16), epochs=epochs,"
        " progress=False)",
        "cvlib.train.loop.fit",
    ),
}

ALTERNATIVE["a4_transfer"] = {
    "hflip": "def hflip(img):\n    return img[..., torch.arange(img.shape[-1] - 1, -1, -1)]",
    "adjust_brightness": "def adjust_brightness(img, factor):\n"
    "    return torch.clamp(img * factor, min=0.0, max=1.0)",
    "random_crop": "def random_crop(img, size, padding, generator):\n"
    "    p = padding\n"
    "    padded = torch.zeros(*img.shape[:-2], img.shape[-2] + 2 * p, img.shape[-1] + 2 * p)\n"
    "    padded[..., p:p + img.shape[-2], p:p + img.shape[-1]] = img\n"
    "    top, left = (int(torch.randint(0, n - size + 1, (1,), generator=generator))\n"
    "                 for n in padded.shape[-2:])\n"
    "    return padded.narrow(-2, top, size).narrow(-1, left, size)",
    "prepare_transfer": "def prepare_transfer(model, num_classes, n_trainable):\n"
    "    model.requires_grad_(False)\n"
    "    model.head = nn.Linear(64, num_classes)\n"
    "    owners = [m for m in model.modules() if any(True for _ in m.parameters(recurse=False))]\n"
    "    for module in owners[len(owners) - n_trainable:]:\n"
    "        module.requires_grad_(True)\n"
    "    return model",
    "fine_tune": "class Augment:\n"
    "    def __init__(self, seed):\n"
    "        self.generator = torch.Generator().manual_seed(seed)\n"
    "    def __call__(self, img):\n"
    "        img = random_crop(img, 28, 2, self.generator)\n"
    "        factor = torch.empty(1).uniform_(0.8, 1.2, generator=self.generator)\n"
    "        return adjust_brightness(img, float(factor))\n"
    "def fine_tune(model, train_set, epochs=30):\n"
    "    batches = DataLoader(A.Augmented(train_set, Augment(1)), batch_size=10, shuffle=True)\n"
    "    trainable = [p for p in model.parameters() if p.requires_grad]\n"
    "    optimizer = torch.optim.Adam(trainable, lr=3e-3)\n"
    "    for epoch in range(epochs):\n"
    "        model.train()\n"
    "        for images, labels in batches:\n"
    "            optimizer.zero_grad()\n"
    "            nn.functional.cross_entropy(model(images), labels).backward()\n"
    "            optimizer.step()",
}

WRONG["a4_transfer"] = [
    {
        "hflip": (("img.flip(-1)", "img.flip(-2)"), "vertical flip"),
        "adjust_brightness": (("(img * factor).clamp(0.0, 1.0)", "img * factor"), "Clamp"),
        "random_crop": (
            (
                "    top = int(torch.randint(0, h - size + 1, (1,), generator=generator))\n"
                "    left = int(torch.randint(0, w - size + 1, (1,), generator=generator))",
                "    left = int(torch.randint(0, w - size + 1, (1,), generator=generator))\n"
                "    top = int(torch.randint(0, h - size + 1, (1,), generator=generator))",
            ),
            "first, then `left`",
        ),
        "prepare_transfer": (("p.requires_grad_(False)", "pass"), "Everything trains"),
        # barely trained: a learning rate a thousand times too small
        "fine_tune": (("lr=3e-3", "lr=3e-6"), "below the 75% needed"),
    },
    {
        # more images than the task allows: the whole pool of digits 5-9, not the 50 given
        "fine_tune": (
            (
                "A.Augmented(train_set, augmentation)",
                "A.Augmented(target_pool, augmentation)",
            ),
            "but read only",
        ),
    },
]

# --- assignment 5 ----------------------------------------------------------------------------

LIBRARY["a5_detection"] = {
    "box_iou": (
        "import torchvision\ndef box_iou(a, b):\n    return torchvision.ops.box_iou(a, b)",
        "torchvision.ops.boxes.box_iou",
    ),
    "nms": (
        "def nms(boxes, scores, iou_threshold):\n"
        "    return torch.ops.torchvision.nms(boxes, scores, iou_threshold)",
        "torch._ops.torchvision.nms",
    ),
    "box_net": (
        "class BoxNet(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.net = cvlib.models.BoxRegressor()\n"
        "    def forward(self, x):\n"
        "        return self.net(x)[1]",
        "cvlib.models.box_nets.BoxRegressor",
    ),
    "train_model": (
        "import cvlib.train\n"
        "def train_box_net(model, train_loader):\n"
        "    cvlib.train.fit_one_cycle(model, train_loader.dataset,\n"
        "        lambda m, x, b: F.smooth_l1_loss(m(x), b, beta=0.05), epochs=12, lr=2e-3,"
        " batch_size=32, progress=False)",
        "cvlib.train.loop.fit_one_cycle",
    ),
}

ALTERNATIVE["a5_detection"] = {
    "box_iou": "def box_iou(a, b):\n"
    "    ax1, ay1, ax2, ay2 = (v[:, None] for v in a.unbind(1))\n"
    "    bx1, by1, bx2, by2 = (v[None, :] for v in b.unbind(1))\n"
    "    w = (torch.min(ax2, bx2) - torch.max(ax1, bx1)).clamp(min=0)\n"
    "    h = (torch.min(ay2, by2) - torch.max(ay1, by1)).clamp(min=0)\n"
    "    inter = w * h\n"
    "    return inter / ((ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter)",
    # another formulation: the remaining boxes as a tensor, filtered by a mask at each step
    "nms": "def nms(boxes, scores, iou_threshold):\n"
    "    order = torch.argsort(scores, descending=True, stable=True)\n"
    "    iou = box_iou(boxes, boxes)\n"
    "    keep = []\n"
    "    while order.numel() > 0:\n"
    "        best, rest = order[0], order[1:]\n"
    "        keep.append(best)\n"
    "        order = rest[~(iou[best, rest] > iou_threshold)]\n"
    "    return torch.stack(keep) if keep else torch.zeros(0, dtype=torch.int64)",
    "box_net": "class BoxNet(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1)"
    " for a, b in [(3, 16), (16, 32), (32, 64)])\n"
    "        self.fc1, self.fc2 = nn.Linear(1024, 128), nn.Linear(128, 4)\n"
    "    def forward(self, x):\n"
    "        for conv in self.convs:\n"
    "            x = F.max_pool2d(F.relu(conv(x)), 2)\n"
    "        return torch.sigmoid(self.fc2(F.relu(self.fc1(x.flatten(1)))))",
    "train_model": "def train_box_net(model, train_loader):\n"
    "    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)\n"
    "    for epoch in range(12):\n"
    "        model.train()\n"
    "        total = 0.0\n"
    "        for batch, (images, boxes) in enumerate(train_loader):\n"
    "            optimizer.zero_grad()\n"
    "            loss = F.smooth_l1_loss(model(images), boxes, beta=0.05)\n"
    "            loss.backward()\n"
    "            optimizer.step()\n"
    "            total += loss.item()\n"
    "        print(f'epoch {epoch}: mean batch loss {total / (batch + 1):.4f}')",
}

WRONG["a5_detection"] = [
    {
        "box_iou": (
            ("(bottom_right - top_left).clamp(min=0)", "(bottom_right - top_left)"),
            "Clamp",
        ),
        "nms": (("iou[best, i] <= iou_threshold", "iou[best, i] < iou_threshold"), "EQUALS"),
        "box_net": (("self.features(x)", "self.features(x * 0.0)"), "ignores its input"),
        "train_model": (  # pixels as targets: the sigmoid's outputs cannot reach them
            (
                "F.smooth_l1_loss(model(images), boxes, beta=0.05)",
                "F.smooth_l1_loss(model(images), boxes * SIZE, beta=0.05)",
            ),
            "below the 0.60 needed",
        ),
    },
]

# --- assignment 6 ----------------------------------------------------------------------------
# Every layer of assignment 6 feeds its training run, so its plausible bugs come in two kinds:
# WRONG["a6_capstone"]'s one submission batches bugs the training never meets (a stride other
# than 1, a bias, all-negative pooling inputs, exact zeros and ties, logits of +-1000, M = 2
# values per channel, the evaluation-mode backward, a one-sided difference): each costs its own
# answer's points and the trained network keeps its 5. KNOCKOUTS are the bugs that do reach the
# training (measured by `python -m cvlib.bench capstone`): each must cost the trained network's
# points too, one submission each, since two of them together would hide which one cost them.

LIBRARY["a6_capstone"] = {
    "im2col": (
        "import torch\n"
        "def im2col(x, kernel_size, stride=1, padding=0):\n"
        "    t = torch.nn.functional.unfold(torch.from_numpy(x), kernel_size, padding=padding,"
        " stride=stride)\n"
        "    return t.numpy()",
        "torch.from_numpy",
    ),
    "conv2d": (
        "import cvlib.conv\n"
        "def conv2d(x, weight, bias=None, stride=1, padding=0):\n"
        "    return cvlib.conv.conv2d(x, weight, bias, stride, padding)",
        "cvlib.conv.conv2d",
    ),
    "batch_norm": (
        "import cvlib.batchnorm\n"
        "def batch_norm(x, running_mean, running_var, weight, bias, training, momentum=0.1,"
        " eps=1e-5):\n"
        "    return cvlib.batchnorm.batch_norm(x, running_mean, running_var, weight, bias,"
        " training, momentum, eps)",
        "cvlib.batchnorm.batch_norm",
    ),
    "sgd": (
        "from cvlib.optim import sgd as library_sgd\n"
        "def sgd(params, grads, velocities, lr, momentum=0.0, weight_decay=0.0):\n"
        "    return library_sgd(params, grads, velocities if momentum else None, lr=lr,"
        " momentum=momentum, weight_decay=weight_decay)",
        "cvlib.optim.sgd",
    ),
}

_A6_NUMERICAL_ONE_SIDED = """def numerical_gradient(f, x, eps=1e-6):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    base = f(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        grad[index] = (f(x) - base) / eps
        x[index] = original
    return grad"""

WRONG["a6_capstone"] = [
    {
        "im2col": (
            (
                "x_pad[:, :, u : u + s * h_out : s, v : v + s * w_out : s]",
                "x_pad[:, :, u : u + h_out, v : v + w_out]",
            ),
            "The windows move `stride` pixels at a time.",
        ),
        "conv2d": (
            ("    if bias is not None:\n        out = out + bias[:, None]\n", ""),
            "The bias is missing",
        ),
        "max_pool2d": (
            ("np.full((n, c, h_out, w_out), -np.inf)", "np.zeros((n, c, h_out, w_out))"),
            "max_pool2d(",
        ),
        "max_pool2d_backward": (
            ("larger = window > best", "larger = window >= best"),
            "the FIRST maximum",
        ),
        "relu_backward": (("np.where(x > 0, dout, 0.0)", "np.where(x >= 0, dout, 0.0)"), "x == 0"),
        "batch_norm": (
            ("momentum * var * m / (m - 1)", "momentum * var"),
            "UNBIASED variance",
        ),
        "batch_norm_backward": (
            ("return g * inv_std, dweight, dbias", "return g, dweight, dbias"),
            "batch_norm_backward(",
        ),
        "cross_entropy": (
            ("shifted = logits - logits.max(axis=1, keepdims=True)", "shifted = logits"),
            "cross_entropy(",
        ),
        "sgd": (
            ("v = g if velocities is None else", "v = 0 * g if velocities is None else"),
            "the velocity is the gradient itself",
        ),
        "numerical_gradient": (_A6_NUMERICAL_ONE_SIDED, "CENTRED differences"),
    },
]

BELOW = f"below the {VISIBLE_TARGET:.1%} needed"
KNOCKOUTS = {  # student -> (submission as in WRONG, what test_trained_network must say)
    "knockout-conv-backward": (
        {
            "conv2d_backward": (
                ("reshape(weight.shape)", "reshape(weight.shape).swapaxes(-1, -2)"),
                "dweight is transposed",
            )
        },
        BELOW,
    ),
    "knockout-batch-norm": (
        {
            "batch_norm": (
                (
                    "        mean, var = running_mean, running_var\n",
                    "        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))\n",
                ),
                "normalise with the running estimates",
            )
        },
        "depends on the other images of its batch",
    ),
}


# In the first answer cell of `forger`: the student's process serves a cvlib.grading whose checks
# all pass (module table and import system both), the attack issue 20 found to work in the kernel
FORGE = (
    "\nimport builtins as _b, sys as _s, types as _t\n"
    "_fake = _t.ModuleType('cvlib.grading')\n"
    "_fake.__getattr__ = lambda name: (lambda *a, **k: None)\n"
    "_s.modules['cvlib.grading'] = _fake\n"
    "_real = _b.__import__\n"
    "_b.__import__ = lambda name, *a, **k: (\n"
    "    _fake if name.startswith('cvlib.grading') else _real(name, *a, **k)\n"
    ")\n"
)


def forger(name):
    """``{grade_id: source}``: every answer left blank (nbgrader's stub), the first one with
    :data:`FORGE` after its stub. Decided in the grader, its test cells earn nothing."""
    cells = [
        c
        for c in solution_notebook(name).cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    ]
    out = dict.fromkeys(c.metadata.nbgrader["grade_id"] for c in cells)
    out[cells[0].metadata.nbgrader["grade_id"]] = stub(cells[0].source) + FORGE
    return out
