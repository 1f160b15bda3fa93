"""End to end in a real Chromium: a stakeholder opens the roadmap, sees each theme's bar and its
late mark, opens a theme from it and reads its items in backlog order, then the printable view."""

from datetime import date

import pytest

from backlog.models import Theme
from backlog.services.items import item_create

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_stakeholder_opens_the_roadmap_and_a_theme(page_as, product, owner, stakeholder):
    product.sprint_capacity = 10
    product.save()
    checkout = Theme.objects.create(product=product, title="Checkout", colour="#aa3300", target_date=date(2020, 1, 1))
    search = Theme.objects.create(product=product, title="Search", colour="#0066aa")
    first = item_create(
        product=product, actor=owner, kind="story", title="One-page checkout", estimate=5, theme=checkout
    )
    item_create(product=product, actor=owner, kind="story", title="Typo-tolerant search", estimate=8, theme=search)
    last = item_create(product=product, actor=owner, kind="story", title="Saved cards", estimate=8, theme=checkout)

    page = page_as(stakeholder, f"/p/{product.key}/roadmap/")
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    chart = page.locator("svg.roadmap-chart")
    assert chart.is_visible()
    assert chart.locator(f'rect[fill="{checkout.colour}"]').count() >= 1
    assert chart.locator("line.target").count() == 1  # only Checkout has a target date
    table = page.locator("#roadmap-table")
    checkout_row = table.locator("tr", has_text="Checkout")
    assert last.key in checkout_row.inner_text()  # the theme ends with its last item
    assert "⚠ late" in checkout_row.inner_text()  # its target is long past
    assert "no target date" in table.locator("tr", has_text="Search").inner_text()

    checkout_row.get_by_role("link", name="Checkout").click()
    page.wait_for_url(f"**/p/{product.key}/themes/{checkout.pk}/")
    listed = page.locator("ol.theme-items li")
    assert listed.count() == 2
    assert first.key in listed.nth(0).inner_text() and last.key in listed.nth(1).inner_text()
    assert page.get_by_role("button", name="Delete the theme (its items stay)").count() == 0

    page.goto(f"/p/{product.key}/roadmap/?print=1")
    assert page.locator("svg.roadmap-chart").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".no-print").first.is_visible()
    assert not errors, errors
