"""Importing items from CSV: our own export, or Jira's CSV export through a column mapping.

An upload is read and checked row by row with the item services' rules (each kind's required
inputs, the value scales, a proposal's value case) and kept as an ``Import`` with its preview:
what would be created, updated and skipped, and every row's errors. Nothing is written to the
backlog then. Confirming queues the import as a job (``backlog.jobs``; in-process on the embedded
default), which checks the rows again chunk by chunk (its progress) and then writes them all in
one transaction: new items numbered in bulk, the rows entering the order placed as one block at
the top or the bottom in file order (one block of keys from the ordering engine), labels and
history in bulk. Any failure writes nothing. A row whose external reference matches an item of
the product updates that item instead of creating another, so importing the same file twice
changes nothing.

The upload is read as a stream (decoded incrementally) and kept as pieces of about ``CHUNK_SIZE``
lines (``ImportChunk``); the preview and the run read one piece at a time and keep only counts,
the first rows and at most ``MAX_ERRORS`` errors, so memory stays bounded by a piece, not the file.
"""

import codecs
import csv
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Product, User
from accounts.permissions import Action, allowed, lock_product_for, require
from backlog import history
from backlog.exports import FORMULA_STARTS, LABEL_SEPARATOR
from backlog.jobs import enqueue_import, enqueue_suggestions
from backlog.models import Import, ImportChunk, Item, Label
from backlog.services.items import ORDER_FIELDS, VALUE_FIELDS, WORK_FIELDS
from backlog.services.ordering import Placement, order_block_keys
from backlog.services.scores import product_scores_outdate

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1000
READ_BYTES = 64 * 1024  # how much of an upload is read and decoded at a time
PREVIEW_ROWS = 20  # rows shown in a preview (all the errors are kept)
STUCK_HOURS = 1  # a running import not finished after this is taken as left by a dead worker
MAX_ERRORS = 1000  # errors kept in a preview; the count says how many more
MAX_SKIPPED = 1000  # skipped rows kept in a result; skipped_count says how many in all
LABEL_LENGTH = Label._meta.get_field("name").max_length

# The columns of our own export an import reads (the others are derived, or say where an item
# was: key, position, score, created_by, updated_at, links).
OWN_FIELDS = (*WORK_FIELDS, *VALUE_FIELDS, *ORDER_FIELDS)
OWN_COLUMNS = (*OWN_FIELDS, "status", "labels", "created_at")
# Links to other items, given by their keys in the exported product: kept when that item is in the
# same file (an export's parts and their original, a duplicate and what it duplicates).
LINKS = ("split_from", "duplicate_of")
IMPORT_STATUSES = tuple(Item.Status.values)

# Jira's CSV export: issue types, priorities and statuses as our kinds, severities and statuses.
JIRA_KINDS = {
    "story": Item.Kind.STORY,
    "task": Item.Kind.STORY,
    "sub-task": Item.Kind.STORY,
    "subtask": Item.Kind.STORY,
    "new feature": Item.Kind.STORY,
    "improvement": Item.Kind.STORY,
    "bug": Item.Kind.DEFECT,
    "defect": Item.Kind.DEFECT,
    "spike": Item.Kind.SPIKE,
    "research": Item.Kind.SPIKE,
    "technical debt": Item.Kind.TECH_DEBT,
    "tech debt": Item.Kind.TECH_DEBT,
    "incident": Item.Kind.OPERATIONAL,
    "service request": Item.Kind.OPERATIONAL,
    "problem": Item.Kind.OPERATIONAL,
    "change": Item.Kind.OPERATIONAL,
}
JIRA_EPIC_TYPES = ("epic",)
JIRA_SEVERITIES = {
    "blocker": "critical",
    "highest": "critical",
    "critical": "critical",
    "high": "major",
    "major": "major",
    "medium": "minor",
    "minor": "minor",
    "low": "trivial",
    "lowest": "trivial",
    "trivial": "trivial",
}
JIRA_LEVELS = {
    "highest": "high",
    "blocker": "high",
    "critical": "high",
    "high": "high",
    "extensive / widespread": "high",
    "significant / large": "high",
    "medium": "medium",
    "moderate / limited": "medium",
    "low": "low",
    "lowest": "low",
    "minor / localized": "low",
}
JIRA_STATUSES = {
    "to do": Item.Status.OPEN,
    "open": Item.Status.OPEN,
    "backlog": Item.Status.OPEN,
    "selected for development": Item.Status.OPEN,
    "reopened": Item.Status.OPEN,
    "in progress": Item.Status.IN_PROGRESS,
    "in review": Item.Status.IN_PROGRESS,
    "in testing": Item.Status.IN_PROGRESS,
    "done": Item.Status.DONE,
    "closed": Item.Status.DONE,
    "resolved": Item.Status.DONE,
    "won't do": Item.Status.REJECTED,
    "rejected": Item.Status.REJECTED,
    "cancelled": Item.Status.ARCHIVED,
}
JIRA_DATE_FORMATS = ("%d/%b/%y %I:%M %p", "%d/%b/%Y %I:%M %p", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")
JIRA_HOURS_A_DAY = 8  # Jira's default working day, for an Original Estimate given in seconds


def max_bytes() -> int:
    return settings.IMPORT_MAX_BYTES


def max_rows() -> int:
    return settings.IMPORT_MAX_ROWS


@dataclass
class Row:
    """One row of an import file, read as item fields."""

    number: int  # as a spreadsheet numbers it: the header is row 1
    fields: dict[str, Any] = field(default_factory=dict)
    labels: list[str] | None = None  # None: the file says nothing about labels
    status: str = Item.Status.OPEN
    external_ref: str = ""
    created_at: datetime | None = None
    skip: str = ""  # why the row is skipped (a Jira epic)
    errors: dict[str, str] = field(default_factory=dict)
    source_key: str = ""  # the item's key in the exported product (our export's key column)
    links: dict[str, str] = field(default_factory=dict)  # split_from / duplicate_of: keys in the file


def _blocks(data: bytes | IO[bytes]) -> Iterator[bytes]:
    """The upload's bytes a block at a time: from bytes, an ``UploadedFile`` or any binary file."""
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        for start in range(0, len(view), READ_BYTES):
            yield bytes(view[start : start + READ_BYTES])
        return
    # Read, not ``chunks()``: an upload Django holds in memory gives its chunks() in one piece.
    if hasattr(data, "seek"):
        data.seek(0)
    while block := data.read(READ_BYTES):
        yield block


def _decoded_lines(data: bytes | IO[bytes]) -> Iterator[str]:
    """The upload's text lines (with their endings), decoded as UTF-8 (with or without a byte order
    mark) a block at a time; over ``IMPORT_MAX_BYTES`` or not UTF-8 is a ValidationError."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    read = 0
    pending = ""
    blocks = _blocks(data)
    while True:
        block = next(blocks, None)
        final = block is None
        offset = read - len(decoder.getstate()[0])
        if not final:
            read += len(block)
            if read > max_bytes():
                raise ValidationError(
                    {"file": f"The file is over the limit of {max_bytes():,} bytes (IMPORT_MAX_BYTES)."}
                )
        try:
            text = pending + decoder.decode(block or b"", final=final)
        except UnicodeDecodeError as invalid:
            raise ValidationError(
                {
                    "file": f"The file is not UTF-8 text (byte {offset + invalid.start + 1}); "
                    "save it as CSV UTF-8 and upload it again."
                }
            ) from invalid
        start = 0
        while (end := text.find("\n", start)) != -1:
            yield text[start : end + 1]
            start = end + 1
        pending = text[start:]
        if final:
            if pending:
                yield pending
            return


def _store(imported: Import, data: bytes | IO[bytes]) -> None:
    """Keep the upload as pieces of ``CHUNK_SIZE`` lines, reading it as a stream."""
    lines: list[str] = []
    index = 0
    for line in _decoded_lines(data):
        lines.append(line)
        if len(lines) == CHUNK_SIZE:
            ImportChunk.objects.create(upload=imported, index=index, text="".join(lines))
            index += 1
            lines = []
    if lines:
        ImportChunk.objects.create(upload=imported, index=index, text="".join(lines))


def _file_lines(imported: Import) -> Iterator[str]:
    """The stored file's lines, one piece read from the database at a time."""
    index = 0
    while True:
        text = ImportChunk.objects.filter(upload=imported, index=index).values_list("text", flat=True).first()
        if text is None:
            return
        yield from _lines(text)
        del text
        index += 1


def _unquote(text: str) -> str:
    """A cell without the ``'`` our export puts before formula-looking text."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def _lines(text: str) -> Iterator[str]:
    """The text's lines with their endings, one at a time (``io.StringIO`` would copy the whole
    file into a buffer of 4 bytes a character; ``csv`` joins a quoted cell's lines itself)."""
    start, length = 0, len(text)
    while start < length:
        end = text.find("\n", start)
        end = length if end == -1 else end + 1
        yield text[start:end]
        start = end


def _header(lines: Iterator[str]) -> list[str]:
    reader = csv.reader(lines)
    try:
        return [name.strip() for name in next(reader)]
    except StopIteration:
        raise ValidationError({"file": "The file is empty."}) from None
    except csv.Error as invalid:
        raise ValidationError({"file": f"The file is not readable as CSV: {invalid}."}) from invalid


def detect_source(header: list[str]) -> str:
    """Which format a header is: our export's (title, kind, …) or Jira's (Summary, Issue Type, …)."""
    names = {name.lower() for name in header}
    if {"summary", "issue type"} <= names:
        return Import.Source.JIRA
    if {"title", "kind"} <= names:
        return Import.Source.ONEBACKLOG
    raise ValidationError(
        {
            "file": "The columns are neither OneBacklog's export (title, kind, …) nor Jira's CSV export "
            "(Summary, Issue Type, …)."
        }
    )


def _records(lines: Iterator[str]) -> Iterator[tuple[int, list[str], list[str]]]:
    """(row number, header, cells) of each data row; blank lines are left out."""
    reader = csv.reader(lines)
    header = [name.strip() for name in next(reader)]
    number = 1
    try:
        for cells in reader:
            number += 1
            if any(cell.strip() for cell in cells):
                yield number, header, cells
    except csv.Error as invalid:
        raise ValidationError({"file": f"Row {number + 1} is not readable as CSV: {invalid}."}) from invalid


def _typed(name: str, text: str, errors: dict[str, str]) -> Any:
    """A cell as the model field ``name`` holds it (empty: the field's empty value)."""
    model_field = Item._meta.get_field(name)
    text = text.strip()
    if name == "pinned":
        if text.lower() in ("", "false", "no", "0"):
            return False
        if text.lower() in ("true", "yes", "1"):
            return True
        errors[name] = "Give true or false."
        return False
    if text == "":
        return None if model_field.null else ""
    try:
        return model_field.to_python(text)
    except ValidationError as invalid:
        errors[name] = " ".join(invalid.messages)
        return None


def _labels(text: str) -> list[str]:
    return sorted({name.strip() for name in text.split(",") if name.strip()})


def _own_row(number: int, header: list[str], cells: list[str]) -> Row:
    row = Row(number=number)
    values = {name: _unquote(cells[index]) if index < len(cells) else "" for index, name in enumerate(header)}
    for name in OWN_FIELDS:
        if name in values:
            row.fields[name] = _typed(name, values[name], row.errors)
    row.external_ref = (row.fields.pop("external_ref", "") or "").strip()
    if "labels" in values:
        row.labels = _labels(values["labels"].replace(LABEL_SEPARATOR, ","))
    status = values.get("status", "").strip() or Item.Status.OPEN
    if status not in IMPORT_STATUSES:
        row.errors["status"] = f"Unknown status {status!r}: give one of {', '.join(IMPORT_STATUSES)}."
    row.status = status
    if created := values.get("created_at", "").strip():
        row.created_at = parse_datetime(created)
        if row.created_at is None:
            row.errors["created_at"] = "Give a date and time such as 2026-03-01T09:30:00+00:00."
    row.source_key = values.get("key", "").strip().upper()
    row.links = {name: values[name].strip().upper() for name in LINKS if values.get(name, "").strip()}
    return row


def _jira_date(text: str) -> datetime | None:
    text = text.strip()
    for pattern in JIRA_DATE_FORMATS:
        try:
            return timezone.make_aware(datetime.strptime(text, pattern), timezone.get_default_timezone())
        except ValueError:
            continue
    found = parse_datetime(text)
    return found if found is None or timezone.is_aware(found) else timezone.make_aware(found)


def _custom(values: dict[str, list[str]], *names: str) -> str:
    """The first non-empty value of any of the columns ``names`` (``Custom field (X)`` or ``X``)."""
    for name in names:
        for column in (f"custom field ({name})", name):
            for value in values.get(column, []):
                if value.strip():
                    return value.strip()
    return ""


def _jira_epics(imported: Import) -> dict[str, str]:
    """The epics of a Jira file by issue key and by issue id → epic name (or summary), for their
    issues' labels."""
    epics = {}
    for _, header, cells in _records(_file_lines(imported)):
        values = {name.lower(): cells[index] if index < len(cells) else "" for index, name in enumerate(header)}
        if values.get("issue type", "").strip().lower() in JIRA_EPIC_TYPES:
            name = values.get("custom field (epic name)", "").strip() or values.get("summary", "").strip()
            for reference in (values.get("issue key", "").strip(), values.get("issue id", "").strip()):
                if reference:
                    epics[reference] = name
    return epics


def _jira_row(number: int, header: list[str], cells: list[str], epics: dict[str, str]) -> Row:
    """A row of Jira's CSV export: Summary, Issue key, Issue Type, Status, Priority, Custom field
    (Story Points), Labels (repeated), Description, Epic Link or Parent, Created, …"""
    row = Row(number=number)
    values: dict[str, list[str]] = {}
    for index, name in enumerate(header):
        values.setdefault(name.lower(), []).append(cells[index] if index < len(cells) else "")

    def one(name: str) -> str:
        return next((value.strip() for value in values.get(name, []) if value.strip()), "")

    row.external_ref = one("issue key")
    issue_type = one("issue type").lower()
    if issue_type in JIRA_EPIC_TYPES:
        row.skip = "An epic: its name is kept as an epic: label on its issues."
        return row
    kind = JIRA_KINDS.get(issue_type)
    if kind is None:
        row.errors["kind"] = (
            f"Unknown issue type {one('issue type')!r}: Story, Task, Bug, Spike, Incident, … map to kinds."
        )
        kind = Item.Kind.STORY
    title = one("summary")
    fields: dict[str, Any] = {"kind": kind, "title": title, "description": one("description")}
    if criteria := _custom(values, "acceptance criteria"):
        fields["acceptance_criteria"] = criteria
    points = _custom(values, "story points", "story point estimate")
    if points:
        try:
            # Whole points, half up (0.5 → 1); the estimate field refuses what is still out of range.
            fields["estimate"] = int(Decimal(points).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        except ArithmeticError:
            row.errors["estimate"] = f"Story points {points!r} are not a number."
    priority = one("priority").lower()
    if kind == Item.Kind.DEFECT:
        severity = _custom(values, "severity").lower() or priority
        fields["severity"] = JIRA_SEVERITIES.get(severity, "")
        if not fields["severity"] and severity:
            row.errors["severity"] = f"Unknown severity or priority {severity!r}."
    elif kind == Item.Kind.OPERATIONAL:
        fields["impact"] = JIRA_LEVELS.get(_custom(values, "impact").lower() or priority, "")
        fields["urgency"] = JIRA_LEVELS.get(_custom(values, "urgency").lower() or priority, "")
    elif kind == Item.Kind.SPIKE:
        fields["question"] = _custom(values, "question") or title
        timebox = _custom(values, "timebox")
        seconds = one("original estimate")
        if timebox.isdigit():
            fields["timebox_days"] = int(timebox)
        elif seconds.isdigit() and int(seconds) > 0:
            fields["timebox_days"] = math.ceil(int(seconds) / (JIRA_HOURS_A_DAY * 3600))
    elif kind == Item.Kind.TECH_DEBT:
        interest = _custom(values, "interest hours", "interest")
        if interest:
            fields["interest_hours"] = _typed("interest_hours", interest, row.errors)
    row.fields = fields
    labels = {value.strip() for value in values.get("labels", []) if value.strip()}
    # Company-managed projects name the epic in Epic Link (its key); team-managed ones in Parent (its id).
    link = _custom(values, "epic link")
    epic = epics.get(link, link) if link else epics.get(one("parent"), "")
    if epic:
        labels.add(f"epic:{epic}"[:LABEL_LENGTH])
    row.labels = sorted(labels)
    status = one("status")
    row.status = JIRA_STATUSES.get(status.lower(), Item.Status.OPEN)
    if created := one("created"):
        row.created_at = _jira_date(created)
        if row.created_at is None:
            row.errors["created_at"] = f"Unreadable date {created!r}."
    return row


def read_rows(imported: Import) -> Iterator[Row]:
    """The stored file's data rows as ``Row``s, in file order, one piece of the file at a time."""
    if imported.source == Import.Source.JIRA:
        epics = _jira_epics(imported)
        for number, header, cells in _records(_file_lines(imported)):
            yield _jira_row(number, header, cells, epics)
        return
    for number, header, cells in _records(_file_lines(imported)):
        yield _own_row(number, header, cells)


def _chunks(rows: Iterator[Row], size: int | None = None) -> Iterator[list[Row]]:
    size = size or CHUNK_SIZE
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


UNCHECKED = ["rank", "number", "status", "product", "created_by", "split_from", "duplicate_of"]


def check_row(row: Row, product: Product, existing: Item | None, *, validate: bool = True) -> Item:
    """Check ``row`` with the item services' rules; return the item it would make (unsaved), or
    ``existing`` with its changes. The row's ``errors`` say what is wrong (by field).

    ``validate=False`` only builds the item: for the write, right after the run checked every row
    (the database's constraints still hold each kind's inputs and the unique references)."""
    errors = row.errors
    fields = {name: value for name, value in row.fields.items() if name not in errors}
    if existing is not None:
        item = Item(**{f.attname: getattr(existing, f.attname) for f in Item._meta.concrete_fields})
        item.product = product
    else:
        item = Item(product=product, number=0, kind=fields.get("kind") or Item.Kind.STORY)
    for name, value in fields.items():
        setattr(item, name, value)
    item.status = row.status
    item.external_ref = row.external_ref
    if row.created_at is not None and existing is None:
        item.created_at = row.created_at
    item.derive_fields()
    if not validate:
        return item
    try:
        # The links are set by the import itself: no query per row to check that they exist.
        item.full_clean(validate_unique=False, validate_constraints=False, exclude=UNCHECKED)
    except ValidationError as invalid:
        for name, messages in invalid.message_dict.items():
            errors.setdefault(name, " ".join(messages))
    if item.status == Item.Status.PROPOSED:
        for name, message in item.value_case_errors().items():
            errors.setdefault(name, message)
    if row.labels and (too_long := [name for name in row.labels if len(name) > LABEL_LENGTH]):
        errors["labels"] = f"Labels are at most {LABEL_LENGTH} characters: {too_long[0][:60]}…"
    return item


def _existing(product: Product, rows: list[Row]) -> dict[str, Item]:
    refs = [row.external_ref for row in rows if row.external_ref]
    if not refs:
        return {}
    found = Item.objects.filter(product=product, external_ref__in=refs).prefetch_related("labels")
    return {item.external_ref: item for item in found}


IMPORT_ACTIONS = frozenset({Action.ADD_DIRECTLY, Action.EDIT_WORK, Action.EDIT_VALUE})


def can_import(actions: frozenset[Action]) -> bool:
    return actions >= IMPORT_ACTIONS


def require_import_rights(actor: User, product: Product, actions: frozenset[Action] | None = None) -> None:
    """Imports (uploading, confirming, reading them) are for those who add items straight into
    the order and set every field: the product owner and ordering delegates."""
    actions = allowed(actor, product) if actions is None else actions
    require(actor, Action.VIEW, product, actions=actions)
    if not can_import(actions):
        raise PermissionDenied("Only the product owner or an ordering delegate imports items.")


def _row_error(row: Row) -> dict[str, Any]:
    return {"row": row.number, "external_ref": row.external_ref, "errors": dict(sorted(row.errors.items()))}


def _changes(row: Row, item: Item, existing: Item) -> dict[str, list[Any]]:
    names = [*row.fields, "status", "itil_priority", "sla_due_at"]
    diff = {name: [getattr(existing, name), getattr(item, name)] for name in names}
    diff = {name: pair for name, pair in diff.items() if pair[0] != pair[1]}
    if row.labels is not None:
        old = sorted(label.name for label in existing.labels.all())
        if old != row.labels:
            diff["labels"] = [old, row.labels]
    return diff


def import_preview(
    *,
    product: Product,
    actor: User,
    data: bytes | IO[bytes],
    file_name: str = "",
    source: str = "auto",
    placing: str = Import.Placing.BOTTOM,
) -> Import:
    """Read and check an uploaded CSV file (bytes or a binary file, read as a stream); keep it, in
    pieces, with its preview (nothing else is written).

    A file over ``IMPORT_MAX_BYTES`` or ``IMPORT_MAX_ROWS``, not UTF-8 or not CSV is refused with
    a ValidationError; rows that break the items' rules are listed in the preview's ``errors``.
    """
    require_import_rights(actor, product)
    if placing not in Import.Placing.values:
        raise ValidationError({"placing": "Place the rows at the top or the bottom."})
    with transaction.atomic():  # a refused file leaves nothing behind
        imported = Import(
            product=product,
            created_by=actor,
            file_name=file_name[:200],
            source=Import.Source.ONEBACKLOG,
            placing=placing,
        )
        imported.save()
        _store(imported, data)
        header = _header(_file_lines(imported))
        detected = detect_source(header)
        if source not in ("auto", detected):
            raise ValidationError(
                {"source": f"The columns are those of a {Import.Source(detected).label}, not {source}."}
            )
        if detected == Import.Source.ONEBACKLOG and "title" not in header:
            raise ValidationError({"file": "A title column is needed."})
        imported.source = detected
        imported.preview = _check_all(imported, product)
        imported.save(update_fields=["source", "preview", "errors", "total"])
    return imported


def _check_all(imported: Import, product: Product, progress=None) -> dict[str, Any]:
    """Check every row of the import against the product as it is now: the preview's summary
    (counts and sample rows), with the rows' errors in ``imported.errors``."""
    seen: set[str] = set()
    counts = {"create": 0, "update": 0, "skip": 0, "unchanged": 0, "error_rows": 0}
    sample, errors, total = [], [], 0
    for chunk in _chunks(read_rows(imported)):
        existing = _existing(product, chunk)
        for row in chunk:
            total += 1
            if total > max_rows():
                raise ValidationError(
                    {"file": f"The file has more than {max_rows():,} rows (IMPORT_MAX_ROWS); split it."}
                )
            action = "skip"
            if not row.skip:
                found = existing.get(row.external_ref) if row.external_ref else None
                if row.external_ref in seen:
                    row.errors["external_ref"] = f"Another row above has the external reference {row.external_ref}."
                seen.add(row.external_ref) if row.external_ref else None
                item = check_row(row, product, found)
                action = "update" if found else "create"
                if found and not row.errors and not _changes(row, item, found):
                    action = "unchanged"
            if row.errors:
                counts["error_rows"] += 1
                if len(errors) < MAX_ERRORS:
                    errors.append(_row_error(row))
            else:
                counts[action] += 1
            if len(sample) < PREVIEW_ROWS:
                sample.append(
                    {
                        "row": row.number,
                        "action": "error" if row.errors else action,
                        "external_ref": row.external_ref,
                        "kind": row.fields.get("kind", ""),
                        "title": row.fields.get("title", ""),
                        "status": row.status,
                        "labels": row.labels or [],
                        "skip": row.skip,
                    }
                )
        if progress is not None:
            progress(total)
    if total == 0:
        raise ValidationError({"file": "The file has a header but no rows."})
    imported.errors = errors
    imported.total = total
    return {**counts, "rows": sample}


def import_confirm(*, imported: Import, actor: User) -> Import:
    """Queue a previewed import without errors; the job writes it (``import_run``)."""
    with transaction.atomic():
        product, actions = lock_product_for(actor, imported.product_id)
        require_import_rights(actor, product, actions)
        current = Import.objects.select_for_update().get(pk=imported.pk)
        if current.state != Import.State.PREVIEWED:
            raise ValidationError({"state": f"This import is {current.get_state_display().lower()}, not waiting."})
        if current.errors:
            raise ValidationError(
                {"file": "Fix the rows with errors and upload the file again: an import is all or nothing."}
            )
        current.state = Import.State.QUEUED
        current.confirmed_at = timezone.now()
        current.save(update_fields=["state", "confirmed_at"])
        transaction.on_commit(lambda: enqueue_import(current.pk), robust=True)
    return current


def import_run(*, import_id: int) -> Import:
    """Check an import's rows again (the progress, committed chunk by chunk), then write them all in
    one transaction; on any error write nothing and record why."""
    now = timezone.now()
    stuck = Q(state=Import.State.RUNNING, started_at__lt=now - timedelta(hours=STUCK_HOURS))
    # Claimed by one runner only (a worker, or the schedule catching up).
    claimed = Import.objects.filter(Q(pk=import_id) & (Q(state=Import.State.QUEUED) | stuck)).update(
        state=Import.State.RUNNING, processed=0, started_at=now
    )
    imported = Import.objects.select_related("product", "created_by").get(pk=import_id)
    if not claimed:
        return imported
    product, actor = imported.product, imported.created_by
    try:
        if actor is None:
            raise PermissionDenied("The user who uploaded the import is gone.")
        require_import_rights(actor, product)

        def progress(done: int) -> None:
            Import.objects.filter(pk=import_id).update(processed=done)

        _check_all(imported, product, progress)
        if imported.errors:
            first = imported.errors[0]
            raise ValidationError(
                f"{len(imported.errors)} rows no longer pass the checks (row {first['row']}: "
                + "; ".join(f"{name}: {message}" for name, message in first["errors"].items())
                + ")."
            )
        result = _write(imported, actor)
    except (OperationalError, InterfaceError):
        # Transient (a deadlock, a lost connection): nothing was written; queued again for the
        # job's retry (or the schedule) to claim.
        Import.objects.filter(pk=import_id).update(state=Import.State.QUEUED)
        raise
    except Exception as failed:
        if isinstance(failed, ValidationError):
            reason = " ".join(failed.messages)
        elif isinstance(failed, PermissionDenied):
            reason = str(failed)
        else:
            logger.exception("Import %s failed; nothing was written.", import_id)
            reason = f"An unexpected error ({type(failed).__name__}); nothing was written. Try again or tell support."
        Import.objects.filter(pk=import_id).update(
            state=Import.State.FAILED, failure=reason, finished_at=timezone.now()
        )
        return Import.objects.get(pk=import_id)
    Import.objects.filter(pk=import_id).update(
        state=Import.State.DONE,
        created_count=result.created,
        updated_count=result.updated,
        skipped=result.skipped,
        skipped_count=result.skipped_count,
        failure="",
        finished_at=timezone.now(),
    )
    # Written: the file's text is not kept (the preview, errors and result are).
    # (Only the ids are read: a delete that sends signals would otherwise load the whole file.)
    ImportChunk.objects.filter(upload_id=import_id).only("pk").delete()
    return Import.objects.get(pk=import_id)


@dataclass
class _Written:
    created: int = 0
    updated: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)  # the first MAX_SKIPPED
    skipped_count: int = 0

    def skip(self, row: Row, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < MAX_SKIPPED:
            self.skipped.append({"row": row.number, "external_ref": row.external_ref, "reason": reason})


def _entering(product: Product, imported: Import) -> tuple[list[int], set[str]]:
    """How many rows of each chunk enter the order (new rows with an ordered status, and updated
    items coming into it), and the file's keys that rows link to."""
    counts, linked = [], set()
    for chunk in _chunks(read_rows(imported)):
        existing = _existing(product, chunk)
        count = 0
        for row in chunk:
            linked.update(row.links.values())
            if row.skip or row.status not in Item.ORDERED_STATUSES:
                continue
            found = existing.get(row.external_ref) if row.external_ref else None
            if found is None or found.rank is None:
                count += 1
        counts.append(count)
    return counts, linked


def _write(imported: Import, actor: User) -> _Written:
    """Write every row in one transaction holding the product's lock (see the module's doc)."""
    written = _Written()
    with transaction.atomic():
        product, actions = lock_product_for(actor, imported.product_id)
        require_import_rights(actor, product, actions)
        entering, linked = _entering(product, imported)
        placement = Placement.top() if imported.placing == Import.Placing.TOP else Placement.bottom()
        # The block's keys come a chunk at a time, in step with the chunks below.
        gap, key_pieces, first_position = (
            order_block_keys(product=product, placement=placement, counts=entering)
            if sum(entering)
            else (None, iter(()), 0)
        )
        next_number = product.last_item_number
        block_index = 0
        # The block's created events say where each item landed: its position and neighbours. The
        # last one so far waits for its next neighbour (maybe in the next chunk) before it is written.
        held: history.ItemEvent | None = None
        # The file's keys that rows link to → the items they became, and the links to set once every
        # row is written.
        by_source_key: dict[str, int] = {}
        links: list[tuple[int, str, str]] = []
        previous_id = gap.after.id if gap is not None and gap.after else None
        now = timezone.now()
        for chunk in _chunks(read_rows(imported)):
            existing = _existing(product, chunk)
            new_items: list[tuple[Row, Item]] = []
            updates: list[tuple[Row, Item, dict[str, list[Any]]]] = []
            block: list[tuple[Item, int]] = []
            leaving: list[int] = []  # items leaving the order
            keys = next(key_pieces, [])
            for row in chunk:
                if row.skip:
                    written.skip(row, row.skip)
                    continue
                found = existing.get(row.external_ref) if row.external_ref else None
                item = check_row(row, product, found, validate=False)
                if row.errors:
                    raise ValidationError(f"Row {row.number} no longer passes the checks: {_row_error(row)['errors']}.")
                if item.status in Item.ORDERED_STATUSES and (found is None or found.rank is None):
                    item.rank = keys[len(block)]
                    block.append((item, block_index))
                    block_index += 1
                elif item.status not in Item.ORDERED_STATUSES:
                    if item.pk is not None and item.rank is not None:
                        leaving.append(item.pk)
                    item.leave_order()
                if found is None:
                    next_number += 1
                    item.number = next_number
                    item.created_by = actor
                    item.created_at = row.created_at or now
                    item.updated_at = now
                    item.derive_fields()
                    new_items.append((row, item))
                    continue
                changes = _changes(row, item, found)
                if not changes:
                    written.skip(row, "Unchanged.")
                    if row.source_key in linked:
                        by_source_key[row.source_key] = found.pk
                    continue
                item.version = found.version + 1
                item.updated_at = now
                updates.append((row, item, changes))
            Item.objects.bulk_create([item for _, item in new_items], batch_size=CHUNK_SIZE)
            if updates:
                names = {name for _, _, changes in updates for name in changes} - {"labels"}
                # Items leaving the order drop their suggested positions first (none out of it):
                # whatever was read, since the refresh may have stored one since (it does not take
                # the product lock); this write locks the rows, so it skips them until the commit.
                if leaving:
                    Item.objects.filter(pk__in=leaving).update(suggested_position=None)
                Item.objects.bulk_update(
                    [item for _, item, _ in updates],
                    sorted(names | {"rank", "status", "version", "updated_at"}),
                    batch_size=500,
                )
            _write_labels(product, new_items, updates)
            block_ids = {item.pk for item, _ in block}
            labels_of = {item.pk: row.labels or [] for row, item in new_items}
            events = [
                history.created(item=item, actor=actor, placed=None, labels=row.labels or [], at=item.created_at)
                for row, item in new_items
                if item.pk not in block_ids
            ]
            events += [history.updated(item=item, actor=actor, changes=changes) for _, item, changes in updates]
            for item, index in block:
                if held is not None:
                    held.data["placed"]["before_id"] = item.pk
                    events.append(held)
                    held = None
                if item.pk in labels_of:
                    landing = history.place(position=first_position + index, after_id=previous_id, before_id=None)
                    held = history.created(
                        item=item, actor=actor, placed=landing, labels=labels_of[item.pk], at=item.created_at
                    )
                previous_id = item.pk
            history.write(events)
            for row, item in [*new_items, *((row, item) for row, item, _ in updates)]:
                if row.source_key in linked:
                    by_source_key[row.source_key] = item.pk
                links += [(item.pk, name, key) for name, key in row.links.items()]
            written.created += len(new_items)
            written.updated += len(updates)
        if held is not None:
            held.data["placed"]["before_id"] = gap.before.id if gap is not None and gap.before else None
            history.write([held])
        _write_links(links, by_source_key)
        Product.objects.filter(pk=product.pk).update(last_item_number=next_number)
        if written.created or written.updated:
            product_scores_outdate(product_id=product.pk)
            transaction.on_commit(lambda: enqueue_suggestions(product.pk), robust=True)
    return written


def _write_links(links: list[tuple[int, str, str]], by_source_key: dict[str, int]) -> None:
    """Point the items at the items their rows link to (by key in the file), in bulk."""
    for name in LINKS:
        linked = [
            Item(pk=item_id, **{f"{name}_id": by_source_key[key]})
            for item_id, link, key in links
            if link == name and key in by_source_key
        ]
        Item.objects.bulk_update(linked, [name], batch_size=CHUNK_SIZE)


def _write_labels(
    product: Product,
    new_items: list[tuple[Row, Item]],
    updates: list[tuple[Row, Item, dict[str, list[Any]]]],
) -> None:
    """Create the chunk's missing labels and link them, in a few statements."""
    wanted = [(item, row.labels) for row, item in new_items if row.labels]
    wanted += [(item, row.labels) for row, item, changes in updates if "labels" in changes]
    if not wanted:
        return
    names = {name for _, labels in wanted for name in labels}
    Label.objects.bulk_create([Label(product=product, name=name) for name in names], ignore_conflicts=True)
    ids = dict(Label.objects.filter(product=product, name__in=names).values_list("name", "pk"))
    through = Item.labels.through
    relabelled = [item.pk for row, item, changes in updates if "labels" in changes]
    if relabelled:
        through.objects.filter(item_id__in=relabelled).delete()
    through.objects.bulk_create(
        [through(item_id=item.pk, label_id=ids[name]) for item, labels in wanted for name in labels]
    )
