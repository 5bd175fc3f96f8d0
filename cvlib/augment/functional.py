"""Deterministic image operations behind the random transforms of :mod:`cvlib.augment`.

Every function takes an image tensor of shape ``(C, H, W)`` or a batch ``(N, C, H, W)``
and returns a tensor of the same dtype. Colour operations expect floating-point images with
values in ``[0, 1]`` and clamp their result to that range, as torchvision does. Names and
arguments follow ``torchvision.transforms.v2.functional`` so the two can be compared.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

# ITU-R 601-2 luma weights, the ones torchvision uses for rgb_to_grayscale.
_LUMA = (0.2989, 0.587, 0.114)


def _check_image(img, name="img", floating=False):
    if not isinstance(img, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor, got {type(img).__name__}")
    if img.dim() not in (3, 4):
        raise ValueError(
            f"`{name}` must have shape (C, H, W) or (N, C, H, W), got {tuple(img.shape)}"
        )
    if floating and not img.is_floating_point():
        raise TypeError(f"`{name}` must be a floating-point image in [0, 1], got dtype {img.dtype}")


def _check_factor(value, name, upper=math.inf):
    if not isinstance(value, (int, float)) or not 0 <= value <= upper:
        raise ValueError(f"`{name}` must be a number in [0, {upper}], got {value!r}")


def _blend(img1, img2, ratio):
    """``ratio * img1 + (1 - ratio) * img2`` clamped to [0, 1] (ratio 1 gives img1)."""
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0.0, 1.0)


def hflip(img):
    """Mirror left-right: ``out[..., i, j] = img[..., i, W - 1 - j]``.

    Examples
    --------
    >>> hflip(torch.tensor([[[1, 2, 3]]]))
    tensor([[[3, 2, 1]]])
    """
    _check_image(img)
    return img.flip(-1)


def vflip(img):
    """Mirror top-bottom: ``out[..., i, j] = img[..., H - 1 - i, j]``."""
    _check_image(img)
    return img.flip(-2)


def crop(img, top, left, height, width):
    """The ``height x width`` window whose top-left pixel is ``(top, left)``.

    Shape
    -----
    img ``(..., C, H, W)`` -> ``(..., C, height, width)``; the window must lie inside the image.
    """
    _check_image(img)
    H, W = img.shape[-2:]
    if height <= 0 or width <= 0:
        raise ValueError(f"`height` and `width` must be positive, got {height} and {width}")
    if top < 0 or left < 0 or top + height > H or left + width > W:
        raise ValueError(
            f"crop window top={top}, left={left}, {height}x{width} does not fit a {H}x{W} image"
        )
    return img[..., top : top + height, left : left + width]


def resize(img, size):
    """Bilinear resize (with antialiasing when shrinking) to ``size = (H_out, W_out)``."""
    _check_image(img)
    batch = img.unsqueeze(0) if img.dim() == 3 else img  # (N, C, H, W)
    out = F.interpolate(
        batch.float() if not img.is_floating_point() else batch,
        size=tuple(size),
        mode="bilinear",
        align_corners=False,
        antialias=True,
    )
    out = _restore_dtype(out, img.dtype)
    return out[0] if img.dim() == 3 else out


def resized_crop(img, top, left, height, width, size):
    """Crop a window, then resize it to ``size`` (the zoom of ``RandomResizedCrop``)."""
    return resize(crop(img, top, left, height, width), size)


def _restore_dtype(out, dtype):
    if dtype.is_floating_point:
        return out.to(dtype)
    info = torch.iinfo(dtype)
    return out.round().clamp(info.min, info.max).to(dtype)


def rotate(img, angle, interpolation="nearest", fill=0.0):
    """Rotate counter-clockwise by ``angle`` degrees about the image centre, keeping the size.

    Each output pixel ``p`` (coordinates relative to the centre, y pointing down) reads the input
    at ``R p`` with ``R = [[cos a, -sin a], [sin a, cos a]]``; ``affine_grid`` turns ``R`` into
    sampling positions and ``grid_sample`` reads them. Pixels that come from outside the input
    get ``fill``.

    Shape
    -----
    img ``(C, H, W)`` or ``(N, C, H, W)`` -> same shape.

    Examples
    --------
    >>> x = torch.arange(4.0).reshape(1, 2, 2)
    >>> rotate(x, 90)
    tensor([[[1., 3.],
             [0., 2.]]])
    """
    _check_image(img)
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"`interpolation` must be 'nearest' or 'bilinear', got {interpolation!r}")
    batch = img.unsqueeze(0) if img.dim() == 3 else img  # (N, C, H, W)
    x = batch if img.is_floating_point() else batch.float()
    N, C, H, W = x.shape
    a = math.radians(angle)
    cos, sin = math.cos(a), math.sin(a)
    # Normalised coordinates run over [-1, 1] on both axes, so a non-square image needs the
    # aspect ratio inside the matrix for the rotation to stay a rotation in pixels.
    theta = torch.tensor([[cos, -sin * H / W, 0.0], [sin * W / H, cos, 0.0]], dtype=x.dtype).expand(
        N, 2, 3
    )  # (N, 2, 3)
    grid = F.affine_grid(theta, [N, C, H, W], align_corners=False)  # (N, H, W, 2)
    out = F.grid_sample(x, grid, mode=interpolation, padding_mode="zeros", align_corners=False)
    if fill != 0:
        inside = F.grid_sample(
            torch.ones_like(x[:, :1]),
            grid,
            mode=interpolation,
            padding_mode="zeros",
            align_corners=False,
        )  # (N, 1, H, W)
        out = out + (1.0 - inside) * fill
    out = _restore_dtype(out, img.dtype)
    return out[0] if img.dim() == 3 else out


def rgb_to_grayscale(img):
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` as one channel ``(..., 1, H, W)``."""
    _check_image(img, floating=True)
    if img.shape[-3] == 1:
        return img
    if img.shape[-3] != 3:
        raise ValueError(f"`img` must have 1 or 3 channels, got {img.shape[-3]}")
    r, g, b = img.unbind(-3)
    return (_LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * b).unsqueeze(-3)


def adjust_brightness(img, brightness_factor):
    """Scale every value: ``clamp(factor * img, 0, 1)`` (0 black, 1 unchanged)."""
    _check_image(img, floating=True)
    _check_factor(brightness_factor, "brightness_factor")
    return _blend(img, torch.zeros_like(img), brightness_factor)


def adjust_contrast(img, contrast_factor):
    """Blend with the image's mean grey level: ``factor * img + (1 - factor) * mean``."""
    _check_image(img, floating=True)
    _check_factor(contrast_factor, "contrast_factor")
    mean = rgb_to_grayscale(img).mean(dim=(-3, -2, -1), keepdim=True)  # (..., 1, 1, 1)
    return _blend(img, mean, contrast_factor)


def adjust_saturation(img, saturation_factor):
    """Blend with the grey version: 0 grey, 1 unchanged, 2 twice as saturated."""
    _check_image(img, floating=True)
    _check_factor(saturation_factor, "saturation_factor")
    if img.shape[-3] == 1:
        return img
    return _blend(img, rgb_to_grayscale(img), saturation_factor)


def _rgb_to_hsv(img):
    r, g, b = img.unbind(-3)
    maxc, _ = img.max(dim=-3)
    minc, _ = img.min(dim=-3)
    delta = maxc - minc
    v = maxc
    s = delta / torch.where(maxc == 0, torch.ones_like(maxc), maxc)
    safe = torch.where(delta == 0, torch.ones_like(delta), delta)
    rc, gc, bc = (maxc - r) / safe, (maxc - g) / safe, (maxc - b) / safe
    h = torch.where(maxc == r, bc - gc, torch.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    h = torch.where(delta == 0, torch.zeros_like(h), h)
    h = torch.remainder(h / 6.0, 1.0)
    return h, s, v


def _hsv_to_rgb(h, s, v):
    i = torch.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.to(torch.int64) % 6
    p = v * (1.0 - s)
    q = v * (1.0 - s * f)
    t = v * (1.0 - s * (1.0 - f))
    # For each sector i of the colour wheel, which of (v, q, p, t) feeds R, G and B.
    choices = torch.stack([v, q, p, t], dim=-3)  # (..., 4, H, W)
    table = torch.tensor([[0, 3, 2], [1, 0, 2], [2, 0, 3], [2, 1, 0], [3, 2, 0], [0, 2, 1]])
    index = table[i].movedim(-1, -3)  # (..., 3, H, W)
    return torch.gather(choices, -3, index)


def adjust_hue(img, hue_factor):
    """Turn the colour wheel by ``hue_factor`` of a full turn (in [-0.5, 0.5]) in HSV space."""
    _check_image(img, floating=True)
    if not isinstance(hue_factor, (int, float)) or not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"`hue_factor` must be a number in [-0.5, 0.5], got {hue_factor!r}")
    if img.shape[-3] == 1:
        return img
    h, s, v = _rgb_to_hsv(img.clamp(0.0, 1.0))
    h = torch.remainder(h + hue_factor, 1.0)
    return _hsv_to_rgb(h, s, v).to(img.dtype)


def smoothing_kernel():
    """The 3x3 blur torchvision's ``adjust_sharpness`` uses, built from :mod:`cvlib.kernels`.

    It is a box blur with extra weight on the centre pixel:
    ``(9 * box_blur + 4 * identity) / 13 = [[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13``.

    Examples
    --------
    >>> (smoothing_kernel() * 13).round()
    tensor([[1., 1., 1.],
            [1., 5., 1.],
            [1., 1., 1.]])
    """
    from cvlib.kernels import kernel  # the numpy core's named 3x3 filters

    box, identity = np.asarray(kernel("box_blur")), np.asarray(kernel("identity"))
    k = (9.0 * box + 4.0 * identity).astype(np.float64)
    return torch.from_numpy(k / 13.0).float()


def adjust_sharpness(img, sharpness_factor):
    """Blend with a blurred copy: 0 blurred, 1 unchanged, 2 sharper (unsharp masking).

    ``out = clamp(factor * img + (1 - factor) * blur(img), 0, 1)`` where ``blur`` is a depthwise
    convolution with :func:`smoothing_kernel` and the one-pixel border keeps the original values.
    """
    _check_image(img, floating=True)
    _check_factor(sharpness_factor, "sharpness_factor")
    if min(img.shape[-2:]) <= 2:
        return img
    batch = img.unsqueeze(0) if img.dim() == 3 else img  # (N, C, H, W)
    C = batch.shape[1]
    weight = smoothing_kernel().to(batch.dtype).expand(C, 1, 3, 3)  # (C, 1, 3, 3)
    blurred = F.conv2d(batch, weight, groups=C)  # (N, C, H - 2, W - 2)
    degenerate = batch.clone()
    degenerate[..., 1:-1, 1:-1] = blurred
    out = _blend(batch, degenerate, sharpness_factor)
    return out[0] if img.dim() == 3 else out


def normalize(img, mean, std):
    """Per-channel standardisation ``(img - mean[c]) / std[c]``."""
    _check_image(img, floating=True)
    mean = torch.as_tensor(mean, dtype=img.dtype).reshape(-1, 1, 1)  # (C, 1, 1)
    std = torch.as_tensor(std, dtype=img.dtype).reshape(-1, 1, 1)
    if (std == 0).any():
        raise ValueError("`std` must not contain zeros")
    if mean.shape[0] not in (1, img.shape[-3]) or std.shape[0] not in (1, img.shape[-3]):
        raise ValueError(
            f"`mean` and `std` need 1 or {img.shape[-3]} values (one per channel), "
            f"got {mean.shape[0]} and {std.shape[0]}"
        )
    return (img - mean) / std


def erase(img, top, left, height, width, value):
    """A copy of ``img`` with the window ``[top:top+height, left:left+width]`` set to ``value``.

    ``value`` is a number or a tensor that broadcasts to ``(C, height, width)``.
    """
    _check_image(img)
    out = img.clone()
    out[..., top : top + height, left : left + width] = value
    return out


def gaussian_noise(img, noise, clip=True):
    """Add a noise tensor of the image's shape, clamping to [0, 1] when ``clip``."""
    _check_image(img, floating=True)
    out = img + noise
    return out.clamp(0.0, 1.0) if clip else out


def shift(img, dx, dy, fill=0.0):
    """Move the picture ``dx`` pixels right and ``dy`` pixels down (negative: left, up).

    Pixels pushed past the border are lost and the uncovered strip is set to ``fill``; the size
    does not change. This is ``torchvision.transforms.v2.functional.affine`` with
    ``translate=[dx, dy]`` and no rotation, scaling or shear, computed by slicing.

    Shape
    -----
    img ``(C, H, W)`` or ``(N, C, H, W)`` -> the same shape and dtype.

    Examples
    --------
    >>> shift(torch.arange(1, 10).reshape(1, 3, 3), dx=1, dy=0)[0]
    tensor([[0, 1, 2],
            [0, 4, 5],
            [0, 7, 8]])
    """
    _check_image(img)
    for value, name in ((dx, "dx"), (dy, "dy")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"`{name}` must be an int number of pixels, got {value!r}")
    H, W = img.shape[-2:]
    out = torch.full_like(img, fill)
    if abs(dx) < W and abs(dy) < H:
        out[..., max(dy, 0) : H + min(dy, 0), max(dx, 0) : W + min(dx, 0)] = img[
            ..., max(-dy, 0) : H + min(-dy, 0), max(-dx, 0) : W + min(-dx, 0)
        ]
    return out
