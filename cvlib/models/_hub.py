"""Load torchvision's published ImageNet weights into the course's own model classes.

The course's architectures (:mod:`cvlib.models.alexnet`, ``vgg``, ``googlenet``, ``resnet``) use
the same parameter names as torchvision's, so torchvision's checkpoint files load into them with
``strict=True``. The files are fetched through :func:`torch.hub.load_state_dict_from_url`, which
keeps them in the hub cache (``torch.hub.get_dir()/checkpoints``) and downloads only once.

Nothing here downloads unless the user passes ``weights=``; offline, a :class:`RuntimeError` says
which file failed and where to put it by hand.
"""

import os
import urllib.error

import torch

_BASE = "https://download.pytorch.org/models/"

#: torchvision's IMAGENET1K_V1 checkpoint file for each architecture.
WEIGHT_FILES = {
    "alexnet": "alexnet-owt-7be5be79.pth",
    "vgg11": "vgg11-8a719046.pth",
    "vgg13": "vgg13-19584684.pth",
    "vgg16": "vgg16-397923af.pth",
    "vgg19": "vgg19-dcbb9e9d.pth",
    "vgg11_bn": "vgg11_bn-6002323d.pth",
    "vgg13_bn": "vgg13_bn-abd245e5.pth",
    "vgg16_bn": "vgg16_bn-6c64b313.pth",
    "vgg19_bn": "vgg19_bn-c79401a0.pth",
    "googlenet": "googlenet-1378be20.pth",
    "resnet18": "resnet18-f37072fd.pth",
    "resnet34": "resnet34-b627a593.pth",
    "resnet50": "resnet50-0676ba61.pth",
    "resnet101": "resnet101-63fe2227.pth",
    "resnet152": "resnet152-394f9c45.pth",
}

_ACCEPTED = (True, "IMAGENET1K_V1", "DEFAULT")


def check_weights(weights, arch, num_classes=1000):
    """Validate a ``weights=`` argument; return True when weights should be loaded.

    Parameters
    ----------
    weights : None, False, True, "IMAGENET1K_V1" or "DEFAULT"
        What the user asked for. None or False means random initialisation.
    arch : str
        Key of :data:`WEIGHT_FILES`.
    num_classes : int
        Classes the model is built for; published weights need 1000 (ImageNet).

    Raises
    ------
    ValueError
        If `weights` is anything else, `arch` has no published weights, or `num_classes` is not
        1000 while weights are requested.

    Examples
    --------
    >>> check_weights(None, "resnet18"), check_weights("IMAGENET1K_V1", "resnet18")
    (False, True)
    """
    if weights is None or weights is False:
        return False
    if arch not in WEIGHT_FILES:
        raise ValueError(f"`weights`: no published weights for {arch!r}")
    if not any(weights is a or (isinstance(weights, str) and weights == a) for a in _ACCEPTED):
        raise ValueError(f"`weights` must be None, True or 'IMAGENET1K_V1', got {weights!r}")
    if num_classes != 1000:
        raise ValueError(
            f"`num_classes` must be 1000 to load ImageNet weights, got {num_classes}; "
            "load them with num_classes=1000 and replace the last layer instead"
        )
    return True


def load_state_dict(arch, progress=True):
    """Return torchvision's IMAGENET1K_V1 ``state_dict`` for `arch`, downloading it once.

    Raises
    ------
    RuntimeError
        If the file is not cached and cannot be downloaded; the message names the URL and the
        path where a manually downloaded copy is picked up.
    """
    filename = WEIGHT_FILES[arch]
    url = _BASE + filename
    target = os.path.join(torch.hub.get_dir(), "checkpoints", filename)
    try:
        return torch.hub.load_state_dict_from_url(
            url, progress=progress, map_location="cpu", check_hash=True
        )
    except (urllib.error.URLError, OSError, ConnectionError) as err:
        raise RuntimeError(
            f"could not download the {arch} weights from {url} ({err}). "
            f"If this machine is offline, download that file elsewhere and copy it to {target} "
            "(the torch hub cache; set TORCH_HOME to move it); it is then loaded without a "
            "download."
        ) from err


def maybe_load(model, pretrained, arch, progress=True):
    """Load the published weights into `model` in place if `pretrained`; return `model`."""
    if pretrained:
        model.load_state_dict(load_state_dict(arch, progress=progress))
    return model
