"""Repository tooling, in two packages by what it serves.

- :mod:`cvlib.tools.grading`: grading a class (releasing, the box, the cluster, the gradebook,
  the LMS), and the one way the course drives nbgrader;
- :mod:`cvlib.tools.book`: building the website and its notebooks, and publishing them.

The modules used to sit in this folder itself, and some texts outside the repository still name
them there: an instructor's ``nbgrader_config.py`` copied before the split
(``c.ExchangeFactory.collect = "cvlib.tools.safe_collect.SafeCollect"``, the hub's course folder
holds such a copy) and the set-up cell of a notebook downloaded before it
(``from cvlib.tools import myst_nb_stand_in``). For those texts alone, importing one of the
:data:`MOVED` names at its old path gives the module at its new one (the same module object,
not a copy). Nothing in the repository uses the old paths (``tests/test_tools.py`` checks it,
and ``tests/test_architecture.py`` that no module sits beside the two packages).
"""

import importlib
import importlib.abc
import importlib.machinery
import sys

# old name in cvlib.tools -> the subpackage that holds it now
MOVED = {
    "trusted_execute": "grading",
    "safe_collect": "grading",
    "lms_collect": "grading",
    "nbgrader_validate": "grading",
    "nbgrader_feedback": "grading",
    "myst_nb_stand_in": "book",
}


class _OldPath(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``cvlib.tools.<old name>`` and loads it as the module at its new path."""

    def find_spec(self, name, path=None, target=None):
        package, _, leaf = name.rpartition(".")
        if package == __name__ and leaf in MOVED:
            return importlib.machinery.ModuleSpec(name, self)
        return None

    def create_module(self, spec):
        return None  # the default module, replaced in exec_module

    def exec_module(self, module):
        package, _, leaf = module.__name__.rpartition(".")
        # the import system hands out what sys.modules holds after this call: the moved module
        sys.modules[module.__name__] = importlib.import_module(f"{package}.{MOVED[leaf]}.{leaf}")


sys.meta_path.append(_OldPath())
