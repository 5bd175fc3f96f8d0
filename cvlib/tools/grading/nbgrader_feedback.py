"""Feedback pages (``nbgrader generate_feedback``) that wrap long lines instead of hiding them.

nbgrader's feedback page shows each output in a ``<pre>`` box with ``overflow: auto``: a line
longer than the box (a test's message, the line of code that repeats the test) runs on out of
sight, behind a horizontal scroll bar. :class:`WrapLongLines`, one more of the feedback's
preprocessors (the extension point ``GenerateFeedback.preprocessors``), adds the style that
wraps them, so that the page shows every word; a copied line stays one line.

The course's ``nbgrader_config.py`` sets ``c.GenerateFeedback.preprocessors =
preprocessors()``: nbgrader's own, then this one (after nbgrader's, which put the page's styles
in ``resources["inlining"]["css"]``).
"""

from nbgrader.converters import GenerateFeedback
from nbgrader.preprocessors import NbGraderPreprocessor

__all__ = ["WRAP_CSS", "WrapLongLines", "preprocessors"]

WRAP_CSS = "div.output_area pre { white-space: pre-wrap; overflow-wrap: anywhere; }"


class WrapLongLines(NbGraderPreprocessor):
    """Add :data:`WRAP_CSS` to the styles of the feedback page."""

    def preprocess(self, nb, resources):
        resources.setdefault("inlining", {}).setdefault("css", []).append(WRAP_CSS)
        return nb, resources


def preprocessors():
    """nbgrader's feedback preprocessors, then :class:`WrapLongLines`."""
    return [*GenerateFeedback.class_traits()["preprocessors"].default(), WrapLongLines]
