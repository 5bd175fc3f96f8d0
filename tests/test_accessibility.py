"""Every page of the built website passes axe-core's WCAG 2.1 A and AA rules.

axe-core (Deque's accessibility engine, the version pinned in ``package-lock.json``; ``make venv``
and ``make test`` install it with ``npm ci`` into ``node_modules/``) is injected into each page of
``_build/html`` as the headless chromium of ``tests/site_helpers.py`` shows it, after MathJax has
typeset the formulas, and runs the rules tagged ``wcag2a``, ``wcag2aa``, ``wcag21a`` and
``wcag21aa``: text alternatives of images, names of buttons, links and form fields (and that a
name contains the visible label), colour contrast, valid ARIA, the page's language and title, and
so on. Every page is audited in the theme's light and in its dark colour scheme. Any violation
fails the test, listed by page, rule and element; ``test_axe_finds_what_it_should`` shows that the
audit can fail.

Like the site test, this needs chromium: it is skipped with a message without it (or without
axe-core), except when ``CVLIB_REQUIRE_BROWSER=1`` (CI), where that is a failure.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from site_helpers import (
    ROOT,
    built_site,
    chromium_context,
    redirect_target,
    serve,
    site_pages,
    skip_or_fail,
)

pytestmark = pytest.mark.slow

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Runs axe on the whole document with the WCAG 2.0/2.1 A and AA rules; returns the violations as
# plain data: rule, impact, help text and, per element, its CSS selector and what is wrong.
RUN_AXE = """async (tags) => {
    const result = await axe.run(document, {
        runOnly: {type: "tag", values: tags},
        resultTypes: ["violations"],
    });
    return result.violations.map(v => ({
        rule: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map(n => ({
            target: n.target.join(" "),
            html: n.html.slice(0, 160),
            summary: (n.failureSummary || "").replace(/\\s+/g, " ").slice(0, 240),
        })),
    }));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        skip_or_fail(f"axe-core is not installed ({AXE} is missing): run `npm ci` (make venv does)")
    return AXE.read_text(encoding="utf-8")


def audit(page, axe_source: str) -> list[dict]:
    """The WCAG A/AA violations axe-core finds on the page as it is now."""
    if page.locator(".math").count():  # audit the typeset formulas, not their TeX source
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
    page.add_script_tag(content=axe_source)
    return page.evaluate(RUN_AXE, WCAG_TAGS)


def audit_url(context, url: str, axe_source: str, color_scheme: str) -> list[dict]:
    page = context.new_page()
    origin = urlsplit(url).netloc
    # The site works offline (tests/test_site.py checks it); never send a request elsewhere.
    page.route(
        "**/*",
        lambda route: (
            route.abort()
            if urlsplit(route.request.url).netloc not in ("", origin)
            and urlsplit(route.request.url).scheme in ("http", "https")
            else route.continue_()
        ),
    )
    try:
        page.goto(url, wait_until="load")
        # the theme follows the reader's colour scheme ("auto" mode): audit the one asked for
        theme = page.evaluate("() => document.documentElement.dataset.theme")
        assert theme == color_scheme, f"{url} shows the {theme} theme, not the {color_scheme} one"
        return audit(page, axe_source)
    finally:
        page.close()


def describe(violations_by_page: dict[str, list[dict]]) -> str:
    lines = []
    for path, violations in violations_by_page.items():
        for v in violations:
            lines.append(f"{path}: {v['rule']} ({v['impact']}): {v['help']}, {len(v['nodes'])} x")
            lines.extend(f"    {n['target']}  {n['summary']}" for n in v["nodes"][:5])
    return "\n".join(lines)


def test_axe_finds_what_it_should(axe_source):
    """The audit can fail: a picture without alt text and a nameless slider are found."""
    with chromium_context() as context:
        page = context.new_page()
        page.set_content(
            '<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><main>'
            "<h1>A page with two faults</h1>"
            '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
            '<input type="range" min="0" max="3">'
            "</main></body></html>"
        )
        rules = {v["rule"] for v in audit(page, axe_source)}
    assert {"image-alt", "label"} <= rules, rules


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_every_page_passes_wcag_21_aa(color_scheme, axe_source):
    """Both of the theme's colour schemes: contrast is judged on the colours a reader sees."""
    site_dir = built_site()
    pages = site_pages(site_dir)
    audited, violations = [], {}
    with serve(site_dir) as base_url, chromium_context(color_scheme=color_scheme) as context:
        for path in pages:
            html = (site_dir / path).read_text(encoding="utf-8", errors="replace")
            if redirect_target(html) is not None:  # an empty page that only redirects
                continue
            audited.append(path)
            found = audit_url(context, f"{base_url}/{path}", axe_source, color_scheme)
            if found:
                violations[path] = found
    assert len(audited) >= 20, f"only {len(audited)} pages were audited: {audited}"
    count = sum(len(v["nodes"]) for found in violations.values() for v in found)
    assert not violations, (
        f"{count} elements on {len(violations)} of {len(audited)} pages break WCAG 2.1 A/AA "
        f"rules in the {color_scheme} theme:\n{describe(violations)}"
    )
