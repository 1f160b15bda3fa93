"""Refinement's request paths read the same at two backlog sizes (issue 17): the agenda and the
debt report. The rows read are PostgreSQL's own counters (``backlog.tests.reads``); the
statements are counted everywhere."""

from decimal import Decimal

import pytest
from django.test import Client

from backlog.models import Item
from backlog.tests.reads import plan_as_at_scale, product_of, reads
from refinement import selectors
from refinement.services.debt import debt_snapshot_take

READY = {
    "estimate": 1,
    "acceptance_criteria": "Given…",
    "business_value": 8,
    "time_criticality": 5,
    "risk_reduction": 3,
}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _agenda_product(size: int):
    """Every tenth item not ready (no acceptance criteria), the rest ready."""
    return product_of(size, lambda i: {**READY, "acceptance_criteria": "" if i % 10 == 9 else "Given…"})


@pytest.mark.django_db
def test_the_agenda_reads_the_same_from_a_small_and_a_ten_times_larger_backlog(monkeypatch):
    monkeypatch.setattr(selectors, "AGENDA_SCAN_LIMIT", 40)
    measured = {}
    for size in (60, 600):
        product, owner = _agenda_product(size)
        plan_as_at_scale()
        client = _client(owner)
        with reads() as measured[size]:
            body = client.get(f"/api/v1/products/{product.key}/refinement-agenda/?limit=20").json()
        # The not-ready items among the top 40, with positions from the order.
        assert [(item["title"], item["position"]) for item in body] == [(f"Item {n}", n) for n in (10, 20, 30, 40)]
    small, large = measured[60], measured[600]
    assert large.queries == small.queries
    if small.rows is not None:
        assert large.rows <= small.rows + 10, (small.rows, large.rows, large.heaviest())
        assert large.rows < 300  # reading the 600 items would cost more than that alone


@pytest.mark.django_db
def test_the_agenda_positions_are_the_orders():
    product, _ = _agenda_product(30)
    agenda = selectors.refinement_agenda(product=product, limit=5)
    assert [(item.number, item.position) for item in agenda] == [(10, 10), (20, 20), (30, 30)]


def _debt_product(size: int):
    """A third of the items technical debt (interest 1 to 7 h), every item estimated 1 point."""
    return product_of(
        size,
        lambda i: (
            {"kind": Item.Kind.TECH_DEBT, "interest_hours": i % 7 + 1, "estimate": 1} if i % 3 == 1 else {"estimate": 1}
        ),
    )


@pytest.mark.django_db
def test_the_debt_report_of_a_large_backlog_reads_its_snapshot_not_the_backlog(monkeypatch):
    """Past the live limit, totals and the backlog by kind come from the hourly snapshot: the
    page and the API read the same at 30 and 300 items, and show the snapshot's figures. (The
    next sprint's slice reads at most SLICE_SCAN_LIMIT items: lowered here under both sizes.)"""
    monkeypatch.setattr(selectors, "LIVE_AGGREGATE_LIMIT", 20)
    monkeypatch.setattr(selectors, "SLICE_SCAN_LIMIT", 20)
    measured = {}
    for size in (30, 300):
        product, owner = _debt_product(size)
        product.sprint_capacity = 5
        product.save(update_fields=["sprint_capacity"])
        snapshot = debt_snapshot_take(product_id=product.pk)
        assert snapshot.items == size // 3 and snapshot.composition["tech_debt"] == {
            "items": size // 3,
            "points": size // 3,
        }
        plan_as_at_scale()
        client = _client(owner)
        with reads() as measured[size, "api"]:
            body = client.get(f"/api/v1/products/{product.key}/debt-report/").json()
        assert body["totals"]["items"] == size // 3 and body["totals_as_of"] is not None
        assert len(body["costliest"]) == 5
        interest = [item["interest_hours"] for item in body["costliest"]]
        assert interest == sorted(interest, reverse=True) and interest[0] == 7
        with reads() as measured[size, "page"]:
            page = client.get(f"/p/{product.key}/debt/")
        assert page.status_code == 200 and page.context["totals"].items == size // 3
        assert page.context["as_of"] == snapshot.taken_at
    for view in ("api", "page"):
        small, large = measured[30, view], measured[300, view]
        assert large.queries == small.queries, view
        if small.rows is not None:
            assert large.rows <= small.rows + 5, (view, small.rows, large.rows, large.heaviest())


@pytest.mark.django_db
def test_a_small_backlog_is_aggregated_on_the_request():
    product, _ = _debt_product(9)
    figures = selectors.debt_figures(product=product)
    assert figures.as_of is None
    assert figures.totals == selectors.DebtTotals(3, 3, 0, Decimal("8.0"))  # interest 2 + 5 + 1
    assert figures.composition == {"story": {"items": 6, "points": 6}, "tech_debt": {"items": 3, "points": 3}}


@pytest.mark.django_db
def test_a_large_backlog_before_its_first_snapshot_shows_no_totals(monkeypatch):
    monkeypatch.setattr(selectors, "LIVE_AGGREGATE_LIMIT", 5)
    product, owner = _debt_product(9)
    assert selectors.debt_figures(product=product) == selectors.DebtFigures(None, {}, None)
    body = _client(owner).get(f"/api/v1/products/{product.key}/debt-report/").json()
    assert body["totals"] is None
    assert _client(owner).get(f"/p/{product.key}/debt/").status_code == 200


@pytest.mark.django_db
def test_the_agenda_page_reads_the_same_from_a_small_and_a_ten_times_larger_backlog(monkeypatch):
    """With one stale item, deep in the order, the page's stale list looks no further than the
    agenda's window: finding the flags in the whole order would read all of it."""
    from refinement.models import StaleFlag

    monkeypatch.setattr(selectors, "AGENDA_SCAN_LIMIT", 40)
    measured = {}
    for size in (60, 600):
        product, owner = _agenda_product(size)
        deep = Item.objects.get(product=product, number=size - 5)
        StaleFlag.objects.create(item=deep, untouched_since=deep.updated_at)
        near = Item.objects.get(product=product, number=7)
        StaleFlag.objects.create(item=near, untouched_since=near.updated_at)
        plan_as_at_scale()
        client = _client(owner)
        with reads() as measured[size]:
            response = client.get(f"/p/{product.key}/refinement/")
        stale = [item.number for item in response.context["stale"]]
        assert stale == [7]  # the deep one is past the window
    small, large = measured[60], measured[600]
    assert large.queries == small.queries
    if small.rows is not None:
        assert large.rows <= small.rows + 10, (small.rows, large.rows, large.heaviest())
