"""The roadmap: each theme by the forecast of its last item in the order, against its target date
(hand-computed on a small backlog), on the page (members and stakeholders), printable, and in the API."""

from datetime import date, timedelta

import pytest
from django.test import Client

from backlog.models import Item, Theme
from backlog.services.items import item_update
from delivery.forecast import ItemForecast
from delivery.roadmap import RoadmapRow, roadmap, timeline

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)


@pytest.fixture
def themed(product, owner, make_item):
    """Capacity 10, debt 20 % by default: features 8 a sprint, debt 2. S1(4) S2(4) T1(2) S3(8) T2(2).
    Early: S1, S2 (last S2: sprint 1). Late: S3 (sprint 2), target before its sprint's end.
    Open-ended: T2 (sprint 2), no target. Empty: nothing."""
    product.sprint_capacity = 10
    product.save()
    items = {
        name: make_item(kind, points)
        for name, kind, points in [
            ("S1", "story", 4),
            ("S2", "story", 4),
            ("T1", "tech_debt", 2),
            ("S3", "story", 8),
            ("T2", "tech_debt", 2),
        ]
    }
    themes = {
        "Early": Theme.objects.create(product=product, title="Early", target_date=TODAY + timedelta(days=30)),
        "Late": Theme.objects.create(product=product, title="Late", target_date=TODAY + timedelta(days=20)),
        "Open-ended": Theme.objects.create(product=product, title="Open-ended"),
        "Empty": Theme.objects.create(product=product, title="Empty", target_date=TODAY),
    }
    for name, theme in [("S1", "Early"), ("S2", "Early"), ("S3", "Late"), ("T2", "Open-ended")]:
        item_update(item=items[name], actor=owner, changes={"theme": themes[theme]})
    return items, themes


def test_each_theme_ends_with_the_forecast_of_its_last_item(product, themed):
    items, _themes = themed
    rows = {row.theme.title: row for row in roadmap(product=product, today=TODAY)}
    sprint_end = {1: TODAY + timedelta(days=13), 2: TODAY + timedelta(days=27)}
    assert rows["Early"].last_item == items["S2"]
    assert (rows["Early"].forecast.sprint, rows["Early"].p50, rows["Early"].p85) == (1, sprint_end[1], sprint_end[1])
    assert rows["Early"].state == "on_track"
    assert rows["Late"].last_item == items["S3"] and rows["Late"].p50 == sprint_end[2]
    assert rows["Late"].state == "late"  # target on day 20, likely done on day 27
    assert (rows["Open-ended"].p50, rows["Open-ended"].state) == (sprint_end[2], "no_target")
    assert (rows["Empty"].last_item, rows["Empty"].state) == (None, "not_started")
    # Soonest 85 % date first, those without one last.
    assert [row.theme.title for row in roadmap(product=product, today=TODAY)] == [
        "Early",
        "Late",
        "Open-ended",
        "Empty",
    ]


def test_done_items_leave_the_theme_its_last_open_one(product, owner, themed):
    items, _ = themed
    from backlog.services.items import item_transition

    item_transition(item=items["S2"], actor=owner, to=Item.Status.IN_PROGRESS)
    item_transition(item=items["S2"], actor=owner, to=Item.Status.DONE)
    rows = {row.theme.title: row for row in roadmap(product=product, today=TODAY)}
    assert rows["Early"].last_item == items["S1"]


def test_a_target_between_the_50_and_85_percent_dates_is_at_risk():
    theme = Theme(title="T", target_date=date(2026, 4, 10))
    forecast = ItemForecast(3, date(2026, 4, 1), (3, date(2026, 4, 1)), (5, date(2026, 4, 29)), True, None)
    assert RoadmapRow(theme, Item(), forecast).state == "at_risk"
    theme.target_date = date(2026, 3, 20)
    assert RoadmapRow(theme, Item(), forecast).state == "late"
    theme.target_date = date(2026, 4, 29)
    assert RoadmapRow(theme, Item(), forecast).state == "on_track"
    unforecast = ItemForecast(None, None, None, None, True, None)
    assert RoadmapRow(theme, Item(), unforecast).state == "unforecast"


def test_the_timeline_puts_dates_left_to_right(product, themed):
    rows = roadmap(product=product, today=TODAY)
    chart = timeline(rows, today=TODAY)
    bars = {bar.row.theme.title: bar for bar in chart.bars}
    assert bars["Early"].x0 == chart.today_x == chart.left
    assert bars["Early"].x50 < bars["Late"].x50
    assert bars["Late"].target_x < bars["Late"].x50  # the target mark left of the likely date: late
    assert bars["Early"].target_x > bars["Early"].x50
    assert bars["Open-ended"].target_x is None
    assert chart.height == 24 + 4 * chart.row_height + 8


def test_stakeholders_read_the_roadmap_and_print_it(product, stakeholder, themed):
    page = Client()
    page.force_login(stakeholder)
    html = page.get(f"/p/{product.key}/roadmap/").content.decode()
    assert '<svg class="roadmap-chart"' in html and "⚠ late" in html
    assert html.count('<tr class="state-') == 4
    assert 'aria-label="' + product.key + '"' in html  # the product's navigation
    printable = page.get(f"/p/{product.key}/roadmap/?print=1").content.decode()
    assert '<svg class="roadmap-chart"' in printable and 'class="product-nav"' not in printable
    assert "css/roadmap.css" in printable


def test_the_roadmap_api(product, themed, as_role):
    rows = as_role("stakeholder").get(f"/api/v1/products/{product.key}/roadmap/").json()
    by_title = {row["title"]: row for row in rows}
    assert by_title["Late"]["state"] == "late"
    assert by_title["Late"]["last_item"] == themed[0]["S3"].key
    assert by_title["Empty"] == {
        "theme": themed[1]["Empty"].pk,
        "title": "Empty",
        "colour": "#3366cc",
        "target_date": TODAY.isoformat(),
        "last_item": None,
        "likely_sprint": None,
        "likely_date": None,
        "p50_date": None,
        "p85_date": None,
        "state": "not_started",
    }
    assert as_role("owner").get(f"/api/v1/products/{product.key}/roadmap/?x=1").status_code == 400


@pytest.mark.postgres
def test_the_roadmap_reads_each_themes_last_item_whatever_its_size(monkeypatch):
    """Each theme's last item in the order is one look-up from the end of the theme's items
    (index item_theme_order), not a read of every item of the theme. (The forecasts aside: each
    reads the order down to its item, up to the forecast's horizon.)"""
    from django.db import connection

    from accounts.models import Membership
    from accounts.tests.factories import MembershipFactory, ProductFactory
    from backlog.services.demo import demo_backlog_seed
    from config.tests.reads import rows_read

    monkeypatch.setattr("delivery.roadmap.item_forecast", lambda **kwargs: None)
    read = {}
    for size in (200, 2000):
        product = ProductFactory()
        owner = MembershipFactory(product=product, role=Membership.Role.OWNER).user
        demo_backlog_seed(product=product, creators=[owner], count=size, only_ordered=True)
        big = Theme.objects.create(product=product, title="Big")
        small = Theme.objects.create(product=product, title="Small")
        Item.objects.filter(product=product).update(theme=big)
        Item.objects.filter(product=product, number__lte=3).update(theme=small)
        last = Item.objects.filter(product=product).ordered().last()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE backlog_item")
        with rows_read("backlog_item") as reads:
            rows = {row.theme.title: row for row in roadmap(product=product, today=TODAY)}
        assert rows["Big"].last_item == last
        read[size] = reads.rows
    assert read[2000] == read[200], read
