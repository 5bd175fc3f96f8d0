"""Sphinx extension: the hidden code cells' toggles are named by the words they show.

myst-nb draws a cell tagged ``hide-input`` as ``<details>`` whose ``<summary>`` shows "Show code
cell source" but is named "Toggle hidden content" by a fixed ``aria-label``. A speech-input user
who says what they see ("click show code cell source") then finds no such control: WCAG 2.1's
success criterion 2.5.3, *Label in Name*, which axe-core checks as
``label-content-name-mismatch`` (``tests/test_accessibility.py``). This extension renders the
same ``<summary>`` without the ``aria-label``, so its name is its visible text.

The theme's own buttons with the same fault (colour mode, search) are fixed by the templates in
``book/_templates``. Listed in ``_config.yml`` after ``myst_nb``, whose node it re-registers.
"""

from __future__ import annotations

from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput

LABELLED_SUMMARY = '<summary aria-label="Toggle hidden content">'


def visit_hide_cell_input(translator, node):
    """myst-nb's ``<details>`` opening, its ``<summary>`` named by its visible text."""
    start = len(translator.body)
    visit_HideCellInput(translator, node)
    written = translator.body[start:]
    found = [i for i, text in enumerate(written) if text.startswith(LABELLED_SUMMARY)]
    if len(found) != 1:  # myst-nb changed how it writes the toggle: look at it again
        raise RuntimeError(f"expected one {LABELLED_SUMMARY} from myst-nb, got {written!r}")
    i = start + found[0]
    translator.body[i] = translator.body[i].replace(LABELLED_SUMMARY, "<summary>", 1)


def setup(app):
    app.add_node(
        HideCodeCellNode, override=True, html=(visit_hide_cell_input, depart_HideCellInput)
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
