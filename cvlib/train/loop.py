"""The training loops: one pass of gradient steps, epochs with evaluation, one-cycle Adam.

The pieces stay separate so each can be read on its own: :func:`train_one_epoch` is one pass of
gradient steps, :func:`~cvlib.train.evaluation.evaluate` measures, :func:`fit` repeats the two
and records a :class:`History` (``cvlib.viz.plot_history`` draws it), and
:func:`fit_one_cycle` is the short recipe of the detection, segmentation and shapes experiments.
Progress bars use ``tqdm.auto`` and stay silent when ``NBGRADER_EXECUTION`` is set, because
nbgrader gives no points to a test cell that writes to stderr.
"""

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .evaluation import check_loader, evaluate
from .runtime import progress_bar, resolve_device

__all__ = ["History", "fit", "fit_one_cycle", "train_one_epoch"]


def _layout(x, channels_last):
    """``x`` in channels-last memory order when asked and 4-D (images), else unchanged.

    Channels-last (NHWC in memory, same NCHW shape and values) lets PyTorch's CPU convolution,
    batch norm and max pooling run 1.2-1.7x faster on the course's small networks.
    """
    if channels_last and isinstance(x, torch.Tensor) and x.dim() == 4:
        return x.contiguous(memory_format=torch.channels_last)
    return x


def fit_one_cycle(
    model,
    data,
    batch_loss,
    epochs,
    lr,
    batch_size,
    seed=0,
    desc=None,
    progress=True,
    channels_last=False,
    generator=None,
):
    """Adam under a one-cycle learning rate for ``epochs`` passes over ``data``.

    The short recipe of the detection, segmentation and shapes experiments: batches shuffled by a
    generator seeded with ``seed`` (or by ``generator``, which then goes on from its state), one
    scheduler step per batch. ``batch_loss(model, *batch)``
    returns the batch's mean loss. The model is left in training mode. With ``channels_last``
    the model and every 4-D batch tensor are kept in channels-last memory order (faster on a CPU;
    the model must not call ``.view`` on its activations).

    Returns
    -------
    list of float
        The mean loss of each epoch.
    """
    from torch.utils.data import DataLoader

    if generator is None:
        generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(data, batch_size=batch_size, shuffle=True, generator=generator)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=epochs * len(loader)
    )
    losses = []
    model.train()
    for _ in progress_bar(range(epochs), progress, desc=desc):
        total = 0.0
        for batch in loader:
            loss = batch_loss(model, *(_layout(t, channels_last) for t in batch))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(batch[0])
        losses.append(total / len(data))
    return losses


@dataclass
class History:
    """What :func:`fit` records, one entry per epoch.

    ``val_loss`` and ``val_acc`` stay empty without a validation loader; ``epoch_time`` is the
    wall time of each epoch in seconds (training and validation).
    """

    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    epoch_time: list = field(default_factory=list)


def train_one_epoch(model, loader, optimizer, loss_fn, device, progress=True, channels_last=False):
    """One pass over ``loader`` with a gradient step per batch; returns (mean loss, accuracy).

    ``channels_last`` puts each batch of images in channels-last memory order (see :func:`fit`).

    Shape
    -----
    each batch : images (B, C, H, W), labels (B,) -> logits (B, num_classes)
    """
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for images, labels in progress_bar(loader, progress, desc="train", unit="batch"):
        images, labels = _layout(images.to(device), channels_last), labels.to(device)
        logits = model(images)  # (B, num_classes)
        loss = loss_fn(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(labels)
        correct += (logits.argmax(1) == labels).sum().item()
        seen += len(labels)
    if seen == 0:
        raise ValueError("`loader` yielded no batches; is the data set empty?")
    return total_loss / seen, correct / seen


def fit(
    model,
    train_loader,
    val_loader=None,
    epochs=10,
    lr=1e-3,
    optimizer=None,
    loss_fn=None,
    scheduler=None,
    device="auto",
    progress=True,
    channels_last=False,
    on_epoch_end=None,
):
    """Train ``model`` for ``epochs`` passes over ``train_loader``.

    Parameters
    ----------
    model : torch.nn.Module
        Maps images (B, C, H, W) to logits (B, num_classes).
    train_loader, val_loader : iterable of (images, labels)
        Usually ``DataLoader``s; ``val_loader`` is evaluated after every epoch when given.
    epochs : int, default 10
    lr : float, default 1e-3
        Learning rate of the default optimizer, Adam; ignored when ``optimizer`` is given.
    optimizer : torch.optim.Optimizer, optional
    loss_fn : callable, optional
        ``loss_fn(logits, labels)``; default ``nn.CrossEntropyLoss()``.
    scheduler : torch.optim.lr_scheduler.LRScheduler, optional
        Stepped once at the end of every epoch (e.g. ``CosineAnnealingLR(optimizer, epochs)``);
        it must wrap ``optimizer``, so pass both.
    device : str or torch.device, default "auto"
        "auto" picks CUDA when available, else the CPU. The model is moved there.
    progress : bool, default True
        tqdm bars (never under ``NBGRADER_EXECUTION``).
    channels_last : bool, default False
        Keep the model's weights and every batch of images in channels-last memory order: the
        same shapes and values, laid out NHWC, which PyTorch's CPU kernels run 1.2-1.7x faster.
        The model must not call ``.view`` on its activations (``reshape`` and ``flatten`` are
        fine).
    on_epoch_end : callable, optional
        ``on_epoch_end(model, history)`` after every epoch (after the validation), e.g. to
        record a measurement of the model as it trains.

    Returns
    -------
    History

    Examples
    --------
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> _ = torch.manual_seed(0)
    >>> x = torch.randn(64, 2); y = (x[:, 0] > 0).long()
    >>> model = nn.Linear(2, 2)
    >>> history = fit(model, DataLoader(TensorDataset(x, y), batch_size=16), epochs=30,
    ...               lr=0.05, progress=False)
    >>> history.train_loss[-1] < history.train_loss[0], history.train_acc[-1] > 0.9
    (True, True)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"`model` must be a torch.nn.Module, got {type(model).__name__}")
    check_loader(train_loader, "train_loader")
    if val_loader is not None:
        check_loader(val_loader, "val_loader")
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive integer, got {epochs!r}")
    if optimizer is None and not lr > 0:
        raise ValueError(f"`lr` must be positive, got {lr!r}")
    if scheduler is not None and optimizer is None:
        raise ValueError("`scheduler` needs the `optimizer` it adjusts; pass both")
    device = resolve_device(device)
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    history = History()
    for _ in progress_bar(range(epochs), progress, desc="epochs", unit="epoch"):
        start = time.perf_counter()
        loss, acc = train_one_epoch(
            model, train_loader, optimizer, loss_fn, device, progress, channels_last
        )
        history.train_loss.append(loss)
        history.train_acc.append(acc)
        if scheduler is not None:
            scheduler.step()
        if val_loader is not None:
            result = evaluate(model, val_loader, loss_fn=loss_fn, device=device, progress=progress)
            history.val_loss.append(result.loss)
            history.val_acc.append(result.accuracy)
        history.epoch_time.append(time.perf_counter() - start)
        if on_epoch_end is not None:
            on_epoch_end(model, history)
    return history
