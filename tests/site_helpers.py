"""The built website for the browser tests: where it is, its pages, a local server and a browser.

``tests/test_site.py`` (broken pages, links, math) and ``tests/test_accessibility.py`` (axe-core's
WCAG rules) open every page of ``_build/html`` in Debian's chromium through Playwright, which never
downloads a browser here. Without chromium those tests are skipped with a message, except when
``CVLIB_REQUIRE_BROWSER=1`` (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PAGE_TIMEOUT_MS = 20_000


def browser_required() -> bool:
    """CI sets ``CVLIB_REQUIRE_BROWSER=1``: a browser test that cannot run fails there."""
    return os.environ.get("CVLIB_REQUIRE_BROWSER") == "1"


def skip_or_fail(message: str) -> None:
    """Fail when the browser tests are required (CI), else skip with the reason."""
    if browser_required():
        pytest.fail(f"CVLIB_REQUIRE_BROWSER=1 but {message}")
    pytest.skip(message)


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CVLIB_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def built_site() -> Path:
    """``_build/html``, built here through ``cvlib.tools.book.build_book`` when it is missing."""
    if not (SITE / "index.html").exists():
        from cvlib.tools.book import build_book

        assert build_book.main([]) == 0, "building the site failed (see the output above)"
    return SITE


def site_pages(site_dir: Path) -> list[str]:
    """Every HTML page of the site, relative to it, without Sphinx's own folders."""
    pages = sorted(
        p.relative_to(site_dir).as_posix()
        for p in site_dir.rglob("*.html")
        if not p.relative_to(site_dir).as_posix().startswith(("_static/", "_sources/", "_images/"))
    )
    assert "book/intro.html" in pages, f"the introduction page is missing from {site_dir}"
    return pages


def redirect_target(html: str) -> str | None:
    """The target of a ``<meta http-equiv="refresh">`` redirect page (like Jupyter Book's index)."""
    match = re.search(r'http-equiv="refresh"[^>]*content="\d+;\s*url=([^"]+)"', html, re.I)
    return match.group(1) if match else None


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextmanager
def serve(site_dir: Path) -> Iterator[str]:
    """Serve ``site_dir`` on 127.0.0.1 (a free port) and yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium_context(**options):
    """A Playwright browser context of Debian's headless chromium (service workers blocked).

    ``options`` go to ``Browser.new_context``, e.g. ``color_scheme="dark"``.
    """
    chromium = find_chromium()
    if chromium is None:
        skip_or_fail(
            "no chromium was found: the site tests need Debian's chromium (apt-get install "
            "chromium; .ci/run installs it); Playwright never downloads a browser here"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(service_workers="block", **options)
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()
            browser.close()
