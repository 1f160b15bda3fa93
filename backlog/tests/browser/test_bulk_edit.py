"""Bulk edit on the backlog page, in a real Chromium: the selection's edit bar by keyboard, a
refusal that changes nothing and says why, and the bar on a phone."""

import pytest

from backlog.models import Item, ItemEvent
from backlog.services.items import item_create, item_transition

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 3}


def stories(product, owner, count: int) -> list[Item]:
    return [item_create(product=product, actor=owner, kind="story", title=f"Story {n}") for n in range(1, count + 1)]


def labels_of(item: Item) -> list[str]:
    return sorted(item.labels.values_list("name", flat=True))


def test_selected_rows_get_labels_and_a_status_by_keyboard(page_as, product, owner):
    made = stories(product, owner, 5)
    page = page_as(owner, f"/p/{product.key}/")
    for item in made[:3]:  # Space on a focused row selects it
        page.locator(f"#item-{item.pk}").focus()
        page.keyboard.press("Space")
    assert page.locator("#selected-count").inner_text() == "3"
    summary = page.locator("#bulk-edit summary")
    summary.focus()
    page.keyboard.press("Enter")
    page.locator("#bulk-add").focus()
    page.keyboard.type("ux, api")
    page.locator("#bulk-status").select_option("in_progress")
    page.locator("#bulk-status").focus()
    page.keyboard.press("Tab")
    if page.evaluate("document.activeElement.id") == "bulk-value":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the submit button
    page.locator("#live").filter(has_text="3 items changed").wait_for()
    for item in made[:3]:
        item.refresh_from_db()
        assert (labels_of(item), item.status) == (["api", "ux"], "in_progress")
    assert labels_of(Item.objects.get(pk=made[3].pk)) == []
    assert (
        ItemEvent.objects.filter(item__in=made[:3], type="status_changed").values("operation").distinct().count() == 1
    )
    # The list was fetched again: the rows show their new labels, and nothing stays selected.
    assert "ux" in page.locator(f"#item-{made[0].pk} .title").inner_text()
    assert page.locator("#selection").is_hidden()


def test_a_refused_item_changes_nothing_and_is_named(page_as, product, owner):
    made = stories(product, owner, 3)
    item_transition(item=made[1], actor=owner, to="in_progress")
    page = page_as(owner, f"/p/{product.key}/")
    for item in made[:2]:
        page.locator(f"#item-{item.pk} input.select").check()
    page.locator("#bulk-edit summary").click()
    page.locator("#bulk-add").fill("gone")
    page.locator("#bulk-status").select_option("archived")
    page.locator("#bulk-form button[type=submit]").click()
    live = page.locator("#live")
    live.filter(has_text="Nothing was changed").wait_for()
    assert made[1].key in live.inner_text() and "cannot become archived" in live.inner_text()
    assert "error" in (live.get_attribute("class") or "")
    assert [item.status for item in Item.objects.filter(pk__in=[m.pk for m in made]).order_by("pk")] == [
        "open",
        "in_progress",
        "open",
    ]
    assert not any(labels_of(item) for item in made)


def test_the_edit_bar_fits_a_phone_and_the_finger(page_as, product, owner):
    made = stories(product, owner, 3)
    page = page_as(owner, f"/p/{product.key}/", **PHONE)
    page.locator(f"#item-{made[0].pk} .select-target").tap()
    page.locator("#bulk-edit summary").tap()
    controls = page.locator("#bulk-form input, #bulk-form select, #bulk-form button, #bulk-edit summary")
    for index in range(controls.count()):
        box = controls.nth(index).bounding_box()
        assert box["height"] >= 44, controls.nth(index).evaluate("e => e.outerHTML")
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.locator("#bulk-kind").select_option("spike")
    page.locator("#bulk-form button[type=submit]").tap()
    # A spike needs its timebox and question: the message says so, for this item.
    page.locator("#live").filter(has_text=made[0].key).wait_for()
    assert Item.objects.get(pk=made[0].pk).kind == "story"
