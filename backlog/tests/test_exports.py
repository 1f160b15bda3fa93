"""The export: every field, backlog order, streamed in chunks, defused for spreadsheets, and
read back by the import into another product as the same items in the same order."""

import csv
import io
import json
import math
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.datastructures import MultiValueDict

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory, ProductFactory
from backlog import exports
from backlog.exports import COLUMNS, export_stream, safe_cell
from backlog.models import Item
from backlog.selectors import backlog_items
from backlog.services.imports import import_confirm, import_preview, import_run
from backlog.services.items import item_create, item_transition
from backlog.services.ordering import Placement, item_move
from refinement.services.split import item_split

pytestmark = pytest.mark.django_db


def export(product, format="csv", **filters) -> str:
    params = MultiValueDict({name: [value] for name, value in filters.items()})
    lines, _ = export_stream(product=product, filters=params, format=format)
    return "".join(lines)


def rows_of(text: str) -> list[dict]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def varied(product, owner, developer):
    """Items of every kind with their inputs, labels, a split and items outside the order."""
    made = [
        item_create(
            product=product,
            actor=owner,
            kind="story",
            title="Story",
            estimate=3,
            labels=["ux", "web"],
            business_value=8,
            time_criticality=5,
            risk_reduction=2,
            moscow="must",
            external_ref="EXT-1",
        ),
        item_create(
            product=product,
            actor=owner,
            kind="defect",
            title="-1 crashes",
            severity="major",
            description="Steps:\n1. open\n2. crash",
            acceptance_criteria="* no crash",
        ),
        item_create(
            product=product,
            actor=owner,
            kind="tech_debt",
            title="Old ORM",
            interest_hours=Decimal("6.5"),
            value_beneficiaries="devs",
            rice_reach=100,
            rice_impact="2",
            rice_confidence=80,
            rice_effort=Decimal("1.5"),
        ),
        item_create(
            product=product,
            actor=owner,
            kind="spike",
            title="@mention parsing?",
            timebox_days=2,
            question="Which parser?",
        ),
        item_create(
            product=product,
            actor=owner,
            kind="operational",
            title="Renew certs",
            impact="high",
            urgency="low",
            pinned=True,
        ),
    ]
    item_move(item=made[3], actor=owner, to=Placement.top())
    item_transition(item=made[0], actor=owner, to="in_progress")
    parts = item_split(item=made[1], actor=owner, parts=[{"title": "Part one"}, {"title": "Part two"}])
    done = item_create(product=product, actor=owner, kind="story", title="=SUM(A1:A9)", estimate=1)
    item_transition(item=done, actor=owner, to="in_progress")
    item_transition(item=done, actor=owner, to="done")
    proposal = item_create(product=product, actor=developer, kind="story", title="A proposal")
    return {"made": made, "parts": parts, "done": done, "proposal": proposal}


def test_every_field_in_backlog_order_then_the_rest_by_number(product, varied):
    rows = rows_of(export(product, status="proposed,open,in_progress,done,rejected,archived"))
    ordered = [item.key for item in backlog_items(product=product)]
    keys = [row["key"] for row in rows]
    assert keys[: len(ordered)] == ordered
    rest = Item.objects.filter(product=product, rank__isnull=True).order_by("number")
    assert keys[len(ordered) :] == [item.key for item in rest]
    assert list(rows[0]) == list(COLUMNS)
    by_key = {row["key"]: row for row in rows}
    story = by_key[varied["made"][0].key]
    assert (story["labels"], story["business_value"], story["moscow"], story["external_ref"]) == (
        "ux, web",
        "8",
        "must",
        "EXT-1",
    )
    assert story["status"] == "in_progress"
    debt = by_key[varied["made"][2].key]
    assert (debt["interest_hours"], debt["rice_effort"], debt["rice_impact"]) == ("6.5", "1.5", "2")
    operational = by_key[varied["made"][4].key]
    assert (operational["itil_priority"], operational["pinned"]) == ("3", "true")
    part = by_key[varied["parts"][0].key]
    assert part["split_from"] == varied["made"][1].key
    assert [row["position"] for row in rows[: len(ordered)]] == [str(n) for n in range(1, len(ordered) + 1)]
    assert by_key[varied["done"].key]["position"] == ""


def test_formula_cells_are_defused(product, varied):
    rows = {row["title"]: row for row in rows_of(export(product, status="done"))}
    assert "'=SUM(A1:A9)" in rows
    assert safe_cell("+1") == "'+1" and safe_cell("-x") == "'-x" and safe_cell("@x") == "'@x"
    assert safe_cell(-3) == "-3"  # numbers are numbers
    assert safe_cell("plain") == "plain"


def test_json_export_has_the_same_records(product, varied):
    records = json.loads(export(product, format="json"))
    assert [record["key"] for record in records] == [item.key for item in backlog_items(product=product)]
    story = next(record for record in records if record["title"] == "Story")
    assert story["labels"] == ["ux", "web"] and story["estimate"] == 3


def test_filters_are_the_lists(product, varied):
    rows = rows_of(export(product, kind="defect"))
    assert {row["kind"] for row in rows} == {"defect"}
    assert {row["position"] for row in rows} == {""}  # filtered: no backlog positions
    assert [row["key"] for row in rows_of(export(product, external_ref="EXT-1"))] == [varied["made"][0].key]


@pytest.mark.parametrize("count", [25, 50])
def test_the_export_reads_in_chunks_not_per_row(product, owner, monkeypatch, count):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 10)
    for n in range(count):
        item_create(product=product, actor=owner, kind="story", title=f"Item {n}", labels=[f"l{n % 3}"])
    params = MultiValueDict()
    lines, _ = export_stream(product=product, filters=params, format="csv")
    with CaptureQueriesContext(connection) as queries:
        text = "".join(lines)
    assert len(rows_of(text)) == count
    # One query for the items (a server-side cursor on PostgreSQL), one for each chunk's labels.
    assert len(queries) == 1 + math.ceil(count / 10)


def test_export_then_import_into_another_product_reproduces_the_items(product, owner, varied):
    text = export(product, status="proposed,open,in_progress,done,rejected,archived")
    other = ProductFactory()
    MembershipFactory(product=other, user=owner, role=Membership.Role.OWNER)
    imported = import_preview(product=other, actor=owner, data=text.encode("utf-8"), file_name="export.csv")
    assert imported.errors == []
    import_confirm(imported=imported, actor=owner)
    assert import_run(import_id=imported.pk).state == "done"

    compared = [
        c
        for c in COLUMNS
        if c not in ("key", "split_from", "duplicate_of", "created_by", "updated_at", "score", "sla_due_at")
    ]

    def records(of):
        rows = rows_of(export(of, status="proposed,open,in_progress,done,rejected,archived"))
        return [{column: row[column] for column in compared} for row in rows]

    assert records(other) == records(product)
    part = Item.objects.get(product=other, title="Part one")
    assert part.split_from.title == "-1 crashes"  # links within the file are kept
    assert [item.title for item in backlog_items(product=other)] == [
        item.title for item in backlog_items(product=product)
    ]
