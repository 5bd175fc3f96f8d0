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
