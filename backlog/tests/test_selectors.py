"""backlog.selectors.item_list: one query for the backlog page and the API, the same parameters
meaning the same items through both."""

from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.test import Client

from backlog.selectors import item_list
from backlog.services.items import item_create, item_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def backlog(product, owner, developer):
    """Stories, a defect, debt, a proposal and a done item; titles without digits (q=3 is a key)."""
    made = {
        "story": item_create(
            product=product,
            actor=owner,
            kind="story",
            title="Checkout story",
            description="Pay by card",
            labels=["payments"],
            estimate=3,
            business_value=8,
            time_criticality=3,
            risk_reduction=1,
            acceptance_criteria="- works",
        ),
        "bug": item_create(
            product=product,
            actor=owner,
            kind="defect",
            title="Crash",
            description="In the checkout",
            severity="major",
            labels=["ux"],
        ),
        "debt": item_create(
            product=product, actor=owner, kind="tech_debt", title="Upgrade", interest_hours=4, labels=["payments"]
        ),
        "idea": item_create(product=product, actor=developer, kind="story", title="Idea"),
        "shipped": item_create(product=product, actor=owner, kind="story", title="Shipped"),
    }
    item_transition(item=made["shipped"], actor=owner, to="in_progress")
    item_transition(item=made["shipped"], actor=owner, to="done")
    return made


QUERIES = [
    ([], ["story", "bug", "debt"]),
    ([("kind", "defect")], ["bug"]),
    ([("kind", "defect"), ("kind", "tech_debt")], ["bug", "debt"]),
    ([("kind", "defect,tech_debt")], ["bug", "debt"]),
    ([("kind", "defect, tech_debt")], ["bug", "debt"]),
    ([("status", "proposed")], ["idea"]),
    ([("status", "open"), ("status", "proposed")], ["story", "bug", "debt", "idea"]),
    ([("status", "done,open")], ["story", "bug", "debt", "shipped"]),
    ([("status", "done"), ("ordering", "-number")], ["shipped"]),
    ([("status", "open,proposed"), ("ordering", "-number")], ["idea", "debt", "bug", "story"]),
    ([("label", "payments")], ["story", "debt"]),
    ([("label", "ux"), ("label", "payments")], ["story", "bug", "debt"]),
    ([("ready", "true")], ["story"]),
    ([("ready", "yes")], ["story"]),
    ([("ready", "false")], ["bug", "debt"]),
    ([("ready", "no")], ["bug", "debt"]),
    ([("q", "checkout")], ["story", "bug"]),
    ([("q", "CHECKOUT"), ("kind", "defect")], ["bug"]),
    ([("q", "{key}-3")], ["debt"]),
    ([("q", "{lower}-3")], ["debt"]),
    ([("q", "3")], ["debt"]),
    ([("q", "XX-3")], []),
    ([("q", "{key}-4"), ("status", "proposed")], ["idea"]),
    ([("created_by", "{developer}"), ("status", "proposed,open")], ["idea"]),
    ([("ordering", "-number")], ["debt", "bug", "story"]),
]


@pytest.mark.parametrize(("pairs", "expected"), QUERIES)
def test_the_page_and_the_api_list_the_same_items_for_the_same_parameters(
    product, owner, developer, backlog, as_role, pairs, expected
):
    names = {item.pk: name for name, item in backlog.items()}
    values = {"key": product.key, "lower": product.key.lower(), "developer": developer.username}
    query = urlencode([(name, value.format(**values)) for name, value in pairs])
    page = Client()
    page.force_login(owner)
    shown = page.get(f"/p/{product.key}/?{query}")
    assert shown.status_code == 200
    listed = as_role("owner").get(f"/api/v1/products/{product.key}/items/?{query}")
    assert listed.status_code == 200, listed.content
    assert [names[row.pk] for row in shown.context["rows"]] == expected
    assert [names[row["id"]] for row in listed.json()["results"]] == expected


def test_the_page_leaves_out_what_the_api_refuses(product, owner, backlog, as_role):
    query = "kind=defect&kind=epic&ready=maybe&ready=true&status=done&ordering=rank&q="
    assert as_role("owner").get(f"/api/v1/products/{product.key}/items/?{query}").status_code == 400
    page = Client()
    page.force_login(owner)
    shown = page.get(f"/p/{product.key}/?{query}")
    # kind (epic unknown), ready (given twice) and ordering (no rank for done items) are left out.
    assert [row.title for row in shown.context["rows"]] == ["Shipped"]


def test_the_page_filters_are_the_apis_parameters(product, backlog):
    listing = item_list(product=product, filters=QueryDict("kind=defect&kind=story&ready=yes&q=+x+"), strict=False)
    assert listing.filters == {"kind": "defect,story", "ready": "true", "q": "x"}
    assert listing.filtered and listing.ordering == "rank"
    assert not item_list(product=product, filters=QueryDict("ordering=rank"), strict=False).filtered


def test_the_page_pages_a_filtered_list_outside_the_order_keeping_its_filters(product, owner, developer, monkeypatch):
    monkeypatch.setattr("backlog.views.PAGE_SIZE", 2)
    for title in "ABCDE":
        item_create(product=product, actor=developer, kind="story", title=title)
    item_create(product=product, actor=owner, kind="story", title="In the order")
    page = Client()
    page.force_login(owner)
    seen, params = [], {"status": "proposed", "kind": ["story", "defect"]}
    while params is not None:
        response = page.get(f"/p/{product.key}/", params)
        seen += [row.title for row in response.context["rows"]]
        params = response.context["next_params"]
        if params:
            assert (params["status"], params["kind"]) == ("proposed", "story,defect")
    assert seen == list("ABCDE")
