"""Score writes: one item, a whole product (chunked, set-based), the time-sensitive ones.

The scoring itself is ``backlog.scoring`` (pure functions); these services load the inputs,
score them with the product's model and weights, and write score, breakdown and time. On
PostgreSQL, many items at once are scored inside the database by ``backlog.score_sql`` (the same
rules as one statement per chunk). They are what the Celery tasks call, and they are
idempotent: running one twice writes the same values.
"""

import csv
import io
import json
from collections import namedtuple
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.audit import audit_record, changed
from accounts.models import AuditEvent, Product
from accounts.permissions import Action, require
from backlog import score_sql, scoring
from backlog.jobs import enqueue_product_scores
from backlog.models import Item
from backlog.selectors import chunk_rows
from backlog.transactions import paced

# The fields a score reads; loading only these keeps a full recompute light.
SCORE_INPUTS = (
    "id",
    "version",
    "product_id",
    "kind",
    "business_value",
    "time_criticality",
    "risk_reduction",
    "estimate",
    "severity",
    "interest_hours",
    "itil_priority",
    "sla_due_at",
    "created_at",
    "moscow",
    "rice_reach",
    "rice_impact",
    "rice_confidence",
    "rice_effort",
)
# What a refresh compares a new score with, to write only the rows it changes.
CURRENT = ("score", "score_breakdown", "score_computed_at", "updated_at")
# Rows per transaction: a move of an item in the chunk being written waits for the chunk (about
# 25 ms for 250 rows here; 2,000-row chunks took 200 ms at a million items, and at 100,000 items one
# move in fifty met one: the moves' p99 went 4x up while a recompute ran).
CHUNK_SIZE = 250


Row = tuple[int, int, float | None, dict]  # id, version read, score, breakdown
# One item's refresh: its score, its product, and whether the write happened (False when the item
# changed between read and write: the job then scores it again).
ItemScore = namedtuple("ItemScore", ("score", "product_id", "written"))
# The inputs as light tuples with attribute access: what the scoring functions read.
Inputs = namedtuple("Inputs", SCORE_INPUTS)


def _scored(items: Iterable[Inputs], product: Product, now) -> list[Row]:
    rows = []
    for item in items:
        result = scoring.score(item, model=product.scoring_model, now=now, weights=product.score_weights)
        rows.append((item.id, item.version, result.value, result.breakdown()))
    return rows


def _write(rows: list[Row], now) -> int:
    """Write scores set-based, skipping items edited since they were read (their own job rescores them).

    PostgreSQL: the chunk is streamed with COPY into a temporary table and applied with one
    UPDATE … FROM, only where the version is still the one read. SQLite: one prepared UPDATE run
    for every row (``executemany``; 20 times faster than ``bulk_update``'s CASE per row) in the
    same transaction as the read, which SQLite's write lock keeps from interleaving with edits.
    """
    if not rows:
        return 0
    table = connection.ops.quote_name(Item._meta.db_table)
    if connection.vendor != "postgresql":
        breakdown, computed_at = (Item._meta.get_field(name) for name in ("score_breakdown", "score_computed_at"))
        at = computed_at.get_db_prep_save(now, connection)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET score = %s, score_breakdown = %s, score_computed_at = %s WHERE id = %s",
                [(score, breakdown.get_db_prep_save(data, connection), at, pk) for pk, _, score, data in rows],
            )
        return len(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    encode = json.JSONEncoder(separators=(",", ":")).encode  # breakdowns hold plain JSON types
    writer.writerows(
        (pk, version, "" if score is None else repr(score), encode(breakdown)) for pk, version, score, breakdown in rows
    )
    buffer.seek(0)
    # One unit of work; the table is emptied at the end because an outer transaction (ON COMMIT
    # would only empty it then) may write several chunks.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS score_load "
            "(id bigint PRIMARY KEY, version integer, score double precision, breakdown jsonb) ON COMMIT DELETE ROWS"
        )
        cursor.cursor.copy_expert(
            "COPY score_load (id, version, score, breakdown) FROM STDIN WITH (FORMAT csv)", buffer
        )
        cursor.execute(
            f"UPDATE {table} SET score = l.score, score_breakdown = l.breakdown, score_computed_at = %s "
            f"FROM score_load l WHERE {table}.id = l.id AND {table}.version = l.version",
            [now],
        )
        written = cursor.rowcount
        cursor.execute("TRUNCATE score_load")
    return written


def _score_queryset(
    queryset: QuerySet[Item],
    product_id: int,
    *,
    in_database: bool = True,
    only_changed: bool = False,
    whole_product: bool = False,
) -> tuple[int, int]:
    """Score ``queryset`` (items of one product) chunk by chunk, each chunk in its own short
    transaction with the product's current model and weights: scored inside the database on
    PostgreSQL (unless ``in_database`` is off), else read, scored in Python and written.

    With ``only_changed`` only the rows whose score or breakdown changes are written (and those
    never scored or edited since their score: see ``score_sql.statement``). Return (items read,
    rows written); in the database the items read are not counted, so both are the rows written.
    ``whole_product`` says ``queryset`` is every item of the product (no narrowing needed).
    """
    if in_database and connection.vendor == "postgresql":
        written = _score_queryset_in_database(
            None if whole_product else queryset, product_id, only_changed=only_changed
        )
        return written, written
    count = written = 0
    last_id = 0
    fields = (*SCORE_INPUTS, *(CURRENT if only_changed else ()))
    while True:
        with transaction.atomic():
            product = Product.objects.get(pk=product_id)
            rows = list(queryset.filter(pk__gt=last_id).order_by("pk").values_list(*fields)[:CHUNK_SIZE])
            if not rows:
                return count, written
            # Taken after the read, so a score is never older than the change it reflects.
            now = timezone.now()
            scored = _scored((Inputs(*row[: len(SCORE_INPUTS)]) for row in rows), product, now)
            if only_changed:
                scored = [new for new, row in zip(scored, rows, strict=True) if _changes(new, row)]
            written += _write(scored, now)
        count += len(rows)
        last_id = rows[-1][0]


def _changes(new: Row, row: tuple) -> bool:
    """Would writing ``new`` change the stored score, or record a score never taken or outdated by an edit?"""
    score, breakdown, computed_at, updated_at = row[len(SCORE_INPUTS) :]  # CURRENT
    return computed_at is None or computed_at < updated_at or (score, breakdown) != (new[2], new[3])


def _chunk_end(product_id: int, after: int, size: int) -> int | None:
    """The id closing the next key range of ``size`` of the product's items after ``after``
    (None: the range runs to the end). Read from the (product, id) index: ``size`` entries."""
    return (
        Item.objects.filter(product_id=product_id, pk__gt=after)
        .order_by("product_id", "pk")
        .values_list("pk", flat=True)[size - 1 : size]
        .first()
    )


def _score_queryset_in_database(queryset: QuerySet[Item] | None, product_id: int, *, only_changed: bool) -> int:
    """Score by key ranges of ``CHUNK_SIZE`` ids of the product (fewer on a small product when
    every row is written: ``chunk_rows``), one UPDATE and one short transaction each: a move waits for a chunk's row
    locks for at most one chunk's write, and nothing of the product is held in memory.
    ``queryset`` (None: every item) narrows each range; return the rows written."""
    written = 0
    after = 0
    # Fewer rows a chunk on a small product, when every row is written (an UPDATE that writes only
    # the changed rows locks only those: the due refresh keeps whole chunks).
    size = CHUNK_SIZE if only_changed else chunk_rows(product_id=product_id, most=CHUNK_SIZE)
    while True:
        end = _chunk_end(product_id, after, size)
        where, params = "i.product_id = %s AND i.id > %s", [product_id, after]
        if end is not None:
            where += " AND i.id <= %s"
            params.append(end)
        if queryset is not None:
            narrowed = queryset.filter(pk__gt=after, **({} if end is None else {"pk__lte": end})).order_by()
            subquery, subquery_params = narrowed.values("pk").query.sql_with_params()
            where += f" AND i.id IN ({subquery})"
            params.extend(subquery_params)
        # The due refresh pauses after each chunk that wrote rows, but the last
        # (``transactions.paced``); the recompute does not pause.
        with paced(None if only_changed else 0) as chunk, transaction.atomic():
            product = Product.objects.get(pk=product_id)
            rows = score_sql.score_where(
                where,
                params,
                model=product.scoring_model,
                weights=product.score_weights,
                now=timezone.now(),
                only_changed=only_changed,
            )
            written += rows
            if not rows or end is None:
                chunk.skip()
        if end is None:
            return written
        after = end


def item_score_refresh(*, item_id: int) -> ItemScore | None:
    """Recompute one item's score (in Python, the models' definition); None if the item is gone.

    ``written`` is False when the item changed between the read and the (version-checked) write:
    its score is then not fresh, and the caller must score it again.
    """
    product_id = Item.objects.filter(pk=item_id).values_list("product_id", flat=True).first()
    if product_id is None:
        return None
    read, written = _score_queryset(Item.objects.filter(pk=item_id), product_id, in_database=False)
    score = Item.objects.filter(pk=item_id).values_list("score", flat=True).first()
    return ItemScore(score, product_id, written == read)


def product_scores_outdate(*, product_id: int) -> None:
    """Have every score of the product recomputed: their inputs changed for many items at once
    (an import, new impact thresholds). The mark is the scoring version moving ahead of the
    scores', as for a model change; the recompute is queued after the commit."""
    Product.objects.filter(pk=product_id).update(scoring_version=F("scoring_version") + 1)
    transaction.on_commit(lambda: enqueue_product_scores(product_id), robust=True)


def product_scores_recompute(*, product_id: int) -> int:
    """Recompute every score of a product (after a model or weight change), chunk by chunk.

    When it finishes, the product records the scoring version it started from
    (``scores_version``): a recompute lost on the way (its worker killed) leaves it behind
    ``scoring_version``, and the schedule redoes it.
    """
    started_with = Product.objects.filter(pk=product_id).values_list("scoring_version", flat=True).first()
    if started_with is None:
        return 0
    count, _ = _score_queryset(Item.objects.filter(product_id=product_id), product_id, whole_product=True)
    Product.objects.filter(pk=product_id, scores_version__lt=started_with).update(scores_version=started_with)
    return count


def scores_refresh_due(*, product_id: int) -> int:
    """Recompute the scores that time or edits have made stale; return the rows written.

    A product whose last model or weight change was never fully recomputed (the job lost with
    its worker, or never queued) is recomputed whole. Otherwise time-sensitive items (defects
    age, operational items run against their SLA) are rescored on every run, and any item edited
    since it was last scored (for example while the broker was unreachable) catches up too.
    Only the rows whose score or breakdown changes are written (and the edited ones, to mark
    them fresh), in short chunked transactions: ``score_computed_at`` of an unchanged row keeps
    the time its value was last written.
    """
    if Product.objects.filter(pk=product_id, scores_version__lt=F("scoring_version")).exists():
        return product_scores_recompute(product_id=product_id)
    due = Item.objects.filter(product_id=product_id).filter(
        Q(kind__in=[Item.Kind.DEFECT, Item.Kind.OPERATIONAL], rank__isnull=False)
        | Q(score_computed_at__isnull=True)
        | Q(score_computed_at__lt=F("updated_at"))
    )
    return _score_queryset(due, product_id, only_changed=True)[1]


def product_scoring_update(
    *, product: Product, actor, model: str | None = None, weights: dict | None = None
) -> Product:
    """Change a product's scoring model or weights (owners only); all its scores are recomputed."""
    require(actor, Action.MANAGE, product)
    errors = {}
    if model is not None and model not in scoring.MODELS:
        errors["scoring_model"] = f"Choose one of: {', '.join(scoring.MODELS)}."
    if weights is not None and (
        set(weights) != set(scoring.DEFAULT_WEIGHTS)
        or not all(isinstance(w, int | float) and not isinstance(w, bool) and 0 <= w <= 10 for w in weights.values())
    ):
        errors["score_weights"] = "Give business_value, time_criticality and risk_reduction, each from 0 to 10."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        before = {"scoring_model": product.scoring_model, "score_weights": dict(product.score_weights)}
        if model is not None:
            product.scoring_model = model
        if weights is not None:
            product.score_weights = {name: float(value) for name, value in weights.items()}
        product.scoring_version += 1
        product.save(update_fields=["scoring_model", "score_weights", "scoring_version"])
        old, new = changed(before, {"scoring_model": product.scoring_model, "score_weights": product.score_weights})
        if new:
            audit_record(product=product, actor=actor, action=AuditEvent.Action.SETTINGS_CHANGED, old=old, new=new)
        transaction.on_commit(lambda: enqueue_product_scores(product.pk), robust=True)
    return product
