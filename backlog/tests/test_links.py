"""Order warnings: an item ordered above an open item that blocks it, on the backlog page, the
item page and the API, read set-based (the same queries however many links a screen holds); and
the score's "why" naming the blocker the suggestion keeps an item below."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from backlog.links import item_links, kept_below, order_warnings
from backlog.models import Item, ItemLink
from backlog.selectors import items_for_api
from backlog.services.items import item_create, item_transition
from backlog.services.links import link_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def four(product, owner):
    """A B C D in that order."""
    return [item_create(product=product, actor=owner, kind="story", title=t) for t in "ABCD"]


def test_an_item_above_its_open_blocker_is_warned(four, owner):
    a, b, c, d = four
    link_create(item=d, actor=owner, link="blocks", other=b)  # D (4th) blocks B (2nd): warn B
    link_create(item=a, actor=owner, link="blocks", other=c)  # A (1st) blocks C (3rd): fine
    found = {item.title: order_warnings(item) for item in items_for_api(product=a.product)}
    assert found == {
        "A": [],
        "B": [{"blocker": d.key, "text": f"{b.key} is above its blocker {d.key}"}],
        "C": [],
        "D": [],
    }
    # Read alone (the item page), the same.
    assert order_warnings(Item.objects.get(pk=b.pk)) == found["B"]


def test_a_done_or_proposed_blocker_warns_of_nothing(product, four, owner, developer):
    a, b = four[0], four[1]
    proposal = item_create(product=product, actor=developer, kind="story", title="Later")
    link_create(item=proposal, actor=owner, link="blocks", other=a)
    link_create(item=b, actor=owner, link="blocks", other=a)
    assert [w["blocker"] for w in order_warnings(Item.objects.get(pk=a.pk))] == [b.key]
    item_transition(item=b, actor=owner, to=Item.Status.IN_PROGRESS)
    assert [w["blocker"] for w in order_warnings(Item.objects.get(pk=a.pk))] == [b.key]  # in progress: open
    item_transition(item=b, actor=owner, to=Item.Status.DONE)
    assert order_warnings(Item.objects.get(pk=a.pk)) == []


def test_the_api_item_carries_its_warnings(four, owner, as_role):
    a, d = four[0], four[3]
    link_create(item=d, actor=owner, link="blocks", other=a)
    body = as_role("stakeholder").get(f"/api/v1/items/{a.key}/").json()
    assert body["order_warnings"] == [{"blocker": d.key, "text": f"{a.key} is above its blocker {d.key}"}]
    listed = as_role("developer").get(f"/api/v1/products/{a.product.key}/items/").json()["results"]
    assert next(row["order_warnings"] for row in listed)[0]["blocker"] == d.key
    assert [len(row["order_warnings"]) for row in listed] == [1, 0, 0, 0]


def _page_queries(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_order_warnings_on_the_backlog_first_screen_add_a_constant_number_of_queries(product, owner):
    items = [item_create(product=product, actor=owner, kind="story", title=f"Item {n}") for n in range(60)]
    page = Client()
    page.force_login(owner)
    url = f"/p/{product.key}/"
    page.get(url)  # the first request refreshes the stored suggested positions
    without, html = _page_queries(page, url)
    assert "above its blocker" not in html
    # 30 items of the first screen each blocked by an item below them (two for some).
    for n in range(30):
        ItemLink.objects.create(product=product, source=items[59 - n], target=items[n], kind=ItemLink.Kind.BLOCKS)
    for n in range(10):
        ItemLink.objects.create(product=product, source=items[40 + n], target=items[n], kind=ItemLink.Kind.BLOCKS)
    with_warnings, html = _page_queries(page, url)
    assert html.count("⚠ above its blocker") == 40
    assert f"{items[0].key} is above its blocker {items[59].key}" in html
    # The warnings are one prefetch of the rows' blocking links, run with or without links.
    assert with_warnings == without
    # And the API's first page: the same prefetch.
    api = Client()
    api.force_login(owner)
    with CaptureQueriesContext(connection) as first:
        api.get(f"/api/v1/products/{product.key}/items/?page_size=50")
    with CaptureQueriesContext(connection) as second:
        assert api.get(f"/api/v1/products/{product.key}/items/?page_size=200").status_code == 200
    assert len(first) == len(second)


def test_the_item_page_shows_the_warning_the_links_and_the_why(product, four, owner, stakeholder):
    a, _b, c, d = four
    Item.objects.filter(pk=a.pk).update(score=9.0)
    Item.objects.filter(pk=d.pk).update(score=1.0)
    link_create(item=d, actor=owner, link="blocks", other=a)
    link_create(item=a, actor=owner, link="relates_to", other=c)
    assert kept_below(item=Item.objects.get(pk=a.pk)) == [d.key]
    page = Client()
    page.force_login(stakeholder)
    html = page.get(f"/p/{product.key}/{a.number}/").content.decode()
    assert f"{a.key} is above its blocker {d.key}" in html
    assert f"kept below its blocker {d.key}" in html
    assert "is blocked by" in html and "relates to" in html
    assert f'action="/p/{product.key}/{a.number}/links/"' not in html  # stakeholders do not link
    page.force_login(owner)
    assert f'action="/p/{product.key}/{a.number}/links/"' in page.get(f"/p/{product.key}/{a.number}/").content.decode()


def test_linking_and_unlinking_on_the_item_page(product, four, developer, stakeholder):
    a, d = four[0], four[3]
    page = Client()
    page.force_login(developer)
    response = page.post(f"/p/{product.key}/{a.number}/links/", {"type": "blocked_by", "item": d.key.lower()})
    assert response.status_code == 302
    link = ItemLink.objects.get()
    assert (link.source, link.target) == (d, a)
    refused = page.post(f"/p/{product.key}/{d.number}/links/", {"type": "blocked_by", "item": a.key}, follow=True)
    assert f"{a.key} → {d.key} → {a.key}" in refused.content.decode()
    outsider_page = Client()
    outsider_page.force_login(stakeholder)
    assert outsider_page.post(f"/p/{product.key}/{a.number}/links/{link.pk}/remove/").status_code == 403
    assert page.post(f"/p/{product.key}/{a.number}/links/{link.pk}/remove/").status_code == 302
    assert item_links(item=a) == []
