"""cvlib.tools.book.site_accessibility: myst-nb's hidden-code toggle, named by the words it
shows."""

from types import SimpleNamespace

from myst_nb.sphinx_ import HideCodeCellNode, visit_HideCellInput

from cvlib.tools.book.site_accessibility import visit_hide_cell_input


def rendered(visit):
    node = HideCodeCellNode(classes=["above-input"])
    node["prompt_show"], node["prompt_hide"] = "Show code cell source", "Hide code cell source"
    translator = SimpleNamespace(body=["<p>before</p>\n"])
    visit(translator, node)
    return "".join(translator.body)


def test_the_summary_loses_only_its_fixed_aria_label():
    theirs, ours = rendered(visit_HideCellInput), rendered(visit_hide_cell_input)
    assert 'aria-label="Toggle hidden content"' in theirs  # the fault this extension removes
    assert "aria-label" not in ours and "<summary>\n" in ours
    assert ours == theirs.replace(' aria-label="Toggle hidden content"', "")
    assert "Show code cell source" in ours  # the visible text that now names the control
