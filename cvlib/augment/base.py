"""What every transform shares: the random-number source, ``Compose``, ``Normalize``, ``Augmented``.

A transform is a callable ``t(img) -> img`` on a ``(C, H, W)`` tensor. Labels never pass through
it: :class:`Augmented` applies a transform to the image of each ``(image, label)`` pair of a
dataset and hands the label back untouched.

Randomness comes from a ``torch.Generator``. Give a transform ``seed=`` (it builds its own
generator) or ``generator=`` (shared with others), or neither (torch's global generator, so
``torch.manual_seed`` governs it). ``Compose(..., seed=0)`` makes the whole pipeline reproducible.
"""

import torch

from . import functional as AF


def make_generator(seed=None, generator=None):
    """A ``torch.Generator`` from ``seed``, the given ``generator``, or ``None`` (global RNG)."""
    if seed is not None and generator is not None:
        raise ValueError("give `seed` or `generator`, not both")
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(
                f"`generator` must be a torch.Generator, got {type(generator).__name__}"
            )
        return generator
    if seed is not None:
        if not isinstance(seed, int):
            raise TypeError(f"`seed` must be an int, got {type(seed).__name__}")
        return torch.Generator().manual_seed(seed)
    return None


def check_probability(p, name="p"):
    if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"`{name}` must be a probability in [0, 1], got {p!r}")
    return float(p)


def check_range(value, name, *, lower=0.0, centre=None):
    """``(low, high)`` from a pair or a single ``v`` (read as ``[centre - v, centre + v]``)."""
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"`{name}` must be non-negative, got {value!r}")
        centre = 1.0 if centre is None else centre
        return max(lower, centre - value), centre + value
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise ValueError(f"`{name}` must be a number or a (min, max) pair, got {value!r}")
    low, high = float(value[0]), float(value[1])
    if not lower <= low <= high:
        raise ValueError(f"`{name}` must satisfy {lower} <= min <= max, got {value!r}")
    return low, high


class RandomTransform:
    """Base class: draws its random parameters from ``self.generator``.

    Subclasses implement ``transform_one(img, generator)`` for one ``(C, H, W)`` image. A batch
    ``(N, C, H, W)`` gets independent random parameters for each image.
    """

    def __init__(self, seed=None, generator=None):
        self.generator = make_generator(seed, generator)

    def __call__(self, img, generator=None):
        AF._check_image(img)
        g = generator if generator is not None else self.generator
        if img.dim() == 4:
            return torch.stack([self.transform_one(x, g) for x in img])  # (N, C, H', W')
        return self.transform_one(img, g)

    def transform_one(self, img, generator):
        raise NotImplementedError

    # Small helpers so subclasses read like the maths.
    @staticmethod
    def uniform(low, high, generator):
        return low + (high - low) * torch.rand(1, generator=generator).item()

    @staticmethod
    def coin(p, generator):
        return torch.rand(1, generator=generator).item() < p

    @staticmethod
    def randint(low, high, generator):
        """An integer in ``[low, high)``."""
        return int(torch.randint(low, high, (1,), generator=generator).item())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "generator")
        return f"{type(self).__name__}({args})"


class Compose:
    """Apply transforms one after another: ``Compose([t1, t2])(x) == t2(t1(x))``.

    With ``seed`` or ``generator``, every random step draws from that one generator, so the
    pipeline gives the same sequence of results on every run.

    Examples
    --------
    >>> from cvlib.augment import RandomHorizontalFlip
    >>> t = Compose([RandomHorizontalFlip(p=1.0), RandomHorizontalFlip(p=1.0)])
    >>> x = torch.rand(1, 4, 4)
    >>> torch.equal(t(x), x)
    True
    """

    def __init__(self, transforms, seed=None, generator=None):
        transforms = list(transforms)
        for i, t in enumerate(transforms):
            if not callable(t):
                raise TypeError(f"`transforms[{i}]` is not callable: {t!r}")
        self.transforms = transforms
        self.generator = make_generator(seed, generator)

    def __call__(self, img, generator=None):
        g = generator if generator is not None else self.generator
        for t in self.transforms:
            if g is not None and isinstance(t, RandomTransform):
                img = t(img, generator=g)
            else:
                img = t(img)
        return img

    def __repr__(self):
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class Normalize:
    """Per-channel standardisation ``(x - mean[c]) / std[c]`` (not random).

    Examples
    --------
    >>> Normalize(mean=[0.5], std=[0.5])(torch.ones(1, 2, 2))
    tensor([[[1., 1.],
             [1., 1.]]])
    """

    def __init__(self, mean, std):
        self.mean = [float(m) for m in torch.as_tensor(mean).reshape(-1)]
        self.std = [float(s) for s in torch.as_tensor(std).reshape(-1)]
        if any(s <= 0 for s in self.std):
            raise ValueError(f"`std` must be positive, got {std!r}")

    def __call__(self, img):
        return AF.normalize(img, self.mean, self.std)

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class Augmented(torch.utils.data.Dataset):
    """A view of ``dataset`` whose images pass through ``transform``; labels are untouched.

    ``dataset[i]`` must return ``(image, target)``; ``Augmented(dataset, t)[i]`` returns
    ``(t(image), target)``, drawing fresh randomness on every access (so each epoch differs).

    Examples
    --------
    >>> from torch.utils.data import TensorDataset
    >>> from cvlib.augment import RandomHorizontalFlip
    >>> base = TensorDataset(torch.rand(3, 1, 4, 4), torch.tensor([0, 1, 2]))
    >>> aug = Augmented(base, RandomHorizontalFlip(p=1.0))
    >>> image, label = aug[1]
    >>> image.shape, int(label)
    (torch.Size([1, 4, 4]), 1)
    """

    def __init__(self, dataset, transform):
        if not callable(transform):
            raise TypeError(f"`transform` must be callable, got {type(transform).__name__}")
        self.dataset = dataset
        self.transform = transform

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        image, target = self.dataset[index]
        return self.transform(image), target
