"""MyST Markdown to the Markdown that Jupyter, Colab and Kaggle render.

The chapters are MyST notebooks: their text uses roles (``{glue:text}`acc:.1f```, ``{doc}`...```,
``{numref}`...```), directives (```` ```{note} ````), comments (``% ...``) and targets
(``(name)=``) that only the website's builder understands. A notebook opened on Colab would show
them as raw text, so the downloadable notebooks carry their Markdown through
:func:`to_jupyter_markdown`:

- every role is replaced by the text the website shows for it, which the caller computes
  (``resolve(role, content)``: the glued number, the linked chapter's title, "Fig. 3.2");
- admonitions (``note``, ``warning``, ...) become block quotes with a bold title;
- comments and targets are dropped;
- anything else (an unknown directive, a role ``resolve`` does not know) raises
  :class:`ValueError`, so a new MyST construct in a chapter fails the strict build instead of
  reaching students as raw text.

Fenced code blocks and inline code are left alone.

Examples
--------
>>> values = {("glue:text", "n:.1f"): "3.1"}
>>> to_jupyter_markdown("So n = {glue:text}`n:.1f`.", lambda role, text: values[role, text])
'So n = 3.1.'
>>> print(to_jupyter_markdown("```{note}\\nNo flip.\\n```", None))
> **Note**
>
> No flip.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["ADMONITIONS", "find_myst_syntax", "to_jupyter_markdown"]

Resolver = Callable[[str, str], str]

ADMONITIONS = {
    name: name.capitalize()
    for name in (
        "admonition",
        "attention",
        "caution",
        "danger",
        "error",
        "hint",
        "important",
        "note",
        "tip",
        "warning",
    )
} | {"seealso": "See also"}

# A role ``{name}`content``` (a name is letters, digits, ``:`` and ``-``) or a span of inline code.
# Scanning left to right, a role is matched from its ``{``, before its backticks could be taken
# for inline code; inline code is matched so that a role-like text inside it stays as it is.
TOKEN = re.compile(r"\{(?P<role>[A-Za-z][\w:-]*)\}`(?P<content>[^`]+)`|(?P<ticks>`+).+?(?P=ticks)")
# A line opening a fence: three or more backticks or colons, then an optional ``{directive}``.
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|:{3,})\s*(?:\{(?P<name>[^}]+)\})?(?P<arg>.*)$")
TARGET = re.compile(r"^\s*\([\w.:-]+\)=\s*$")


def to_jupyter_markdown(text: str, resolve: Resolver | None) -> str:
    """The Markdown of one MyST Markdown cell, rewritten for Jupyter (see the module docstring).

    Parameters
    ----------
    text : str
        The cell's source.
    resolve : callable ``(role, content) -> str``, or None
        Returns what the website shows for a role, e.g. ``("glue:text", "acc:.1f") -> "93.4"``;
        it raises ``ValueError`` (or ``KeyError``) for a role it cannot resolve. None: the cell
        may not contain roles.

    Raises
    ------
    TypeError
        If ``text`` is not a string or ``resolve`` is not callable.
    ValueError
        If the cell uses a directive that has no Jupyter equivalent here, or a role ``resolve``
        does not know.
    """
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a str, got {type(text).__name__}")
    if resolve is not None and not callable(resolve):
        raise TypeError(f"`resolve` must be callable or None, got {type(resolve).__name__}")
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        match = FENCE.match(line)
        if match:
            end = _closing_fence(lines, i, match["fence"])
            body = lines[i + 1 : end]
            out += _fenced_block(match, line, body, lines[end : end + 1], resolve)
            i = end + 1
            continue
        if line.lstrip().startswith("%") or TARGET.match(line):  # a comment or a target: drop
            blank_around = (not out or not out[-1].strip()) and i + 1 < len(lines)
            i += 2 if blank_around and not lines[i + 1].strip() else 1
            continue
        out.append(_replace_roles(line, resolve))
        i += 1
    return "\n".join(out).strip("\n")


def find_myst_syntax(text: str) -> list[str]:
    """The MyST roles and directives left in Markdown, outside code (empty for plain Markdown).

    >>> find_myst_syntax("x {doc}`01-images` and `{glue}` in code\\n:::{figure} a.png\\n:::")
    ['{doc}`01-images`', ':::{figure}']
    """
    found = []
    in_code = None  # the fence of the code block we are in
    directives = []  # the fences of the directives we are in (their body is Markdown)
    for line in text.split("\n"):
        match = FENCE.match(line)
        bare = match is not None and not match["name"] and not match["arg"].strip()
        if in_code is not None:
            in_code = None if bare and match["fence"] == in_code else in_code
        elif match and match["name"]:
            found.append(f"{match['fence']}{{{match['name']}}}")
            directives.append(match["fence"])
        elif bare and directives and match["fence"] == directives[-1]:
            directives.pop()
        elif match:
            in_code = match["fence"]
        else:
            found += [m.group(0) for m in TOKEN.finditer(line) if m["role"]]
    return found


def _closing_fence(lines: list[str], start: int, fence: str) -> int:
    """Index of the line closing the fence opened at ``start`` (or the last line)."""
    for j in range(start + 1, len(lines)):
        if lines[j].strip() == fence:
            return j
    return len(lines)


def _fenced_block(match, line, body, closing, resolve) -> list[str]:
    name = match["name"]
    if name is None:  # plain code block, e.g. ```bash
        return [line, *body, *closing]
    name = name.strip()
    if name not in ADMONITIONS:
        raise ValueError(
            f"the MyST directive `{name}` has no Jupyter Markdown equivalent in "
            "cvlib.tools.book.myst_markdown: add one, or write the text without it"
        )
    while body and re.match(r"^\s*:[\w-]+:", body[0]):  # directive options such as :class:
        body = body[1:]
    title = match["arg"].strip() if name == "admonition" else ADMONITIONS[name]
    inner = to_jupyter_markdown("\n".join(body), resolve).split("\n")
    indent = match["indent"]
    return [f"{indent}> **{title}**", f"{indent}>"] + [
        f"{indent}> {text}".rstrip() for text in inner
    ]


def _replace_roles(line: str, resolve: Resolver | None) -> str:
    """Replace the roles of one line by their text, leaving inline code alone."""

    def replace(match):
        if match["role"] is None:  # inline code
            return match.group(0)
        if resolve is None:
            raise ValueError(f"the MyST role {match.group(0)} needs a resolver")
        try:
            return resolve(match["role"], match["content"])
        except (KeyError, ValueError) as err:
            raise ValueError(
                f"cannot turn the MyST role {match.group(0)} into text: {err}"
            ) from err

    return TOKEN.sub(replace, line)
