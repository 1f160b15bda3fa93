"""End to end in a real Chromium: the owner plans a sprint short of debt and commits it; a
developer drags a card across the board to done, waives one Definition of Done entry and finds
the debt item on the backlog."""

from datetime import date

import pytest

from backlog.models import Item
from backlog.services.items import item_create
from config.tests.browser_fixtures import settle
from delivery.models import DodWaiver, Sprint, SprintEvent
from delivery.services.settings import delivery_settings_update
from delivery.services.sprints import sprint_commit, sprint_create, sprint_start

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def story(product, owner, title, estimate, kind="story", **extra):
    return item_create(product=product, actor=owner, kind=kind, title=title, estimate=estimate, **extra)


def test_the_owner_plans_a_sprint_short_of_debt_sees_the_diff_and_commits(page_as, product, owner):
    product.sprint_capacity = 10
    product.save()
    delivery_settings_update(product=product, actor=owner, changes={"debt_share": 20})
    for title in ("S1", "S2", "S3", "S4"):
        story(product, owner, title, 3)
    debt = story(product, owner, "T1", 2, kind="tech_debt", interest_hours=4)
    page = page_as(owner, f"/p/{product.key}/sprints/")
    page.fill("input[name=start_date]", "2026-03-02")
    page.fill("input[name=end_date]", "2026-03-13")
    page.fill("input[name=goal]", "Pay our share of debt")
    page.get_by_role("button", name="Create and plan").click()
    page.wait_for_url(f"**/p/{product.key}/sprints/1/")
    assert "debt share 0 % → 20 %, target 20 %" in page.locator("#plan-why").inner_text()
    assert debt.key in page.locator("#plan-in").inner_text()
    assert "S3" in page.locator("#plan-out").inner_text()
    page.get_by_role("button", name="Commit this plan").click()
    page.wait_for_selector(".messages .success")
    sprint = Sprint.objects.get(product=product)
    assert sprint.committed_at is not None
    assert set(sprint.entries.values_list("item__title", flat=True)) == {"S1", "S2", "T1"}
    assert SprintEvent.objects.get(sprint=sprint, type="committed").data["classes"]["debt"]["met"] is True


def test_a_developer_drags_a_card_to_done_waives_one_entry_and_finds_the_debt(page_as, product, owner, developer):
    delivery_settings_update(
        product=product,
        actor=owner,
        changes={"definition_of_done": ["Tests pass", "Docs updated"], "waiver_debt": "placed"},
    )
    card = story(product, owner, "Export to CSV", 3)
    sprint = sprint_create(product=product, actor=owner, start_date=date(2026, 3, 2), end_date=date(2026, 3, 13))
    sprint_commit(sprint=sprint, actor=owner, item_ids=[card.pk], reason="A short one")
    sprint_start(sprint=sprint, actor=owner)

    page = page_as(developer, f"/p/{product.key}/board/")
    page.locator(f"#card-{card.key}").drag_to(page.locator("section.column[data-status=in_progress]"))
    page.wait_for_selector(f"section[data-status=in_progress] #card-{card.key}")
    page.locator(f"#card-{card.key}").drag_to(page.locator("section.column[data-status=done]"))
    page.wait_for_url(f"**/p/{product.key}/{card.number}/done/**")
    page.get_by_role("checkbox", name="Tests pass").check()
    page.get_by_label("Reason to waive Docs updated").fill("The writer is away this week")
    page.get_by_role("button", name="Mark done").click()
    page.wait_for_url(f"**/p/{product.key}/board/")
    waiver = DodWaiver.objects.get(item=card)
    assert f"Debt taken on knowingly: {waiver.debt_item.key}" in page.locator(".messages").inner_text()
    assert page.locator(f"section[data-status=done] #card-{card.key}").count() == 1
    assert Item.objects.get(pk=card.pk).status == Item.Status.DONE

    page.goto(f"/p/{product.key}/")
    row = page.locator(f"#item-{waiver.debt_item.pk}")
    assert row.count() == 1 and "Docs updated" in row.inner_text()

    # The item page loads its delivery part (htmx, under the CSP): the waiver and its debt item.
    page.goto(f"/p/{product.key}/{card.number}/")
    delivery = page.locator("#item-delivery")
    delivery.wait_for()
    assert "Done in Sprint 1" in delivery.inner_text() and waiver.debt_item.key in delivery.inner_text()


@pytest.mark.parametrize(
    "path",
    ["/p/{key}/sprints/", "/p/{key}/sprints/1/", "/p/{key}/board/", "/p/{key}/forecast/", "/p/{key}/delivery/"],
)
def test_delivery_pages_keep_to_the_content_security_policy(page_as, product, owner, path):
    item = story(product, owner, "S1", 3)
    sprint = sprint_create(product=product, actor=owner, start_date=date(2026, 3, 2), end_date=date(2026, 3, 13))
    sprint_commit(sprint=sprint, actor=owner, item_ids=[item.pk], reason="short")
    page = page_as(owner, path.format(key=product.key))
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.reload()
    assert settle(page)
    assert [text for text in messages if "Content Security Policy" in text] == []


def test_the_backlog_page_shows_each_items_likely_sprint_on_request(page_as, product, owner):
    product.sprint_capacity = 10
    product.save()
    first, second = story(product, owner, "S1", 8), story(product, owner, "S2", 8)
    page = page_as(owner, f"/p/{product.key}/")
    assert page.locator(".forecast-badge").count() == 0
    page.get_by_label("Show each item's likely sprint").check()
    # Features get 80 % of 10 points a sprint (debt holds the product's 20 %): 8 points, then 16.
    page.locator(f"#item-{second.pk} .forecast-badge").wait_for()
    assert page.locator(f"#item-{first.pk} .forecast-badge").inner_text() == "sprint 1"
    assert page.locator(f"#item-{second.pk} .forecast-badge").inner_text() == "sprint 2"
    page.reload()  # remembered
    page.locator(f"#item-{first.pk} .forecast-badge").wait_for()
