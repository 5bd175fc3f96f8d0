"""Photographs that ship inside the scikit-image wheel (no download, work offline).

scikit-image fetches some of its sample images (``eagle``, ``brain``, ``lily``, ...) with pooch
on first use; those are left out. The ones below are files inside the installed package.
"""

import numpy as np

__all__ = ["GRAY", "PHOTOS", "sample_images"]

# name -> (skimage.data function, one-line description)
PHOTOS = {
    "astronaut": ("astronaut", "Eileen Collins, NASA portrait, colour"),
    "camera": ("camera", "the cameraman, grayscale"),
    "coffee": ("coffee", "a cup of coffee, colour"),
    "chelsea": ("chelsea", "Chelsea the cat, colour"),
    "rocket": ("rocket", "a rocket on its launch pad, colour"),
    "coins": ("coins", "Greek coins, grayscale"),
    "moon": ("moon", "surface of the moon, grayscale"),
    "page": ("page", "a scanned page of text, grayscale"),
    "brick": ("brick", "a brick wall texture, grayscale"),
    "grass": ("grass", "a grass texture, grayscale"),
    "gravel": ("gravel", "a gravel texture, grayscale"),
    "hubble_deep_field": ("hubble_deep_field", "the Hubble deep field, colour"),
    "immunohistochemistry": ("immunohistochemistry", "stained tissue, colour"),
}
GRAY = ("camera", "coins", "moon", "page", "brick", "grass", "gravel")


def sample_images(names=None, as_rgb=True):
    """Photographs from :mod:`skimage.data` as uint8 arrays.

    Parameters
    ----------
    names : iterable of str, optional
        Which photographs (keys of :data:`PHOTOS`); all of them by default.
    as_rgb : bool, default True
        Give every photo as (H, W, 3), repeating the grey level of grayscale photos in three
        channels. With False, grayscale photos stay (H, W) as shipped.

    Returns
    -------
    dict of str -> numpy.ndarray
        Height-width-channel uint8 arrays in the order asked for.

    Shape
    -----
    each value : (H, W, 3), or (H, W) for grayscale photos when ``as_rgb=False``

    Examples
    --------
    >>> photos = sample_images(["camera", "coffee"])
    >>> photos["camera"].shape, photos["coffee"].shape, photos["coffee"].dtype
    ((512, 512, 3), (400, 600, 3), dtype('uint8'))
    """
    import skimage.data

    names = list(PHOTOS) if names is None else list(names)
    unknown = [name for name in names if name not in PHOTOS]
    if unknown:
        raise ValueError(f"`names` holds unknown photos {unknown}; choose from {sorted(PHOTOS)}")
    out = {}
    for name in names:
        image = np.asarray(getattr(skimage.data, PHOTOS[name][0])())
        if as_rgb and image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)  # (H, W, 3)
        out[name] = image
    return out
