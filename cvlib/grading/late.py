"""A late penalty for nbgrader: a share of the score for every started day late.

nbgrader computes how late each submission is (its ``timestamp.txt`` against the assignment's
due date plus the student's extension, if any) and asks a plugin for the penalty. Switch this
one on in ``nbgrader_config.py``::

    c.AssignLatePenalties.plugin_class = "cvlib.grading.late.PerDayPenalty"
    c.PerDayPenalty.per_day = 0.1  # 10% of the score per started day, never below zero

This module is loaded by ``nbgrader autograde``, never by a notebook.
"""

import math

from nbgrader.plugins import BasePlugin
from traitlets import Float


class PerDayPenalty(BasePlugin):
    """Take ``per_day`` of the notebook's score for every started day (24 h) late.

    Examples
    --------
    >>> PerDayPenalty(per_day=0.1).late_submission_penalty("alice", 12.0, 3 * 86400 - 60)
    3.6
    >>> PerDayPenalty(per_day=0.5).late_submission_penalty("bob", 12.0, 5 * 86400)
    12.0
    """

    per_day = Float(
        0.1, help="Share of the score taken for every started day late (0.1: 10% a day)."
    ).tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        days = math.ceil(total_seconds_late / 86400)
        return round(min(score, score * self.per_day * days), 6)
