"""The built website, opened page by page in a real browser (headless Chromium through Playwright).

``make test`` runs ``make book`` first; if ``_build/html`` is missing the site is built here through
``cvlib.tools.book.build_book``. The site is served on 127.0.0.1 and every ``.html`` page is opened
once; the tests then check what the browser saw:

- no notebook cell shows a traceback or an error output;
- math is typeset: on every page with math, each formula became a MathJax ``mjx-container`` with no
  TeX error, and at least one page of the site has math;
- every local image loaded (``naturalWidth > 0``), every local link and asset answers HTTP 200, and
  every ``#fragment`` exists on its target page;
- the browser asked no other host for anything (scripts, styles, fonts, images): the site works
  offline. Requests to other hosts are blocked and recorded, never sent.

Without Chromium the module is skipped with a message, except when ``CVLIB_REQUIRE_BROWSER=1`` (CI),
where a missing browser is a failure. Playwright never downloads a browser here: it drives the
system's ``chromium``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urldefrag, urljoin, urlsplit
from urllib.request import urlopen

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from site_helpers import built_site, chromium_context, redirect_target, serve, site_pages

pytestmark = pytest.mark.slow

# Error outputs as myst-nb renders them (classes "output traceback"), plus the text of a traceback
# anywhere in a cell's output (e.g. printed by hand or a stream that caught one).
ERROR_SELECTOR = ".output.traceback, .cell_output .traceback, div.output.error"


class _Ids(HTMLParser):
    """Collects the ``id`` and ``name`` attributes of a page: the targets of ``#fragments``."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key == "id" or (key == "name" and tag == "a"):
                self.ids.add(value or "")


def _fetch(url: str) -> tuple[int | str, bytes]:
    """HTTP status (or the network error) and body of a URL on the local server."""
    try:
        with urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except HTTPError as err:
        return err.code, b""
    except URLError as err:
        return str(err.reason), b""


def _page_ids(url: str) -> set[str] | None:
    """The ids on a page (None when the page itself is missing: the link test reports that)."""
    status, body = _fetch(url)
    if status != 200:
        return None
    parser = _Ids()
    parser.feed(body.decode("utf-8", "replace"))
    return parser.ids


@dataclass
class PageReport:
    """What the browser saw on one page."""

    path: str
    errors: list[str] = field(default_factory=list)
    math_elements: int = 0
    math_containers: int = 0
    untypeset: list[str] = field(default_factory=list)
    tex_errors: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    urls: set[str] = field(default_factory=set)
    external_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def site_dir() -> Path:
    return built_site()


@pytest.fixture(scope="module")
def base_url(site_dir):
    with serve(site_dir) as url:
        yield url


@pytest.fixture(scope="module")
def browser_context():
    with chromium_context() as context:
        yield context


def _visit(context, base_url: str, site_dir: Path, path: str) -> PageReport:
    report = PageReport(path)
    target = redirect_target((site_dir / path).read_text(encoding="utf-8", errors="replace"))
    if target is not None:  # nothing to see but the link it redirects to
        report.urls = {urljoin(f"{base_url}/{path}", target)}
        return report
    origin = urlsplit(base_url).netloc
    page = context.new_page()

    def route(route):
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != origin:
            report.external_requests.append(f"{route.request.resource_type} {url}")
            route.abort()
        else:
            route.continue_()

    def response(resp):
        if urlsplit(resp.url).netloc == origin and resp.status >= 400:
            report.failed_requests.append(f"HTTP {resp.status} {resp.url}")

    page.route("**/*", route)
    page.on("response", response)
    try:
        page.goto(f"{base_url}/{path}", wait_until="load")
        report.errors = page.eval_on_selector_all(
            f"{ERROR_SELECTOR}, .cell_output",
            """(nodes, selector) => nodes
                .filter(n => n.matches(selector) || /Traceback \\(most recent call last\\)/
                    .test(n.textContent))
                .map(n => n.textContent.trim().slice(0, 300))""",
            ERROR_SELECTOR,
        )
        report.errors = list(dict.fromkeys(report.errors))  # nested matches repeat a text
        report.math_elements = page.locator(".math").count()
        if report.math_elements:
            try:
                page.wait_for_function(
                    "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
                )
            except PlaywrightTimeoutError:
                report.untypeset = ["MathJax never started on this page (is mathjax_path right?)"]
                return report
            page.evaluate("() => MathJax.startup.promise")
            report.math_containers = page.locator("mjx-container").count()
            report.untypeset = page.eval_on_selector_all(
                ".math",
                "nodes => nodes.filter(n => !n.querySelector('mjx-container'))"
                ".map(n => n.textContent.trim().slice(0, 80))",
            )
            report.tex_errors = page.eval_on_selector_all(
                "mjx-merror", "nodes => nodes.map(n => n.textContent.slice(0, 80))"
            )
        report.broken_images = page.evaluate(
            """async (origin) => {
                const imgs = [...document.images].filter(i => new URL(i.src).host === origin);
                await Promise.all(imgs.map(i => i.decode().catch(() => null)));
                return imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);
            }""",
            origin,
        )
        report.urls = set(
            page.evaluate(
                """() => [
                    ...[...document.querySelectorAll('a[href], link[href]')].map(e => e.href),
                    ...[...document.querySelectorAll('[src]')].map(e => e.src),
                ]"""
            )
        )
    finally:
        page.close()
    return report


@pytest.fixture(scope="module")
def reports(site_dir, base_url, browser_context) -> dict[str, PageReport]:
    pages = site_pages(site_dir)
    return {path: _visit(browser_context, base_url, site_dir, path) for path in pages}


def test_no_cell_shows_an_error(reports):
    bad = {path: r.errors for path, r in reports.items() if r.errors}
    assert not bad, f"cells with a traceback or an error output: {bad}"


def test_math_is_typeset(reports):
    with_math = {path: r for path, r in reports.items() if r.math_elements}
    assert with_math, "no page of the site has math: the MathJax check would test nothing"
    problems = {
        path: {"not typeset": r.untypeset, "TeX errors": r.tex_errors}
        for path, r in with_math.items()
        if r.untypeset or r.tex_errors or r.math_containers < r.math_elements
    }
    assert not problems, f"math that MathJax did not typeset: {problems}"


def test_local_images_load(reports):
    bad = {path: r.broken_images for path, r in reports.items() if r.broken_images}
    assert not bad, f"images that did not load: {bad}"


def test_no_request_leaves_the_site(reports):
    bad = {path: r.external_requests for path, r in reports.items() if r.external_requests}
    assert not bad, f"pages that ask another host for assets (the site must work offline): {bad}"


def test_no_local_request_fails(reports):
    bad = {path: r.failed_requests for path, r in reports.items() if r.failed_requests}
    assert not bad, f"local requests answered with an error: {bad}"


def test_local_links_and_fragments_resolve(reports, base_url):
    origin = urlsplit(base_url).netloc
    links: dict[str, set[str]] = {}  # target URL without fragment -> pages linking to it
    for path, report in reports.items():
        for url in report.urls:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") and parts.netloc == origin:
                target = urlsplit(urldefrag(url)[0])._replace(query="").geturl()
                links.setdefault(target, set()).add(path)

    broken = {}
    for target, sources in sorted(links.items()):
        status, _ = _fetch(target)
        if status != 200:
            broken[target] = f"{status}, linked from {sorted(sources)[:3]}"
    assert not broken, f"local links or assets that do not answer 200: {broken}"


def test_local_fragments_exist(reports, base_url):
    origin = urlsplit(base_url).netloc
    fragments: dict[tuple[str, str], set[str]] = {}  # (page URL, fragment) -> pages linking there
    for path, report in reports.items():
        for url in report.urls:
            target, fragment = urldefrag(url)
            parts = urlsplit(target)
            if fragment and parts.scheme in ("http", "https") and parts.netloc == origin:
                key = (parts._replace(query="").geturl(), unquote(fragment))
                fragments.setdefault(key, set()).add(path)
    ids = {target: _page_ids(target) for target, _ in fragments}
    missing = {
        f"{target}#{fragment}": sorted(sources)[:3]
        for (target, fragment), sources in sorted(fragments.items())
        if ids[target] is not None and fragment not in ids[target]
    }
    assert not missing, f"#fragments with no matching id on their page: {missing}"
