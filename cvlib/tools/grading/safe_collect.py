"""``nbgrader collect`` without following the links a submission holds.

nbgrader's collect copies each submission out of the exchange with ``shutil.copytree``, which
follows symbolic links: a student's "notebook" that is a link to the instructor's solution, or
a file linked to the grader's private files, arrived in ``submitted/`` as a plain copy of what
it pointed at (and was graded as the solution). :class:`SafeCollect` copies links *as links*,
so they reach ``submitted/`` as what they are, and the class grader refuses and reports them
(:mod:`cvlib.tools.grading.clean_submission`). The course's ``nbgrader_config.py`` selects it::

    c.ExchangeFactory.collect = "cvlib.tools.grading.safe_collect.SafeCollect"
"""

import os
import shutil

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.utils import ignore_patterns


class SafeCollect(ExchangeCollect):
    """nbgrader's collect; links are copied as links, never read through."""

    def do_copy(self, src, dest, log=None):
        size = sum(
            os.lstat(os.path.join(folder, name)).st_size
            for folder, _, names in os.walk(src)
            for name in names
        )
        if size > 1000 * self.coursedir.max_dir_size:
            raise RuntimeError(f"Directory size is too big. Size is {size}")
        ignore = ignore_patterns(
            exclude=self.coursedir.ignore,
            include=self.coursedir.include,
            max_file_size=self.coursedir.max_file_size,
            log=self.log,
        )
        shutil.copytree(src, dest, symlinks=True, ignore=ignore)
        if self.coursedir.groupshared:  # as nbgrader does, but never through a link
            for folder, _, names in os.walk(dest):
                for path in (folder, *(os.path.join(folder, n) for n in names)):
                    if not os.path.islink(path):
                        mode = os.stat(path).st_mode
                        extra = 0o2770 if os.path.isdir(path) else 0o660
                        os.chmod(path, (mode | extra) & 0o2777)
