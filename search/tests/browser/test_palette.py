"""In a real Chromium: the command palette (Ctrl-K) finds an item by key and Enter opens it; "/"
focuses the header's search box; "?" lists the shortcuts; on a phone the header button opens the
palette; Escape closes it and gives focus back; a saved view is saved and applied from the menu."""

import pytest

from backlog.models import SavedView
from backlog.services.items import item_create
from backlog.services.saved_views import saved_view_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_palette_opens_with_ctrl_k_finds_an_item_by_key_and_enter_opens_it(page_as, product, owner):
    for title in ("Export invoices", "Import contacts", "Refund flow"):
        item_create(product=product, actor=owner, kind="story", title=title)
    target = item_create(product=product, actor=owner, kind="story", title="Dark mode")
    page = page_as(owner, f"/p/{product.key}/")
    page.keyboard.press("Control+k")
    palette = page.locator("#palette")
    palette.wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "palette-input"
    page.keyboard.type(target.key.lower())
    option = page.locator("#palette-list [role=option]").first
    option.wait_for()
    page.wait_for_function(
        "key => document.querySelector('#palette-list [role=option]').textContent.includes(key)", arg=target.key
    )
    assert option.get_attribute("aria-selected") == "true"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/p/{product.key}/{target.number}/")
    assert "Dark mode" in page.locator("h1").inner_text()


def test_enter_right_after_typing_waits_for_the_search(page_as, product, owner):
    target = item_create(product=product, actor=owner, kind="story", title="Quarterly closing")
    page = page_as(owner, "/")
    page.keyboard.press("Control+k")
    page.locator("#palette-input").press_sequentially("quarterly")
    page.keyboard.press("Enter")  # before the debounced search has answered
    page.wait_for_url(f"**/p/{product.key}/{target.number}/")


def test_slash_focuses_the_search_box_and_the_results_show_marked_matches(page_as, product, owner):
    item_create(product=product, actor=owner, kind="story", title="Refund <b>flow</b>")
    page = page_as(owner, f"/p/{product.key}/")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "header-q"
    page.keyboard.type("refund")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=refund*")
    assert page.locator(".hit-title mark").first.inner_text().lower() == "refund"
    assert page.locator(".hit-title b").count() == 0  # the title's markup is text, not HTML


def test_question_mark_lists_every_shortcut_and_escape_closes(page_as, product, owner):
    page = page_as(owner, f"/p/{product.key}/")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("?")
    dialog = page.locator("#shortcuts")
    dialog.wait_for(state="visible")
    text = dialog.inner_text()
    for shortcut in ("Ctrl", "Alt", "Home", "Space", "Command palette", "Search"):
        assert shortcut in text
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")


def test_on_a_phone_the_header_button_opens_the_palette_and_escape_gives_focus_back(page_as, product, owner):
    saved_view_create(product=product, actor=owner, name="Open defects", filters={"kind": "defect"}, shared=True)
    page = page_as(owner, f"/p/{product.key}/", viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    button = page.locator("[data-palette-open]")
    box = button.bounding_box()
    assert box["height"] >= 32 and box["x"] + box["width"] <= 390
    button.tap()
    page.locator("#palette").wait_for(state="visible")
    page.locator("#palette-input").fill("defects")
    option = page.locator("#palette-list [role=option]", has_text="Open defects")
    option.wait_for()
    page.keyboard.press("Escape")
    page.locator("#palette").wait_for(state="hidden")
    assert page.evaluate("document.activeElement.hasAttribute('data-palette-open')")
    button.tap()
    page.locator("#palette-input").fill("defects")
    page.locator("#palette-list [role=option]", has_text="Open defects").tap()
    page.wait_for_url(f"**/p/{product.key}/?kind=defect*")


def test_a_view_is_saved_from_the_menu_and_hides_the_columns_left_out(page_as, product, owner):
    item_create(product=product, actor=owner, kind="defect", title="Crash on save", severity="major")
    item_create(product=product, actor=owner, kind="story", title="Plain story")
    page = page_as(owner, f"/p/{product.key}/?kind=defect")
    page.get_by_label("Score", exact=True).check()
    page.wait_for_selector(".columns.hide-score")
    assert not page.locator(".row .c-score").first.is_visible()
    page.locator("#views-menu > summary").click()
    page.fill("#view-name", "Defects without score")
    page.get_by_role("button", name="Save view").click()
    page.wait_for_selector(".messages .success")
    view = SavedView.objects.get()
    assert (view.filters, view.columns) == ({"kind": "defect"}, ["estimate", "ready", "age"])
    page.goto(f"/p/{product.key}/")
    assert page.locator(".row", has_text="Plain story").count() == 1
    page.locator("#views-menu > summary").click()
    page.get_by_role("link", name="Defects without score").click()
    page.wait_for_selector(".columns.hide-score")
    assert page.locator(".row", has_text="Plain story").count() == 0
