"""A minimal in-memory image data set shared by the loaders of :mod:`cvlib.data`."""

from torch.utils.data import Dataset


class ImageDataset(Dataset):
    """Images and integer labels held as two tensors, indexable like ``TensorDataset``.

    Parameters
    ----------
    images : torch.Tensor, shape (N, C, H, W)
        Float images in [0, 1].
    labels : torch.Tensor, shape (N,)
        Integer class of each image (int64).
    classes : tuple of str
        Name of each class; ``classes[labels[i]]`` names image ``i``.
    transform : callable, optional
        Applied to each image in ``__getitem__`` (e.g. an augmentation); the stored tensors are
        left untouched.

    Shape
    -----
    ``dataset[i]`` -> ``(image (C, H, W), label ())``
    """

    def __init__(self, images, labels, classes, transform=None):
        if len(images) != len(labels):
            raise ValueError(f"`images` has {len(images)} items but `labels` has {len(labels)}")
        self.images = images
        self.labels = labels
        self.classes = tuple(classes)
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, self.labels[index]

    def __repr__(self):
        n, c, h, w = self.images.shape
        return f"{type(self).__name__}(n={n}, image_shape=({c}, {h}, {w}), classes={self.classes})"
