"""Settings every test module shares, made once here rather than at each module's import.

- matplotlib draws off-screen (``Agg``): tests make figures and never show them;
- torch uses one thread: the course's models are small, and on a shared 2-core machine a second
  thread mostly waits (tests that need another count set it inside the test, with
  ``cvlib.train.torch_threads``).
"""

import matplotlib

matplotlib.use("Agg")

import torch

torch.set_num_threads(1)


# The files that take minutes (real nbgrader round trips, the hub, the grading cluster), longest
# first, measured in CI runs. `make test` runs pytest-xdist with --dist loadfile and
# --no-loadscope-reorder, which hands whole files to the two processes in collection order; its
# default order (the files with the most tests first) left the few-test, long files (the hub, the
# cluster, Binder) for the end, where one process worked alone for minutes.
LONGEST_FIRST = (
    "test_nbgrader_torch.py",
    "test_nbgrader.py",
    "test_trusted_torch.py",
    "test_hub.py",
    "test_grading_cluster.py",
    "test_trusted_grading.py",
    "test_binder.py",
)


def pytest_collection_modifyitems(config, items):
    """Order the files: :data:`LONGEST_FIRST`, then the other files with a ``slow`` test, then the
    rest, each file's tests kept together and in their order."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}

    def rank(item):
        name = item.path.name
        if name in LONGEST_FIRST:
            return LONGEST_FIRST.index(name)
        return len(LONGEST_FIRST) + (0 if item.path in slow_files else 1)

    items.sort(key=rank)  # stable: the order within a file and within a rank is kept
