"""Assignment 6's numpy CNN: ``python -m cvlib.bench capstone [--quick]``.

Prints :meth:`cvlib.experiments.capstone.Result.table`: the test accuracy of the reference
training over 5 seeds, its time with numpy's BLAS on 1 and on 2 threads, the accuracy of each
knock-out (a deliberately wrong convolution backward or batch norm) over 3 seeds, and the best
logistic regression on the same pixels. ``--quick`` trains 1 epoch with one seed (a smoke test).
Times depend on the machine and on what else runs on it.
"""

import dataclasses

from cvlib.experiments import capstone
from cvlib.numpy_training import Recipe


def main(argv=()):
    quick = "--quick" in argv
    settings = capstone.Settings(
        recipe=dataclasses.replace(Recipe(), epochs=1) if quick else Recipe(),
        seeds=(0,) if quick else (0, 1, 2, 3, 4),
        knockout_seeds=(0,) if quick else (0, 1, 2),
        progress=True,
    )
    print(capstone.run(settings).table(), flush=True)
