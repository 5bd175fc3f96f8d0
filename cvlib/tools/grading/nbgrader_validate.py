"""``nbgrader validate`` that prints every word of a failing test's message.

nbgrader's :class:`~nbgrader.validator.Validator` prints each line of a failing cell's error
through ``Validator._indent``, which cuts every line longer than ``Validator.width - 3``
characters (90 by default, so at 87) and appends ``...``. The course's messages put what differs
first and then the hint and the line of code that repeats the test; cut at 87 characters, a
student in a terminal loses the hint and the recipe. (The *Validate* button of Jupyter shows
the whole message: it reads the untruncated ``raw_error``.)

Raising ``Validator.width`` is no cure: the same number also sets the length of the ``=====``
rules between cells and the wrapping of the summary, and no width is longer than every message
(a student's own exception text is quoted whole). :class:`FullMessageValidator` therefore keeps
``width`` for the rules and the summary and never cuts a line of the code or the error; the
terminal wraps long lines, and a recipe copied from it stays one line of code.

``nbgrader validate`` builds its validator from the name ``Validator`` in
:mod:`nbgrader.apps.validateapp` and has no option to choose another class, so the course's
``nbgrader_config.py`` calls :func:`install`, which binds that name to the subclass (nbgrader
loads the configuration file before it builds the validator). Nothing else changes:
``nbgrader autograde`` and the *Validate* button do not use this printing.
"""

import re

from nbgrader.apps import validateapp
from nbgrader.validator import Validator

__all__ = ["FullMessageValidator", "install"]

ANSI = re.compile("\x1b\\[(.*?)([@-~])")  # a terminal colour code (nbconvert's strip_ansi)


class FullMessageValidator(Validator):
    """nbgrader's validator, printing each line of code and error whole (indented, never cut)."""

    def _indent(self, val: str) -> str:
        return "\n".join(self.indent + ANSI.sub("", line) for line in val.split("\n"))


def install():
    """Make ``nbgrader validate`` use :class:`FullMessageValidator` (call it from the course's
    ``nbgrader_config.py``)."""
    validateapp.Validator = FullMessageValidator
