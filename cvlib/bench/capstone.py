"""Assignment 6's numpy CNN: ``python -m cvlib.bench capstone [--quick]``.

Prints :meth:`cvlib.experiments.capstone.Result.table`: the test accuracy of the reference
training over seeds, its time with numpy's BLAS on 1 and on 2 threads, and the accuracy of each
knock-out (a deliberately wrong convolution backward or batch norm) that the assignment's
trained-network test must catch. ``--quick`` trains 2 epochs with one seed (a smoke test).
Times depend on the machine and on what else runs on it.
"""

import dataclasses

from cvlib.experiments import capstone
from cvlib.numpy_training import Recipe


def main(argv=()):
    quick = "--quick" in argv
    settings = capstone.Settings(
        recipe=dataclasses.replace(Recipe(), epochs=2) if quick else Recipe(),
        seeds=(0,) if quick else (0, 1, 2),
        knockout_seeds=(0,) if quick else (0, 1, 2),
        progress=True,
    )
    print(capstone.run(settings).table(), flush=True)
