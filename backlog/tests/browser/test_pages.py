"""The backlog pages end to end in a real Chromium: ordering with the mouse, the keyboard and blocks,
what stakeholders see, and Markdown on the item page that stays inert."""

import re

import pytest

from backlog.models import Item
from backlog.services.items import item_create

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def five(product, owner):
    return {t: item_create(product=product, actor=owner, kind="story", title=f"Story {t}") for t in "ABCDE"}


def shown(page) -> list[str]:
    return [title.split()[-1] for title in page.locator("#rows li.row .title a").all_inner_texts()]


def stored(product) -> list[str]:
    return [
        title.split()[-1] for title in Item.objects.filter(product=product).ordered().values_list("title", flat=True)
    ]


def row(page, item):
    return page.locator(f"#item-{item.pk}")


def wait_saved(page, text: str = "moved") -> None:
    page.wait_for_function("t => document.getElementById('live').textContent.includes(t)", arg=text)


def drag(page, source, target, *, below: bool = False) -> None:
    """Drag ``source``'s handle onto ``target``'s upper (or lower) half, in small steps, as a hand would."""
    handle = source.locator(".handle").bounding_box()
    box = target.bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    y = box["y"] + box["height"] * (0.8 if below else 0.2)
    page.mouse.move(box["x"] + 40, y, steps=12)
    assert page.locator(".drop-indicator").count() == 1  # the drop place is shown while dragging
    page.mouse.up()


def test_an_owner_drags_an_item_and_the_order_survives_a_reload(page_as, product, owner, five):
    page = page_as(owner, f"/p/{product.key}/")
    drag(page, row(page, five["E"]), row(page, five["B"]))
    wait_saved(page)
    assert shown(page) == ["A", "E", "B", "C", "D"]
    assert page.locator(f"#item-{five['E'].pk} .num").inner_text() == "2"
    page.reload()
    assert shown(page) == ["A", "E", "B", "C", "D"] == stored(product)


def test_an_owner_reorders_with_the_keyboard(page_as, product, owner, five):
    page = page_as(owner, f"/p/{product.key}/")
    row(page, five["C"]).focus()
    page.keyboard.press("Alt+ArrowUp")
    wait_saved(page, "moved up")
    assert shown(page) == ["A", "C", "B", "D", "E"]
    row(page, five["D"]).focus()
    page.keyboard.press("Alt+Home")
    wait_saved(page, "to the top")
    assert shown(page)[0] == "D"
    row(page, five["A"]).focus()
    page.keyboard.press("Alt+p")
    page.keyboard.type("4")
    page.keyboard.press("Enter")
    wait_saved(page, "position 4")
    page.reload()
    assert shown(page) == ["D", "C", "B", "A", "E"] == stored(product)


def test_a_block_of_selected_items_moves_together(page_as, product, owner, five):
    page = page_as(owner, f"/p/{product.key}/")
    row(page, five["B"]).locator("input.select").check()
    row(page, five["D"]).locator("input.select").check()
    assert page.locator("#selected-count").inner_text() == "2"
    page.get_by_role("button", name="Move to bottom").first.click()
    wait_saved(page, "2 items")
    assert shown(page) == ["A", "C", "E", "B", "D"]
    page.reload()
    assert stored(product) == ["A", "C", "E", "B", "D"]


def test_a_failed_save_puts_the_item_back_and_says_so(page_as, product, owner, five):
    page = page_as(owner, f"/p/{product.key}/")
    page.route("**/api/v1/items/*/move/", lambda route: route.abort())  # the connection drops
    drag(page, row(page, five["D"]), row(page, five["A"]))
    page.wait_for_function("() => document.getElementById('live').textContent.includes('not saved')")
    assert "connection was lost" in page.locator("#live").inner_text()
    assert shown(page) == ["A", "B", "C", "D", "E"] == stored(product)
    page.unroute("**/api/v1/items/*/move/")
    page.route(
        "**/api/v1/items/*/move/",
        lambda route: route.fulfill(
            status=409,
            content_type="application/json",
            body='{"error": {"status": 409, "code": "conflict", "message": "Someone else moved it", "fields": {}}}',
        ),
    )
    row(page, five["C"]).focus()
    page.keyboard.press("Alt+ArrowUp")
    page.wait_for_function("() => document.getElementById('live').textContent.includes('Someone else moved it')")
    assert shown(page) == ["A", "B", "C", "D", "E"]


def test_a_stakeholder_sees_no_reorder_controls_and_a_forged_move_is_refused(page_as, product, stakeholder, five):
    page = page_as(stakeholder, f"/p/{product.key}/")
    assert page.locator("#rows li.row").count() == 5
    assert page.locator(".handle, .row-menu, input.select, #selection").count() == 0
    status = page.evaluate(
        """async ([id, key]) => {
            const response = await fetch(`/api/v1/items/${id}/move/`, {
                method: "POST",
                credentials: "same-origin",
                headers: {"Content-Type": "application/json",
                          "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content},
                body: JSON.stringify({to: "top"}),
            });
            return response.status;
        }""",
        [five["E"].pk, five["E"].key],
    )
    assert status == 403
    assert stored(product) == ["A", "B", "C", "D", "E"]


def test_markdown_with_a_script_renders_inert(page_as, product, owner):
    hostile = (
        "**Bold claim**\n\n<script>window.__owned = 1</script>\n\n"
        '<img src="x" onerror="window.__owned = 2">\n\n[click](javascript:window.__owned=3)'
    )
    item = item_create(product=product, actor=owner, kind="story", title="Hostile", description=hostile)
    page = page_as(owner, f"/p/{product.key}/{item.number}/")
    page.fill("#comment-body", "<script>window.__owned = 4</script>*fine*")
    page.get_by_role("button", name="Comment").click()
    page.wait_for_url(re.compile(r"#comments$"))
    assert page.locator(".markdown a", has_text="click").get_attribute("href") is None  # javascript: dropped
    assert page.evaluate("window.__owned") is None
    assert page.locator(".markdown strong", has_text="Bold claim").count() == 1
    assert page.locator(".markdown em", has_text="fine").count() == 1
    assert page.locator(".markdown script, .markdown img").count() == 0


def test_reordering_keeps_working_after_filters_paging_and_back(page_as, product, owner, monkeypatch):
    monkeypatch.setattr("backlog.views.PAGE_SIZE", 3)
    items = {t: item_create(product=product, actor=owner, kind="story", title=f"Story {t}") for t in "ABCDEFG"}
    page = page_as(owner, f"/p/{product.key}/?status=done")
    assert page.locator("#rows li.row").count() == 0
    page.select_option("#status", "")  # back to the backlog, without a reload
    page.wait_for_function("() => document.querySelectorAll('#rows li.row').length === 3")
    row(page, items["B"]).focus()
    page.keyboard.press("Alt+ArrowUp")
    wait_saved(page, "moved up")
    assert stored(product)[:3] == ["B", "A", "C"]
    # A moves below C, past the row the next page starts after: that page must not show A again.
    row(page, items["A"]).focus()
    page.keyboard.press("Alt+ArrowDown")
    wait_saved(page, "moved down")
    page.get_by_role("button", name="Show the next").click()
    page.wait_for_function("() => document.querySelectorAll('#rows li.row').length >= 5")
    assert shown(page) == ["B", "C", "A", "D", "E"]
    assert page.locator(f"#item-{items['E'].pk} .num").inner_text() == "5"
    # Filter, then the Back button: the restored list still reorders.
    page.select_option("#kind", "defect")
    page.wait_for_function("() => document.querySelectorAll('#rows li.row').length === 0")
    page.go_back()
    page.wait_for_function("() => document.querySelectorAll('#rows li.row').length > 0")
    row(page, items["A"]).focus()
    page.keyboard.press("Alt+End")
    wait_saved(page, "to the bottom")
    assert stored(product)[-1] == "A"
    assert page.evaluate("document.activeElement.classList.contains('row')")  # focus stays in the list
