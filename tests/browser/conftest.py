"""Browser fixtures: the app served on a free local port, Debian's Chromium driven by Playwright.

Outside CI a missing Chromium skips these tests with the reason; under CI=true it fails.
Every page watches for Content-Security-Policy violations, and a test during which Chromium
reports one fails, whatever it asserts itself.
"""
from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Chromium logs each violation ("Refused to …", "Executing inline event handler violates …"),
# each with "Content Security Policy" in it; the listener logs the DOM event too, with the file
# and line that caused it.
CSP_MARK = "Content Security Policy"
REPORT_VIOLATIONS = (
    "document.addEventListener('securitypolicyviolation', (e) => console.error("
    f"'{CSP_MARK} violation: ' + e.effectiveDirective + ' refused ' + (e.blockedURI || 'inline')"
    " + ' at ' + (e.sourceFile || e.documentURI) + ':' + e.lineNumber));"
)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.sqlite_file)


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message + "; browser tests are required under CI=true", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class CspWatch:
    """The CSP violations Chromium reported in a test's browser contexts."""

    def __init__(self):
        self.violations: list[str] = []
        self.pages = []

    def watch(self, context) -> None:
        context.add_init_script(REPORT_VIOLATIONS)
        context.on("console", self._console)
        context.on("page", self._page)

    def _console(self, message) -> None:
        if CSP_MARK in message.text:
            self.violations.append(f"{message.page.url if message.page else '?'}: "
                                   f"{message.text}")

    def _page(self, page) -> None:
        self.pages.append(page)

    def settle(self) -> None:
        """A round trip to every open page, so that its last console messages have arrived."""
        from playwright.sync_api import Error

        for page in self.pages:
            try:
                if not page.is_closed():
                    page.evaluate("0")
            except Error:
                pass  # gone mid-navigation or crashed: what it logged before has arrived


CSP_WATCH = pytest.StashKey[CspWatch]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    watch = item.stash.get(CSP_WATCH, None)
    if watch is not None:
        watch.settle()
        if watch.violations:
            pytest.fail("Chromium reported Content-Security-Policy violations:\n"
                        + "\n".join(watch.violations), pytrace=False)
    return result


@pytest.fixture
def csp_violations(request) -> list[str]:
    """The violations seen so far in this test (which fails at its end if there are any)."""
    return request.node.stash.setdefault(CSP_WATCH, CspWatch()).violations


@pytest.fixture
def new_page(browser, request):
    """Factory for pages in fresh browser contexts (one per simulated person)."""
    watch = request.node.stash.setdefault(CSP_WATCH, CspWatch())
    contexts = []

    def _new_page(width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        watch.watch(context)
        contexts.append(context)
        return context.new_page()

    yield _new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
