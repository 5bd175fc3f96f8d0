"""Training on a CPU: ``python -m cvlib.bench train [--threads 2] [--quick]``.

Three measurements, each printed as a table:

1. LeNet-5 on :func:`cvlib.data.digits` upsampled to 32x32 (1,437 training and 360 test
   images): AdamW (lr 3e-3, cosine decay to 0), mini-batches of 32, random shifts of up to 2
   pixels (``cvlib.augment.RandomCrop(32, padding=2)``), 20 epochs. Test accuracy and wall time
   of the whole training (target: at least 98% in under 30 s on 2 cores). Without the shifts
   LeNet-5 fits the training set perfectly and stalls near 97% on the test set. The same recipe
   on zero-padded digits shows why ``digits(size=32)`` upsamples bilinearly by default.
2. Throughput of LeNet-5 in training and in inference, images per second.
3. The depth experiment of He et al. (2016): ``resnet_small`` against ``plain_small`` (the same
   layers without skip connections) at depths 20 and 56 on the 8x8 digits, trained with the
   same budget; for each, the gradient norm of the first convolution at initialisation (one
   batch) and the test accuracy reached.

Figures depend on the machine and on what else runs on it: they are indicative. On a shared
machine, idle OpenMP threads that spin while waiting slow PyTorch down many times over, so this
module asks for passive waiting (``OMP_WAIT_POLICY=PASSIVE``) unless the environment says
otherwise; that only works when torch is imported after this module.
"""

import argparse
import os
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch
from torch.utils.data import DataLoader

from cvlib.augment import RandomCrop
from cvlib.data import digits
from cvlib.experiments import depth
from cvlib.models import lenet5
from cvlib.train import evaluate, fit, set_seed


def _loaders(size, mode="bilinear", batch_size=32, transform=None):
    train = digits(size=size, split="train", mode=mode, transform=transform)
    test = digits(size=size, split="test", mode=mode)
    return DataLoader(train, batch_size=batch_size, shuffle=True), DataLoader(test, batch_size=360)


def lenet_on_digits(epochs=20, lr=3e-3, mode="bilinear", seed=0):
    """Train LeNet-5 on 32x32 digits; return (test accuracy, wall seconds, train images seen)."""
    set_seed(seed)
    shift = RandomCrop(32, padding=2, seed=seed)  # move each digit by up to 2 pixels
    train_loader, test_loader = _loaders(32, mode, transform=shift)
    model = lenet5()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    start = time.perf_counter()
    fit(
        model,
        train_loader,
        epochs=epochs,
        optimizer=optimizer,
        scheduler=scheduler,
        device="cpu",
        progress=False,
    )
    seconds = time.perf_counter() - start
    accuracy = evaluate(model, test_loader, device="cpu").accuracy
    return accuracy, seconds, epochs * len(train_loader.dataset)


@torch.no_grad()
def inference_throughput(model, images, repeats=5):
    """Images per second of ``model(images)`` in eval mode (best of ``repeats``)."""
    model.eval()
    model(images)  # warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model(images)
        best = min(best, time.perf_counter() - start)
    return len(images) / best


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cvlib.bench train", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--epochs", type=int, default=20, help="LeNet-5 epochs (default 20)")
    parser.add_argument("--depth-epochs", type=int, default=3, help="epochs per deep network")
    parser.add_argument("--depths", type=int, nargs="+", default=[20, 56])
    parser.add_argument("--quick", action="store_true", help="fewer epochs, depth 20 only")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.depth_epochs, args.depths = 4, 1, [20]
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, load average {load:.1f} "
        f"(figures are indicative on a shared machine)\n"
    )

    print(
        f"1. LeNet-5 on digits (1,437 train / 360 test), AdamW lr 3e-3 cosine, batch 32, "
        f"shifts <= 2 px, {args.epochs} epochs"
    )
    print(f"{'input (32x32)':<22}{'test acc':>10}{'wall time':>12}{'train img/s':>13}")
    for mode in ("bilinear", "pad"):
        accuracy, seconds, seen = lenet_on_digits(args.epochs, mode=mode)
        label = "bilinear upsampling" if mode == "bilinear" else "8x8 zero-padded"
        print(f"{label:<22}{accuracy:>10.2%}{seconds:>11.1f}s{seen / seconds:>13,.0f}")
        if mode == "bilinear":
            verdict = "meets" if accuracy >= 0.98 and seconds < 30 else "MISSES"
            print(f"{'':<22}-> {verdict} the target (>= 98% in < 30 s)")

    print("\n2. Throughput of LeNet-5 (images per second, batch 360 of 1x32x32)")
    model = lenet5()
    batch = digits(size=32, split="test").images
    print(f"{'inference':<22}{inference_throughput(model, batch):>13,.0f}")

    print(
        f"\n3. Depth: residual vs plain, 8x8 digits, Adam lr 1e-3, batch 64, "
        f"{args.depth_epochs} epochs each"
    )
    print(
        f"{'model':<14}{'depth':>6}{'|grad conv1| at init':>22}{'final train loss':>18}"
        f"{'val acc':>10}{'time':>9}"
    )
    for run in depth.run(depths=tuple(args.depths), epochs=args.depth_epochs):
        print(
            f"{run.name:<14}{run.depth:>6}{run.grad_norm[0]:>22.4f}{run.train_loss[-1]:>18.4f}"
            f"{run.val_acc[-1]:>10.2%}{run.seconds:>8.1f}s"
        )
    return 0
