"""CSV imports: Jira's export through the mapping, our own export, previews with row errors,
all or nothing, file order as backlog order, re-import by external reference."""

import csv
import io
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backlog.models import Import, Item, ItemEvent
from backlog.selectors import backlog_items
from backlog.services.imports import import_confirm, import_preview, import_run
from backlog.services.items import item_create

pytestmark = pytest.mark.django_db

JIRA_SAMPLE = Path(__file__).resolve().parent.parent / "data" / "jira_sample.csv"


def own_csv(rows: list[dict], columns=("external_ref", "kind", "title", "status", "labels", "estimate")) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode()


def run(product, actor, data: bytes, **options) -> Import:
    imported = import_preview(product=product, actor=actor, data=data, file_name="test.csv", **options)
    assert imported.errors == [], imported.errors
    import_confirm(imported=imported, actor=actor)
    return import_run(import_id=imported.pk)


def test_the_jira_sample_is_imported_with_the_mapping(product, owner, django_capture_on_commit_callbacks):
    item_create(product=product, actor=owner, kind="story", title="Already here")
    imported = import_preview(product=product, actor=owner, data=JIRA_SAMPLE.read_bytes(), file_name="jira.csv")
    assert imported.source == Import.Source.JIRA
    assert imported.errors == []
    assert imported.preview["create"] == 10
    assert imported.preview["skip"] == 1  # the epic
    assert not Item.objects.filter(external_ref__startswith="SHOP").exists()  # a preview writes nothing

    with django_capture_on_commit_callbacks(execute=True):
        import_confirm(imported=imported, actor=owner)
    imported.refresh_from_db()
    assert imported.state == Import.State.DONE
    assert (imported.created_count, imported.updated_count) == (10, 0)
    assert imported.skipped == [{"row": 2, "external_ref": "SHOP-1", "reason": imported.skipped[0]["reason"]}]

    items = {item.external_ref: item for item in Item.objects.filter(product=product).exclude(external_ref="")}
    story = items["SHOP-12"]
    assert (story.kind, story.status, story.estimate) == ("story", "open", 5)
    assert sorted(story.labels.values_list("name", flat=True)) == ["checkout", "epic:Checkout redesign", "payments"]
    assert "default card is preselected" in story.acceptance_criteria
    assert story.created_at.strftime("%Y-%m-%d %H:%M") == "2025-02-05 10:03"
    bug = items["SHOP-15"]
    assert (bug.kind, bug.severity, bug.estimate) == ("defect", "critical", 3)  # Highest
    assert items["SHOP-27"].severity == "trivial"  # Low
    assert (items["SHOP-18"].kind, items["SHOP-18"].status) == ("story", "in_progress")  # a Task
    assert sorted(items["SHOP-18"].labels.values_list("name", flat=True)) == ["payments", "sdk", "tech"]
    spike = items["SHOP-21"]
    assert (spike.kind, spike.timebox_days, spike.question) == ("spike", 2, spike.title)  # 57,600 s = 2 days
    incident = items["SHOP-25"]
    assert (incident.kind, incident.impact, incident.urgency, incident.itil_priority) == (
        "operational",
        "high",
        "high",
        1,
    )
    assert items["SHOP-33"].estimate == 1  # 0.5 points, half up
    assert items["SHOP-33"].title.startswith("=HYPERLINK")  # kept as text; the export defuses it
    assert (items["SHOP-9"].status, items["SHOP-9"].rank) == ("done", None)

    # File order is backlog order, as one block at the bottom (the default) after what was there.
    order = [item.external_ref or item.title for item in backlog_items(product=product)]
    assert order == [
        "Already here",
        "SHOP-12",
        "SHOP-15",
        "SHOP-18",
        "SHOP-19",
        "SHOP-21",
        "SHOP-25",
        "SHOP-27",
        "SHOP-30",
        "SHOP-33",
    ]
    numbers = sorted(Item.objects.filter(product=product).values_list("number", flat=True))
    assert numbers == list(range(1, 12))
    product.refresh_from_db()
    assert product.last_item_number == 11
    # Each created item's history says where it landed: position and neighbours.
    created = ItemEvent.objects.get(item=items["SHOP-15"], type="created")
    assert created.data["placed"] == {
        "position": 3,
        "after_id": items["SHOP-12"].pk,
        "before_id": items["SHOP-18"].pk,
    }
    last = ItemEvent.objects.get(item=items["SHOP-33"], type="created")
    assert last.data["placed"] == {"position": 10, "after_id": items["SHOP-30"].pk, "before_id": None}


def test_rows_are_placed_as_one_block_at_the_top(product, owner, items):
    run(product, owner, own_csv([{"kind": "story", "title": "X"}, {"kind": "story", "title": "Y"}]), placing="top")
    assert [item.title for item in backlog_items(product=product)] == ["X", "Y", "A", "B", "C"]


def test_a_preview_lists_errors_by_row_and_nothing_can_be_written(product, owner):
    data = own_csv(
        [
            {"kind": "story", "title": "Fine"},
            {"kind": "defect", "title": "No severity"},
            {"kind": "story", "title": "", "estimate": "many"},
            {"kind": "rocket", "title": "Unknown kind"},
            {"kind": "story", "title": "Odd status", "status": "parked"},
        ]
    )
    imported = import_preview(product=product, actor=owner, data=data)
    rows = {error["row"]: error["errors"] for error in imported.errors}
    assert set(rows) == {3, 4, 5, 6}  # the header is row 1
    assert "severity" in rows[3]
    assert {"title", "estimate"} <= set(rows[4])
    assert "kind" in rows[5]
    assert "status" in rows[6]
    assert imported.preview["error_rows"] == 4
    with pytest.raises(ValidationError):
        import_confirm(imported=imported, actor=owner)
    assert not Item.objects.exists()


def test_a_row_that_fails_at_run_time_writes_nothing(product, owner):
    imported = import_preview(
        product=product,
        actor=owner,
        data=own_csv(
            [
                {"external_ref": "J-1", "kind": "story", "title": "One"},
                {"external_ref": "J-2", "kind": "story", "title": "Two"},
            ]
        ),
    )
    import_confirm(imported=imported, actor=owner)
    # Between the preview and the run, another item takes the second row's external reference.
    item_create(product=product, actor=owner, kind="story", title="Taken", external_ref="J-2")
    for chunk in imported.chunks.all():  # and the row's title is now over 200 characters
        chunk.text = chunk.text.replace("Two", "x" * 300)
        chunk.save()
    done = import_run(import_id=imported.pk)
    assert done.state == Import.State.FAILED
    assert "row 3" in done.failure
    assert list(Item.objects.values_list("title", flat=True)) == ["Taken"]


def test_reimport_with_external_refs_updates_instead_of_duplicating(product, owner):
    first = run(product, owner, JIRA_SAMPLE.read_bytes())
    assert first.created_count == 10
    before = Item.objects.count()
    again = run(product, owner, JIRA_SAMPLE.read_bytes())
    assert (again.created_count, again.updated_count) == (0, 0)
    assert Item.objects.count() == before
    assert sum(1 for row in again.skipped if row["reason"] == "Unchanged.") == 10

    changed = JIRA_SAMPLE.read_text().replace("As a shopper I can pay with a saved card", "Pay with a saved card")
    changed = changed.replace(",5.0,", ",8,")
    third = run(product, owner, changed.encode())
    assert (third.created_count, third.updated_count) == (0, 1)
    story = Item.objects.get(product=product, external_ref="SHOP-12")
    assert (story.title, story.estimate, story.version) == ("Pay with a saved card", 8, 2)
    event = ItemEvent.objects.filter(item=story, type="updated").get()
    assert event.data["changes"]["title"] == ["As a shopper I can pay with a saved card", "Pay with a saved card"]
    assert Item.objects.count() == before


def test_external_refs_repeated_in_a_file_are_errors(product, owner):
    data = own_csv(
        [{"external_ref": "A-1", "kind": "story", "title": "x"}, {"external_ref": "A-1", "kind": "story", "title": "y"}]
    )
    imported = import_preview(product=product, actor=owner, data=data)
    assert [error["row"] for error in imported.errors] == [3]


def test_utf8_with_and_without_bom_and_other_encodings(product, owner):
    data = own_csv([{"kind": "story", "title": "Zürich café"}])
    assert import_preview(product=product, actor=owner, data=data).errors == []
    with_bom = import_preview(product=product, actor=owner, data=b"\xef\xbb\xbf" + data)
    assert with_bom.errors == [] and with_bom.source == "onebacklog"
    with pytest.raises(ValidationError, match="not UTF-8"):
        import_preview(product=product, actor=owner, data="title,kind\nZürich,story\n".encode("latin-1"))


def test_limits_give_clear_errors(product, owner, settings):
    settings.IMPORT_MAX_ROWS = 2
    data = own_csv([{"kind": "story", "title": str(n)} for n in range(3)])
    with pytest.raises(ValidationError, match="more than 2 rows"):
        import_preview(product=product, actor=owner, data=data)
    settings.IMPORT_MAX_BYTES = 10
    with pytest.raises(ValidationError, match="over the limit of 10 bytes"):
        import_preview(product=product, actor=owner, data=data)
    with pytest.raises(ValidationError, match="neither"):
        import_preview(product=product, actor=owner, data=b"a,b\n1,2\n")
    assert not Import.objects.exists()


@pytest.mark.parametrize("role", ["owner", "delegate"])
def test_owners_and_delegates_import(request, product, role):
    actor = request.getfixturevalue(role)
    assert run(product, actor, own_csv([{"kind": "story", "title": "x"}])).state == Import.State.DONE


@pytest.mark.parametrize("role", ["developer", "stakeholder", "outsider"])
def test_others_may_not_import(request, product, owner, role):
    actor = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        import_preview(product=product, actor=actor, data=own_csv([{"kind": "story", "title": "x"}]))
    imported = import_preview(product=product, actor=owner, data=own_csv([{"kind": "story", "title": "x"}]))
    with pytest.raises(PermissionDenied):
        import_confirm(imported=imported, actor=actor)
    assert not Item.objects.exists()


def test_a_failure_in_the_middle_of_the_write_leaves_nothing(product, owner, items, monkeypatch):
    from backlog.services import imports

    monkeypatch.setattr(imports, "CHUNK_SIZE", 2)
    imported = import_preview(
        product=product,
        actor=owner,
        data=own_csv([{"kind": "story", "title": f"Row {n}", "labels": "imported"} for n in range(5)]),
    )
    import_confirm(imported=imported, actor=owner)
    calls = []
    real = imports._write_labels

    def fail_on_the_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(imports, "_write_labels", fail_on_the_second_chunk)
    events_before = ItemEvent.objects.count()
    done = import_run(import_id=imported.pk)
    assert done.state == Import.State.FAILED
    assert "nothing was written" in done.failure
    assert len(calls) == 2  # the first chunk had been written, then rolled back
    assert [item.title for item in backlog_items(product=product)] == ["A", "B", "C"]
    assert ItemEvent.objects.count() == events_before
    assert not product.labels.filter(name="imported").exists()
    product.refresh_from_db()
    assert product.last_item_number == 3


def test_history_neighbours_cross_chunks(product, owner, monkeypatch):
    from backlog.services import imports

    monkeypatch.setattr(imports, "CHUNK_SIZE", 2)
    run(product, owner, own_csv([{"kind": "story", "title": f"Row {n}"} for n in range(5)]))
    ordered = list(backlog_items(product=product))
    for index, item in enumerate(ordered):
        placed = ItemEvent.objects.get(item=item, type="created").data["placed"]
        assert placed == {
            "position": index + 1,
            "after_id": ordered[index - 1].pk if index else None,
            "before_id": ordered[index + 1].pk if index + 1 < len(ordered) else None,
        }


def test_the_schedule_runs_imports_the_broker_never_took_and_claims_each_once(product, owner):
    from datetime import timedelta

    from django.utils import timezone

    from backlog.tasks import run_queued_imports

    imported = import_preview(product=product, actor=owner, data=own_csv([{"kind": "story", "title": "x"}]))
    import_confirm(imported=imported, actor=owner)  # in a test transaction: the job is not run
    assert run_queued_imports() == []  # confirmed under a minute ago: its job may still come
    Import.objects.filter(pk=imported.pk).update(confirmed_at=timezone.now() - timedelta(minutes=2))
    assert run_queued_imports() == [imported.pk]
    assert Import.objects.get(pk=imported.pk).state == Import.State.DONE
    assert import_run(import_id=imported.pk).state == Import.State.DONE  # a late job changes nothing
    assert Item.objects.filter(product=product).count() == 1


def test_the_file_is_kept_and_read_in_pieces_across_which_rows_run_on(product, owner, items, monkeypatch):
    from backlog.services import imports

    monkeypatch.setattr(imports, "CHUNK_SIZE", 2)
    rows = [{"kind": "story", "title": f"Row {n}", "description": f"line one\nline two of {n}"} for n in range(5)]
    rows[1]["key"], rows[3]["split_from"] = "OLD-7", "OLD-7"  # a link to an item in an earlier piece
    data = own_csv(rows, columns=("kind", "title", "description", "key", "split_from"))
    imported = import_preview(product=product, actor=owner, data=io.BytesIO(data), placing="top")
    pieces = list(imported.chunks.values_list("text", flat=True))
    assert len(pieces) == 6  # 11 lines (a description spans two) in pieces of 2 lines
    assert all(piece.count("\n") == 2 for piece in pieces[:-1])
    assert "".join(pieces).encode() == data
    assert imported.total == 5 and imported.errors == []
    import_confirm(imported=imported, actor=owner)
    done = import_run(import_id=imported.pk)
    assert done.state == Import.State.DONE and not done.chunks.exists()  # written: the file is not kept
    ordered = list(backlog_items(product=product))
    assert [item.title for item in ordered[:5]] == [f"Row {n}" for n in range(5)]  # one block on top, in order
    assert ordered[5:] and all(item.title not in {f"Row {n}" for n in range(5)} for item in ordered[5:])
    assert ordered[0].description == "line one\nline two of 0"
    assert ordered[3].split_from_id == ordered[1].pk


def test_skipped_rows_are_counted_and_the_first_ones_kept(product, owner, monkeypatch):
    from backlog.services import imports

    monkeypatch.setattr(imports, "MAX_SKIPPED", 3)
    data = own_csv([{"external_ref": f"R-{n}", "kind": "story", "title": f"Row {n}"} for n in range(5)])
    run(product, owner, data)
    again = run(product, owner, data)
    assert again.skipped_count == 5
    assert [row["row"] for row in again.skipped] == [2, 3, 4]


def _traced_peak(fn) -> int:
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_file(product, owner, monkeypatch):
    """Ten times the rows (each with a 5,000-character description) in pieces of 20 lines: the
    preview's and the run's peaks stay within 1.5 times; holding the file whole would add its 2 MB."""
    from accounts.models import Membership, Product
    from backlog.services import imports

    monkeypatch.setattr(imports, "CHUNK_SIZE", 20)
    monkeypatch.setattr(imports, "enqueue_suggestions", lambda product_id: None)
    peaks = {}
    for size in (40, 400):
        target = Product.objects.create(name=f"Memory {size}", key=f"MEM{size}")
        Membership.objects.create(user=owner, product=target, role=Membership.Role.OWNER)
        data = own_csv(
            [{"kind": "story", "title": f"Row {n}", "description": f"{n} " + "x" * 5000} for n in range(size)],
            columns=("kind", "title", "description"),
        )
        found = {}

        def preview(target=target, data=data, found=found):
            found["import"] = import_preview(product=target, actor=owner, data=data)

        peaks[size, "preview"] = _traced_peak(preview)
        imported = found["import"]
        assert imported.total == size and imported.errors == []
        import_confirm(imported=imported, actor=owner)
        peaks[size, "run"] = _traced_peak(lambda imported=imported: import_run(import_id=imported.pk))
        assert Item.objects.filter(product=target).count() == size
    for stage in ("preview", "run"):
        assert peaks[400, stage] < 1.5 * peaks[40, stage], (stage, peaks)
