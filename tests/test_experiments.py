"""cvlib.experiments: the augmentation experiment's ``methods`` option, on tiny settings."""

import pytest

from cvlib import augment as A
from cvlib.experiments import augmentation_experiment

TINY = dict(n_train=10, seeds=(0, 1), epochs=1)


def test_augmented_only_reproduces_the_full_experiment():
    flip = A.RandomVerticalFlip(p=0.5)
    full = augmentation_experiment(**TINY, transform=flip)
    only = augmentation_experiment(**TINY, transform=flip, methods=("augmented",))
    assert list(full.accuracies) == [
        "none, clean test",
        "augmented, clean test",
        "none, moved test",
        "augmented, moved test",
    ]
    assert list(only.accuracies) == ["augmented, clean test", "augmented, moved test"]
    for key, values in only.accuracies.items():
        assert values == full.accuracies[key]  # same seeds -> the very same runs
        assert len(values) == len(TINY["seeds"])


def test_baseline_only_matches_and_ignores_the_transform():
    full = augmentation_experiment(**TINY)
    none = augmentation_experiment(**TINY, methods=["none"], transform=A.RandomVerticalFlip(p=1))
    assert none.accuracies == {k: v for k, v in full.accuracies.items() if k.startswith("none")}


@pytest.mark.parametrize("methods", [(), "none", ("none", "none"), ("flipped",)])
def test_bad_methods_are_refused(methods):
    with pytest.raises(ValueError, match="methods"):
        augmentation_experiment(**TINY, methods=methods)
