"""MyST Markdown rewritten for Jupyter: roles become text, admonitions quotes, the rest fails."""

import pytest

from cvlib.tools.book.myst_markdown import find_myst_syntax, to_jupyter_markdown


def shown(role, content):
    """A resolver like the site's: glued numbers and chapter titles."""
    table = {("glue:text", "acc:.1f"): "93.4", ("doc", "03-convolution"): "*Convolution*"}
    return table[role, content]


def test_roles_become_the_text_the_site_shows():
    text = (
        "Accuracy {glue:text}`acc:.1f` %, as in {doc}`03-convolution`, twice: {glue:text}`acc:.1f`."
    )
    assert to_jupyter_markdown(text, shown) == (
        "Accuracy 93.4 %, as in *Convolution*, twice: 93.4."
    )


def test_code_is_left_alone():
    text = "Write `{glue:text}`\n\n```python\nx = '{doc}`a`'\n% not a comment in code\n```"
    assert to_jupyter_markdown(text, None) == text
    assert find_myst_syntax(text) == []


def test_admonitions_become_quotes_with_their_options_dropped():
    text = (
        "Before.\n\n```{warning}\n:class: dropdown\nKeep {glue:text}`acc:.1f`.\n\nTwo.\n```\nAfter."
    )
    assert to_jupyter_markdown(text, shown) == (
        "Before.\n\n> **Warning**\n>\n> Keep 93.4.\n>\n> Two.\nAfter."
    )
    custom = ":::{admonition} Try it\nNow.\n:::"
    assert to_jupyter_markdown(custom, None) == "> **Try it**\n>\n> Now."


def test_comments_and_targets_are_dropped():
    text = "# Title\n\n% a note to authors\n\n(sec-a)=\n## A\n\n100% of it"
    assert to_jupyter_markdown(text, None) == "# Title\n\n## A\n\n100% of it"


def test_unknown_syntax_fails_loudly():
    with pytest.raises(ValueError, match="directive `figure`"):
        to_jupyter_markdown("```{figure} cat.png\nA cat.\n```", None)
    with pytest.raises(ValueError, match=r"\{term\}`CNN`"):
        to_jupyter_markdown("A {term}`CNN`.", shown)
    with pytest.raises(ValueError, match="needs a resolver"):
        to_jupyter_markdown("{doc}`x`", None)


def test_bad_arguments_name_themselves():
    with pytest.raises(TypeError, match="`text`"):
        to_jupyter_markdown(["# A"], None)
    with pytest.raises(TypeError, match="`resolve`"):
        to_jupyter_markdown("# A", {"doc": "x"})


def test_find_myst_syntax_sees_what_is_left():
    text = "{glue:text}`a` and `{doc}` in code\n```{note}\nx\n```\n```bash\n{doc}`in code`\n```"
    assert find_myst_syntax(text) == ["{glue:text}`a`", "```{note}"]
