"""The item page of a deep item and the API's item list read the same at two backlog sizes
(issue 17). Rows read are PostgreSQL's own counters (``backlog.tests.reads``)."""

import pytest
from django.test import Client

from backlog.models import Item
from backlog.tests.reads import plan_as_at_scale, product_of, reads
from delivery import forecast

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_of_the_last_item_reads_the_same_at_30_and_300_items(monkeypatch):
    """The item page and its delivery panel (the forecast reads at most FORECAST_HORIZON items
    above the item: lowered under both sizes here) of the product's last item."""
    monkeypatch.setattr(forecast, "FORECAST_HORIZON", 20)
    measured = {}
    for size in (30, 300):
        product, owner = product_of(size, lambda i: {"estimate": 2, "business_value": 5})
        plan_as_at_scale()
        client = _client(owner)
        with reads() as measured[size, "page"]:
            page = client.get(f"/p/{product.key}/{size}/")
        assert page.status_code == 200 and page.context["position"] == size
        with reads() as measured[size, "delivery"]:
            panel = client.get(f"/p/{product.key}/{size}/delivery/")
        assert panel.context["forecast"].beyond and b"Too far down the order" in panel.content
    for part in ("page", "delivery"):
        small, large = measured[30, part], measured[300, part]
        assert large.queries == small.queries, part
        if small.rows is not None:
            assert large.rows <= small.rows + 5, (part, small.rows, large.rows, large.heaviest())


def test_an_item_within_the_horizon_is_forecast_from_the_points_above_it():
    product, _ = product_of(12, lambda i: {"estimate": 2})
    product.sprint_capacity = 10
    product.save(update_fields=["sprint_capacity"])
    found = forecast.item_forecast(item=Item.objects.select_related("product").get(product=product, number=12))
    assert not found.beyond and found.sprint is not None
    assert found.sprint - forecast.cadence_for(product=product).number(0) == 3  # 24 points at 10 a sprint


def test_the_api_list_counts_only_when_asked():
    """Without ``count=true`` the list runs no COUNT and reads a page whatever the size; with it,
    one COUNT (O(matching items) by nature, documented)."""
    measured = {}
    for size in (30, 300):
        product, owner = product_of(size)
        plan_as_at_scale()
        client = _client(owner)
        with reads() as measured[size]:
            body = client.get(f"/api/v1/products/{product.key}/items/?page_size=10").json()
        assert "count" not in body and len(body["results"]) == 10
        assert not any("COUNT(" in sql.upper() and "backlog_item" in sql for sql in measured[size].statements)
        with reads() as counted:
            body = client.get(f"/api/v1/products/{product.key}/items/?page_size=10&count=true").json()
        assert body["count"] == size
        assert sum("COUNT(" in sql.upper() and "backlog_item" in sql for sql in counted.statements) == 1
    small, large = measured[30], measured[300]
    assert large.queries == small.queries
    if small.rows is not None:
        assert large.rows <= small.rows + 5, (small.rows, large.rows, large.heaviest())


def test_the_forecast_of_the_top_reads_the_same_at_30_and_300_items():
    """The forecast API's top ten: the running sums over those ten only, unestimated ones among them."""
    measured = {}
    for size in (30, 300):
        product, owner = product_of(size, lambda i: {"estimate": None if i % 4 == 3 else 3})
        plan_as_at_scale()
        with reads() as measured[size]:
            body = _client(owner).get(f"/api/v1/products/{product.key}/forecast/?limit=10").json()
        assert [row["points_through"] for row in body["items"]][:4] == [3, 6, 9, 9]
        assert body["unestimated"]["count"] == 2  # numbers 4 and 8 of the ten
    small, large = measured[30], measured[300]
    assert large.queries == small.queries
    if small.rows is not None:
        assert large.rows <= small.rows + 5, (small.rows, large.rows, large.heaviest())
