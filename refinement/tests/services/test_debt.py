"""The technical-debt report against hand-computed figures, and its daily snapshots."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from backlog.services.items import item_create, item_transition
from refinement.models import DebtSnapshot
from refinement.selectors import costliest_debt, debt_totals, debt_trend, next_sprint_slice
from refinement.services.debt import debt_snapshot_take
from refinement.tasks import snapshot_debt

pytestmark = pytest.mark.django_db

CASE = {"value_beneficiaries": "us", "value_risk_removed": "outage"}


@pytest.fixture
def backlog(product, owner, developer):
    product.sprint_capacity = 10
    product.debt_target_percent = 20
    product.save()

    def add(kind, title, estimate=None, interest=None):
        fields = {"interest_hours": Decimal(interest)} if interest is not None else {}
        return item_create(product=product, actor=owner, kind=kind, title=title, estimate=estimate, **fields)

    add("story", "S1", 5)
    add("tech_debt", "D1", 3, "8.5")
    add("story", "S2")
    add("tech_debt", "D2", 4, "2")
    add("story", "S3", 5)
    add("tech_debt", "D3", None, "12")
    archived = add("tech_debt", "old debt", 13, "40")
    item_transition(item=archived, actor=owner, to="archived", reason="gone")
    item_create(product=product, actor=developer, kind="tech_debt", title="proposed", interest_hours=50, **CASE)
    return product


def test_totals_count_the_debt_in_the_backlog_only(backlog):
    totals = debt_totals(product=backlog)
    assert (totals.items, totals.principal_points, totals.unestimated) == (3, 7, 1)
    assert totals.interest_hours == Decimal("22.5")


def test_the_next_sprint_slice_and_the_policy(backlog):
    # S1 (5), D1 (3: 8 points), S2 (unestimated), D2 (4: 12 points) — S3 would start past the 10.
    sprint = next_sprint_slice(product=backlog)
    assert (sprint.items, sprint.points, sprint.debt_items, sprint.debt_points, sprint.unestimated) == (4, 12, 2, 7, 1)
    assert sprint.debt_percent == 58.3  # 7 of 12 points


def test_the_costliest_debt_first(backlog):
    assert [item.title for item in costliest_debt(product=backlog)] == ["D3", "D1", "D2"]


def test_an_empty_backlog_has_no_share(product):
    sprint = next_sprint_slice(product=product)
    assert sprint.points == 0 and sprint.debt_percent is None


def test_one_snapshot_a_day_taken_again_is_updated(backlog, owner):
    today = date(2026, 11, 21)
    debt_snapshot_take(product_id=backlog.pk, today=today - timedelta(days=1))
    debt_snapshot_take(product_id=backlog.pk, today=today)
    item_create(product=backlog, actor=owner, kind="tech_debt", title="D4", estimate=2, interest_hours=1)
    debt_snapshot_take(product_id=backlog.pk, today=today)
    trend = list(debt_trend(product=backlog, today=today))
    assert [(s.date, s.items, s.principal_points, s.interest_hours) for s in trend] == [
        (today - timedelta(days=1), 3, 7, Decimal("22.5")),
        (today, 4, 9, Decimal("23.5")),
    ]
    assert DebtSnapshot.objects.count() == 2


def test_the_scheduled_snapshot_covers_every_product(backlog):
    assert snapshot_debt.apply().get() == 1
    assert snapshot_debt.apply().get() == 1
    assert DebtSnapshot.objects.filter(product=backlog).count() == 1


def test_the_report_over_the_api(as_role, backlog):
    debt_snapshot_take(product_id=backlog.pk)
    report = as_role("stakeholder").get(f"/api/v1/products/{backlog.key}/debt-report/").json()
    assert report["totals"] == {"items": 3, "principal_points": 7, "unestimated": 1, "interest_hours": 22.5}
    assert report["next_sprint"]["debt_percent"] == 58.3
    assert report["policy"] == {"target_percent": 20, "slice_percent": 58.3, "honoured": True}
    assert [item["key"] for item in report["costliest"]] == [f"{backlog.key}-6", f"{backlog.key}-2", f"{backlog.key}-4"]
    assert len(report["trend"]) == 1 and report["trend"][0]["principal_points"] == 7
    assert as_role("outsider").get(f"/api/v1/products/{backlog.key}/debt-report/").status_code == 404
