"""End to end in a real Chromium: the owner links two items on the item page and sees the order
warning on the item page and on the backlog page."""

import pytest
from playwright.sync_api import expect

from backlog.models import ItemLink
from backlog.services.items import item_create

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_owner_links_two_items_and_sees_the_warning_on_the_backlog(page_as, product, owner):
    top, middle, bottom = (
        item_create(product=product, actor=owner, kind="story", title=title)
        for title in ("Checkout page", "Price rules", "Payment provider contract")
    )
    page = page_as(owner, f"/p/{product.key}/{top.number}/")
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.select_option("#link-type", "blocked_by")
    page.fill("#link-item", bottom.key.lower())
    page.get_by_role("button", name="Link", exact=True).click()
    page.wait_for_selector(".messages .success")
    links = page.locator("#links")
    assert f"{top.key} is blocked by {bottom.key}" in " ".join(links.inner_text().split())
    assert f"{top.key} is above its blocker {bottom.key}" in links.locator(".warning").inner_text()
    link = ItemLink.objects.get()
    assert (link.source_id, link.target_id, link.kind) == (bottom.pk, top.pk, "blocks")

    page.goto(f"/p/{product.key}/")
    row = page.locator(f"#item-{top.pk}")
    badge = row.locator(".order-warning")
    assert badge.inner_text().strip() == f"⚠ above its blocker {bottom.key}"
    assert badge.get_attribute("title") == f"{top.key} is above its blocker {bottom.key}"
    assert page.locator(f"#item-{middle.pk} .order-warning").count() == 0
    assert page.locator(f"#item-{bottom.pk} .order-warning").count() == 0

    # Moving the blocker above it (keyboard, as the owner may) clears the warning.
    page.locator(f"#item-{bottom.pk}").focus()
    page.keyboard.press("Alt+Home")
    expect(page.locator("#live")).to_contain_text("to the top")
    page.reload()
    assert page.locator(f"#item-{top.pk} .order-warning").count() == 0
    assert not [error for error in errors if "Content Security Policy" in error], errors
