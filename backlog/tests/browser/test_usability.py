"""What a new user met in a real Chromium, on a laptop and on a phone (touch): where the drop
indicator is drawn, touch targets and menus that fit the screen, what a move announces, the edit
form's untouched text."""

import re

import pytest

from backlog.models import Item, ItemEvent
from backlog.services.items import item_create

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 3,
}
TOUCH_TARGET = 44  # px, the least a finger hits reliably (WCAG 2.5.5)


def stories(product, owner, count: int, *, debt_every: int = 0) -> list[Item]:
    made = []
    for n in range(1, count + 1):
        debt = bool(debt_every) and n % debt_every == 0
        extra = {"interest_hours": 2} if debt else {}
        kind = "tech_debt" if debt else "story"
        made.append(item_create(product=product, actor=owner, kind=kind, title=f"Item number {n}", **extra))
    return made


def shown(page) -> list[str]:
    return [title.split()[-1] for title in page.locator("#rows li.row .title a").all_inner_texts()]


def row(page, item):
    return page.locator(f"#item-{item.pk}")


def said(page, text: str) -> str:
    page.wait_for_function("t => document.getElementById('live').textContent.includes(t)", arg=text)
    return page.locator("#live").inner_text()


def indicator_is_at_the_top_of(page, target) -> None:
    line = page.locator(".drop-indicator").bounding_box()
    edge = target.bounding_box()["y"]
    assert abs(line["y"] + line["height"] / 2 - edge) <= 3, (line, edge)  # on the edge, not elsewhere


def test_the_drop_indicator_is_drawn_at_the_drop_row_and_badges_keep_to_their_column(page_as, product, owner):
    items = stories(product, owner, 12, debt_every=3)
    page = page_as(owner, f"/p/{product.key}/", viewport={"width": 1366, "height": 900})
    # The kind badge ("Technical debt", the widest) stays in its column, clear of the title.
    overlaps = page.evaluate(
        """() => Array.from(document.querySelectorAll("#rows li.row")).filter(row => {
            const badge = row.querySelector(".kind").getBoundingClientRect();
            return badge.right > row.querySelector(".title").getBoundingClientRect().left;
        }).map(row => row.dataset.key)"""
    )
    assert page.locator("#rows .kind-tech_debt").count() == 4 and overlaps == []
    handle = row(page, items[0]).locator(".handle").bounding_box()
    target = row(page, items[6])
    box = target.bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 300, box["y"] + box["height"] * 0.25, steps=8)
    indicator_is_at_the_top_of(page, target)
    page.mouse.up()
    said(page, "moved")
    assert shown(page)[:7] == ["2", "3", "4", "5", "6", "1", "7"]


def test_a_move_past_the_end_announces_the_position_the_item_took(page_as, product, owner):
    items = stories(product, owner, 5)
    page = page_as(owner, f"/p/{product.key}/")
    row(page, items[0]).focus()
    page.keyboard.press("Alt+p")
    page.keyboard.type("99999")
    page.keyboard.press("Enter")
    message = said(page, "moved")
    assert f"{items[0].key} moved: now at position 5" in message
    assert "there is no position 99999" in message
    assert "moved to position 99999" not in message
    assert shown(page)[-1] == "1"


def test_on_a_phone_the_backlog_fits_the_screen_and_the_finger(page_as, product, owner):
    items = stories(product, owner, 30)
    page = page_as(owner, f"/p/{product.key}/", **PHONE)
    height = PHONE["viewport"]["height"]
    first = page.locator("#rows li.row").first
    assert first.bounding_box()["y"] < height / 2  # the backlog starts in the upper half
    assert not page.locator(".keys-keyboard").is_visible()  # no keyboard help on a touch screen
    assert page.locator(".keys-touch").is_visible()
    for target in (".handle", ".select-target", ".row-menu summary", ".why summary"):
        box = first.locator(target).bounding_box()
        assert box["width"] >= TOUCH_TARGET and box["height"] >= TOUCH_TARGET, (target, box)
    # Tapping "Not ready" shows what is missing; tapping ⋯ opens a menu inside the screen.
    first.locator(".why summary").tap()
    assert first.locator(".why .popover").is_visible()
    assert "No estimate" in first.locator(".why .popover").inner_text()
    first.locator(".row-menu summary").tap()
    menu = first.locator(".row-menu .menu").bounding_box()
    assert menu["x"] >= 0 and menu["x"] + menu["width"] <= PHONE["viewport"]["width"], menu
    first.locator(".row-menu summary").tap()  # closed again

    # Scrolled down, a finger drags a row: the indicator is on screen, at the drop row's edge.
    row(page, items[15]).scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 200)")
    handle = row(page, items[15]).locator(".handle").bounding_box()
    target = row(page, items[18])
    assert page.evaluate("window.scrollY") > 1000
    touch = page.context.new_cdp_session(page)
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    end = target.bounding_box()["y"] + 10
    for step in range(1, 9):
        point = {"x": x, "y": y + (end - y) * step / 8}
        touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    line = page.locator(".drop-indicator").bounding_box()
    assert 0 <= line["y"] <= height, line  # on screen
    indicator_is_at_the_top_of(page, target)
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    said(page, "moved")
    order = list(Item.objects.filter(product=product).ordered().values_list("pk", flat=True))
    assert order.index(items[15].pk) == order.index(items[18].pk) - 1  # dropped just above it


def test_saving_the_edit_form_untouched_records_no_edit(page_as, product, owner):
    item = item_create(
        product=product,
        actor=owner,
        kind="story",
        title="Export the report",
        description="First line\nSecond line\n\n- a list",
        acceptance_criteria="Given a report\nWhen I export it\nThen a CSV downloads",
    )
    page = page_as(owner, f"/p/{product.key}/{item.number}/edit/", viewport={"width": 1366, "height": 900})
    title, form = page.locator("input[name=title]").bounding_box(), page.locator("form.item-form").bounding_box()
    assert title["width"] >= 0.9 * form["width"], (title, form)  # the title box spans the form
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf"/p/{product.key}/{item.number}/$"))
    assert not ItemEvent.objects.filter(item=item, type=ItemEvent.Type.UPDATED).exists()
    page.goto(f"/p/{product.key}/{item.number}/edit/")
    page.fill("input[name=title]", "Export the report as CSV")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf"/p/{product.key}/{item.number}/$"))
    edit = ItemEvent.objects.get(item=item, type=ItemEvent.Type.UPDATED)
    assert list(edit.data["changes"]) == ["title"]
    assert Item.objects.get(pk=item.pk).description == "First line\nSecond line\n\n- a list"
