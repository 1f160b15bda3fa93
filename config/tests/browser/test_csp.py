"""The Content-Security-Policy in a real Chromium: no page breaks a rule of it (an inline style or
script the browser refuses shows as a console error), and the API docs still render."""

import pytest

from backlog.services.items import item_create
from config.tests.browser_fixtures import Traffic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _violations(page, path: str) -> list[str]:
    """Open ``path`` in ``page`` and return the policy violations its console reported, once the
    page and what it loads after (htmx panels, Swagger UI's fetches) have settled."""
    messages: list[str] = []

    def listen(message) -> None:
        messages.append(message.text)

    page.on("console", listen)
    traffic = Traffic.of(page.context)
    page.goto(path)
    assert traffic.settle(page), f"{path} kept loading"
    page.remove_listener("console", listen)
    return [text for text in messages if "Content Security Policy" in text]


PAGES = [
    "/p/{key}/",
    "/p/{key}/1/",
    "/p/{key}/review/",
    "/me/",
    "/p/{key}/members/",
    "/p/{key}/settings/",
    "/p/{key}/themes/",
    "/p/{key}/roadmap/",
    "/p/{key}/roadmap/?print=1",
    "/search/?q=story",
    "/accounts/password/change/",
    "/accounts/email/",
    "/accounts/logout/",
]


def test_pages_keep_to_the_policy(page_as, product, owner, developer):
    """Every signed-in page, one after the other in one browser tab (each with its own listener)."""
    item_create(product=product, actor=owner, kind="story", title="Story A")
    item_create(product=product, actor=developer, kind="story", title="A proposal")
    page = page_as(owner, None)
    violations = {path: _violations(page, path.format(key=product.key)) for path in PAGES}
    assert {path: found for path, found in violations.items() if found} == {}


def test_the_api_docs_keep_to_the_policy_and_render(page_as, owner):
    page = page_as(owner, None)
    assert _violations(page, "/api/docs/") == []
    page.wait_for_selector(".opblock", timeout=15_000)  # Swagger UI rendered the operations
    assert page.locator(".opblock").count() > 20


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_signed_out_pages_keep_to_the_policy(chromium, live_server, path):
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    assert _violations(page, path) == []
    page.keyboard.press("Tab")  # the skip link, then the form: reachable by keyboard
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") in {"A", "INPUT"}
    context.close()
