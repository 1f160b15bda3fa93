"""Reviewing proposals end to end in a real Chromium: a developer proposes debt and the owner
accepts it at a chosen place; a refused accept keeps the choices and names the proposal."""

import re

import pytest
from playwright.sync_api import expect

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


def test_a_developer_proposes_debt_and_the_owner_accepts_it_at_a_chosen_place(page_as, product, owner, developer, five):
    page = page_as(developer, f"/p/{product.key}/new/")
    page.select_option("select[name=kind]", "tech_debt")
    assert page.locator("fieldset[data-kinds=tech_debt]").is_visible()
    assert not page.locator("fieldset[data-kinds=defect]").is_visible()
    page.fill("input[name=title]", "Replace the date library")
    page.fill("input[name=interest_hours]", "5")
    page.get_by_role("button", name="Propose").click()
    # Without a value case the form says what is missing, and keeps what was typed.
    assert page.get_by_text("Say who benefits from this work, and how.").is_visible()
    assert page.input_value("input[name=title]") == "Replace the date library"
    page.fill("textarea[name=value_beneficiaries]", "Everyone touching dates")
    page.fill("textarea[name=value_risk_removed]", "Time-zone bugs in billing")
    page.get_by_role("button", name="Propose").click()
    page.wait_for_url(re.compile(rf"/p/{product.key}/\d+/$"))
    proposal = Item.objects.get(title="Replace the date library")
    assert proposal.status == "proposed"

    review = page_as(owner, f"/p/{product.key}/review/")
    card = review.locator(f"#proposal-{proposal.number}")
    card.locator("select[name=place]").select_option("before")
    card.locator("input[name=anchor]").fill(five["C"].key)
    card.get_by_role("button", name="Accept").click()
    review.wait_for_url(re.compile(r"/review/$"))
    review.goto(f"/p/{product.key}/")
    assert shown(review) == ["A", "B", "library", "C", "D", "E"]
    assert stored(product) == ["A", "B", "library", "C", "D", "E"]


def test_a_refused_accept_keeps_the_choices_and_names_the_proposal(page_as, product, owner, developer):
    anchor = item_create(product=product, actor=owner, kind="story", title="Anchor")
    first = item_create(product=product, actor=developer, kind="story", title="First idea")
    for n in range(6):  # the refused one is far down the queue
        item_create(product=product, actor=developer, kind="story", title=f"Idea {n}")
    second = item_create(product=product, actor=developer, kind="story", title="Second idea")
    page = page_as(owner, f"/p/{product.key}/review/")
    card = page.locator(f"#proposal-{second.number}")
    card.locator("select[name=place]").select_option("after")
    card.locator("input[name=anchor]").fill(f"{product.key}-99999")
    card.get_by_role("button", name="Accept").click()
    card = page.locator(f"#proposal-{second.number}")
    error = card.get_by_role("alert")
    assert error.inner_text() == f"{second.key} was not accepted: No item {product.key}-99999 in {product.key}."
    expect(error).to_be_in_viewport()  # brought into view after the page reloads
    assert page.locator(f"#proposal-{first.number}").get_by_role("alert").count() == 0
    assert card.locator("select[name=place]").input_value() == "after"  # the choices are kept
    assert card.locator("input[name=anchor]").is_visible()
    assert card.locator("input[name=anchor]").input_value() == f"{product.key}-99999"
    card.locator("input[name=anchor]").fill(anchor.key)
    card.get_by_role("button", name="Accept").click()
    page.wait_for_url(re.compile(rf"/p/{product.key}/review/$"))
    assert Item.objects.get(pk=second.pk).status == "open"
    assert Item.objects.get(pk=first.pk).status == "proposed"
