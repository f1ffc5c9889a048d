"""Headless Chromium for the browser tests, and what they need around it.

The browser is Debian's `chromium` (installed by `infra/scripts/install-browser.sh`, which `make test` runs;
`CHROMIUM_BIN` names another one), driven through Playwright's Python client: the launch names that
executable, so Playwright never fetches a browser of its own. Flags: no sandbox (the tests run as root), no
GPU, and none of Chromium's own connections to Google's services (this machine reaches no other host, and
those refused connections slow it down); each launch has a fresh temporary profile.

When Chromium is missing the tests skip saying what to install, except in CI, where they fail, as the
Supabase tests do.

Playwright's synchronous client keeps an event loop open on the thread that uses it, and `asyncio.run` cannot
start while another loop is open on the same thread: `off_thread` runs what starts one (a processor run, a
key minted through the store) on a worker thread instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.support.supabase import in_ci

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
)
INSTALL_HINT = "install Debian's chromium (`bash infra/scripts/install-browser.sh`) or set CHROMIUM_BIN"

_T = TypeVar("_T")


def chromium_executable() -> str | None:
    """`CHROMIUM_BIN` when set (and executable), else `chromium` on the PATH."""
    configured = os.environ.get("CHROMIUM_BIN")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium per test module; each test opens its own context (cookies, storage). Not one per
    session: Playwright's event loop stays open on the main thread while it runs, and the async tests of
    later modules need that thread's loop to themselves."""
    executable = chromium_executable()
    if executable is None:
        if in_ci():
            pytest.fail(f"CI must run the browser tests: {INSTALL_HINT}", pytrace=False)
        pytest.skip(f"no Chromium: {INSTALL_HINT}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            browser.close()


class PageProblems:
    """What went wrong in a page: uncaught errors and console errors (a Content-Security-Policy violation
    is one), so a test can require a clean page. Chromium also logs every HTTP error answer to the console
    ("Failed to load resource"): those are the API's answers, which the tests check themselves."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text}")


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A new tab in a context of its own (empty storage), closed after the test; it fails the test when the
    page raised or logged an error."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    problems = PageProblems(tab)
    try:
        yield tab
    finally:
        context.close()
    assert not problems.errors, problems.errors


def off_thread(work: Callable[[], _T]) -> _T:
    """`work()` on a worker thread, waited for (see the module's docstring)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()
