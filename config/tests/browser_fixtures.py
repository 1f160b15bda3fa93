"""The browser tests' fixtures (a pytest plugin loaded by the root conftest.py, shared by every
app's ``tests/browser/``): a real Chromium (Debian's, through Playwright) against the live test
server, and ``page_as`` to open a page signed in as someone.

Browser tests are marked ``browser``: skipped when no Chromium is installed, but required (a
failure) when ``REQUIRE_BROWSER=1``, as in CI.
"""

import contextlib
import os
import shutil
import time

import pytest
from django.test import Client
from playwright.sync_api import Error as PlaywrightError

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items) -> None:
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"REQUIRE_BROWSER=1 but no Chromium at {CHROMIUM} (apt-get install chromium)")
    skip = pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM}")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


class Traffic:
    """The requests a browser context has in flight, from Playwright's events, so a test can wait
    until its pages are quiet: ``settle`` returns once nothing has been in flight for ``quiet``
    seconds. Playwright's ``networkidle`` waits a fixed 500 ms of quiet after every page; the pages
    here start what they load (htmx panels with ``hx-trigger="load"``) as soon as they load."""

    @classmethod
    def of(cls, context) -> "Traffic":
        """The context's, counting from now if it had none yet (a context not made by ``page_as``)."""
        if not hasattr(context, "traffic"):
            context.traffic = cls(context)
        return context.traffic

    def __init__(self, context) -> None:
        self.pending = 0
        self.changed = time.monotonic()
        context.on("request", self._started)
        context.on("requestfinished", self._ended)
        context.on("requestfailed", self._ended)

    def _started(self, request) -> None:
        self.pending += 1
        self.changed = time.monotonic()

    def _ended(self, request) -> None:
        self.pending -= 1
        self.changed = time.monotonic()

    def settle(self, page, *, quiet: float = 0.15, timeout: float = 5.0) -> bool:
        """Wait until nothing is in flight and nothing started for ``quiet`` seconds (the events
        arrive while Playwright waits); False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            page.wait_for_timeout(25)
            if self.pending <= 0 and time.monotonic() - self.changed >= quiet:
                return True
        return False


def settle(page, **options) -> bool:
    """``Traffic.settle`` for a page opened by ``page_as`` (whose context counts from its start)."""
    return Traffic.of(page.context).settle(page, **options)


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the tests' ORM calls are still plain
    # synchronous code, so Django's guard against ORM calls from async code does not apply.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page_as(chromium, live_server):
    """Open a browser page signed in as ``user`` (a fresh context each, so sessions never mix)."""
    contexts = []

    def open_as(user, path: str | None = "/", *, viewport=None, **options):
        """``options`` go to the browser context: ``has_touch=True, is_mobile=True`` for a phone;
        ``path=None`` leaves the tab blank (to listen to it before the first page loads)."""
        client = Client()
        client.force_login(user)
        context = chromium.new_context(
            base_url=live_server.url, viewport=viewport or {"width": 1280, "height": 900}, **options
        )
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
        context.set_default_timeout(10_000)
        Traffic.of(context)
        contexts.append(context)
        page = context.new_page()
        if path is not None:
            page.goto(path)
        return page

    yield open_as
    for context in contexts:
        # Let requests the pages still make (htmx panels loading after a save) finish before the
        # test database is flushed: a request in flight would hold locks the TRUNCATE waits on.
        with contextlib.suppress(PlaywrightError):  # a page that never settles: the test reports it
            if context.pages:
                Traffic.of(context).settle(context.pages[0])
        context.close()
