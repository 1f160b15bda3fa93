"""The Content-Security-Policy in a real Chromium: no page breaks a rule of it (an inline style or
script the browser refuses shows as a console error), and the API docs still render."""

import pytest

from backlog.services.items import item_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _violations(page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.reload()
    page.wait_for_load_state("networkidle")
    return [text for text in messages if "Content Security Policy" in text]


@pytest.mark.parametrize(
    "path",
    [
        "/p/{key}/",
        "/p/{key}/1/",
        "/p/{key}/review/",
        "/me/",
        "/api/docs/",
        "/p/{key}/members/",
        "/p/{key}/settings/",
        "/p/{key}/themes/",
        "/p/{key}/roadmap/",
        "/p/{key}/roadmap/?print=1",
        "/search/?q=story",
        "/accounts/password/change/",
        "/accounts/email/",
        "/accounts/logout/",
    ],
)
def test_pages_keep_to_the_policy(page_as, product, owner, developer, path):
    item_create(product=product, actor=owner, kind="story", title="Story A")
    item_create(product=product, actor=developer, kind="story", title="A proposal")
    page = page_as(owner, path.format(key=product.key))
    assert _violations(page) == []
    if path == "/api/docs/":
        page.wait_for_selector(".opblock", timeout=15_000)  # Swagger UI rendered the operations
        assert page.locator(".opblock").count() > 20


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_signed_out_pages_keep_to_the_policy(chromium, live_server, path):
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    page.goto(path)
    assert _violations(page) == []
    page.keyboard.press("Tab")  # the skip link, then the form: reachable by keyboard
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") in {"A", "INPUT"}
    context.close()
