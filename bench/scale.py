"""Scale benchmark on PostgreSQL (issue 17: a million items). Prints JSON (and writes
bench/results/scale.json).

    make bench-scale                    # or: python bench/scale.py [--sizes 1000,10000,100000,1000000]

In one run, on a fresh database (``BENCH_DATABASE_URL``, default ``onebacklog_bench_scale``), it
builds one product per size, all of ordered items, and measures at each size:

- moves (median and p99): to the top, before a random item, a block of 10 before a random item,
  to a random deep position N (N in the lower half), to the bottom; each through the service
  (``items_move``) and through the API's move endpoints (whose response carries the new position,
  checked against the one asked for);
- request paths, in this process through Django's full request handling (``django.test.Client``,
  signed in as the owner, ``bench/settings.py``): the backlog page's first screen, the API's first
  page and a page at 90 % (cursor), the item page of an item at 90 %, ``?count=true``, the
  suggested order (page and API), the review queue (page and API; 20 proposals waiting), applying
  the suggestion to 10 selected items, the refinement agenda and the debt report (page and API),
  and once the backlog page while the stored suggested positions are stale. Each has its median,
  p99 and, from one more request traced by ``tracemalloc``, the peak Python memory it added;
- whole-product jobs: the suggested-position refresh, the due-score refresh, a full score
  recompute after a weight change, a full rebalance. The recompute runs once more alone, against
  its SQL floors in the same run, each from a vacuumed table: one UPDATE writing the same rows
  (score, breakdown and time: ``backlog.score_sql.statement``, when it exists) and one writing
  the score column alone (``bench.scoring.FLOOR_SQL``); the ratio is to the first when present.
  While each job runs, a second process keeps moving items (to the top, before a random item);
  its p50/p99 are compared with the same moves when no job runs. A job shorter than ``--job-seconds`` is repeated
  until that long, so that the moves overlap it;
- the hourly respacing of long keys: 200 moves of random items, each right after the same item
  (each lands before the previous one, so the keys there grow past ``LONG_KEY``), then
  ``order_respace_long_keys``: its seconds, windows and the keys it rewrote;
- writers: moves per second and median latency of 32 threads (each with its own connection)
  moving items of one product for ``--writer-seconds``;
- at 100,000 (``--baseline-size``), the same position-N move and move to the top against
  django-ordered-model's ``to(n)`` and ``top()`` on a bench-only model (``bench.ordered_baseline``,
  installed only by ``bench/settings.py``, its table made here) with as many rows: the ratios.

How the products are built: up to ``--seed-max`` items (default 100,000) with the project's own
bulk seeding, ``demo_backlog_seed(only_ordered=True)``, then scored (``product_scores_recompute``:
unscored, the suggestion would have nothing to list or apply). A larger product (the 1,000,000) is copied
in SQL from the largest seeded product, ten ``INSERT … SELECT`` statements of up to 100,000 rows
each: every copy repeats the source's order, its items numbered after the previous copy's and
given fresh fixed-width rank keys (``backlog.ranking.rebalanced_key_sql`` over the position in the
whole product), so numbers and keys stay unique; the copies carry the source's labels but not its
history, in statements of ``--copy-chunk`` rows. While copying, the item table's triggers that
compute the search vector (the copies carry the source's) and those maintaining the
order-statistics blocks are paused; the blocks are rebuilt by the core's function for that
(``DERIVED_REBUILD_HOOKS``; with none, the block triggers stay on), chunk by chunk, and
``order_sql.position_of`` is checked against a plain count at a few keys; then the suggested
positions are stored, and the set-up's writes checkpointed (``settle``) before anything is measured.

The growth of each measure between sizes (and largest ÷ smallest) closes the JSON. The machine
is shared: compare ratios measured in the same run rather than single timings.
"""

import _thread
import argparse
import base64
import contextlib
import importlib
import inspect
import itertools
import json
import math
import multiprocessing
import os
import random
import signal
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, percentiles

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/onebacklog_bench_scale"
KEYS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# The function that rebuilds what is derived from the rank keys (the order-statistics blocks)
# after raw SQL wrote keys without their triggers, looked up by name. It is called under the
# product lock with the product's id: after each chunk of the SQL copies with ``low=`` the chunk's
# first key (the chunk is then the end of the order, so only it is counted). The JSON says which
# ("derived_rebuild"). While copying, the item table's triggers that write the derived table
# (``DERIVED_TABLE``) are paused.
DERIVED_REBUILD_HOOKS = [("backlog.order_sql", "blocks_recut")]
DERIVED_TABLE = ("backlog", "OrderBlock")


def log(message: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _function(module_name: str, function_name: str):
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    return getattr(module, function_name, None)


def rebuild_hook():
    """The first rebuild function that exists (see ``DERIVED_REBUILD_HOOKS``) and its name."""
    for module_name, function_name in DERIVED_REBUILD_HOOKS:
        function = _function(module_name, function_name)
        if function is not None:
            return function, f"{module_name}.{function_name}"
    return None, None


# Whole-product jobs, by the names the JSON uses (HOOK: the integrator adjusts if a job is renamed).
def job_refresh_suggestions(product) -> None:
    from backlog.services.suggestion import suggested_positions_refresh

    suggested_positions_refresh(product_id=product.pk)


def job_refresh_due_scores(product) -> None:
    from backlog.services.scores import scores_refresh_due

    scores_refresh_due(product_id=product.pk)


def job_recompute_scores(product) -> None:
    from accounts.models import Product
    from backlog.services.scores import product_scores_recompute

    # A weight change, as when an owner retunes the model: every score changes.
    weights = Product.objects.values_list("score_weights", flat=True).get(pk=product.pk) or {}
    names = ("business_value", "time_criticality", "risk_reduction")
    bumped = {name: (weights.get(name, 1.0) % 9) + 1.0 for name in names}
    Product.objects.filter(pk=product.pk).update(score_weights=bumped)
    product_scores_recompute(product_id=product.pk)


def job_rebalance(product) -> None:
    from backlog.services.ordering import order_rebalance

    order_rebalance(product=product)


JOBS = {
    "suggestion_refresh": job_refresh_suggestions,
    "due_score_refresh": job_refresh_due_scores,
    "score_recompute": job_recompute_scores,
    "rebalance": job_rebalance,
}


def timed_ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def sample(fn, *, most: int, least: int, budget: float, timed=timed_ms) -> list[float]:
    """Time ``fn`` at least ``least`` and at most ``most`` times, stopping once ``budget`` seconds
    are spent (slow operations at large sizes get fewer samples; the JSON says how many). ``timed``
    runs ``fn`` once and returns its milliseconds (by default the whole call)."""
    samples, spent = [], 0.0
    while len(samples) < most and (len(samples) < least or spent < budget):
        samples.append(timed(fn))
        spent += samples[-1] / 1000
    return samples


def run_limited(fn, limit: float) -> tuple[float, bool]:
    """Run ``fn`` for at most ``limit`` seconds: past that the main thread is interrupted (between
    statements: the transaction under way rolls back). Return the seconds and whether it finished."""
    done = threading.Event()

    def stop() -> None:
        if not done.is_set():
            _thread.interrupt_main()

    # A shell starts a background command with SIGINT ignored, and then interrupt_main() does
    # nothing (a 1,000,000-item rebalance ran on past its limit that way): take it back.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(limit, stop)
    start = time.perf_counter()
    timer.start()
    try:
        fn()
        done.set()
    except KeyboardInterrupt:
        if done.is_set():  # the limit came as it finished
            return time.perf_counter() - start, True
        return time.perf_counter() - start, False
    finally:
        done.set()
        timer.cancel()
    return time.perf_counter() - start, True


def added_peak_mb(fn) -> float:
    """The peak Python memory (tracemalloc) ``fn`` adds above what was allocated before it."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return round((peak - base) / 2**20, 1)


# The mover: a second process moving items while a job runs --------------------------------------


def _django_in_child(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _one_move(rng: random.Random, product, owner, ids: list[int], n: int) -> None:
    from backlog.services.ordering import Placement, items_move

    item_id, anchor = rng.sample(ids, 2)
    to = Placement.top() if n % 2 == 0 else Placement.before(anchor)
    items_move(product=product, actor=owner, item_ids=[item_id], to=to)


def mover_main(url: str, pipe) -> None:
    """In its own process: on ("run", product id, owner id, ids) move items until told "stop",
    then send back the latencies in ms; "quit" ends it."""
    _django_in_child(url)
    from accounts.models import Product, User

    rng = random.Random(7)
    pipe.send("ready")
    while True:
        try:
            command = pipe.recv()
        except EOFError:  # the benchmark ended without saying so (interrupted)
            return
        if command == "quit":
            return
        _, product_id, owner_id, ids = command
        product, owner = Product.objects.get(pk=product_id), User.objects.get(pk=owner_id)
        samples, n = [], 0
        pipe.send("running")
        while not pipe.poll():
            start = time.perf_counter()
            _one_move(rng, product, owner, ids, n)
            samples.append((time.perf_counter() - start) * 1000)
            n += 1
        pipe.recv()  # "stop"
        pipe.send(samples)


class Mover:
    def __init__(self, url: str):
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=mover_main, args=(url, child), daemon=True)
        self.process.start()
        assert self.pipe.recv() == "ready"

    def start(self, product, owner, ids: list[int]) -> None:
        self.pipe.send(("run", product.pk, owner.pk, ids))
        assert self.pipe.recv() == "running"
        time.sleep(0.2)  # its first moves are under way

    def stop(self) -> list[float]:
        self.pipe.send("stop")
        return self.pipe.recv()

    def close(self) -> None:
        self.pipe.send("quit")
        self.process.join(timeout=30)


# Building the products ------------------------------------------------------------------------


def copy_product(source, target, size: int, *, chunk: int, after_chunk) -> None:
    """Fill ``target`` with ``size`` ordered items copied from ``source`` in SQL (see the module
    docstring): copy after copy of the source's order, fresh numbers and rank keys, ``chunk``
    rows a statement; ``after_chunk(first key)`` runs after each."""
    from django.db import connection, transaction

    from backlog import ranking
    from backlog.models import Item, Label

    table = Item._meta.db_table
    with connection.cursor() as cursor:
        # Every column of the table, the search vector too (its trigger is paused while copying).
        columns = [
            column.name
            for column in connection.introspection.get_table_description(cursor, table)
            if column.name not in ("id", "product_id", "number", "rank")
        ]
    width = ranking.rebalance_width(size)
    for label in Label.objects.filter(product=source):
        Label.objects.get_or_create(product=target, name=label.name)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS scale_source")
        cursor.execute(
            f"CREATE TEMP TABLE scale_source AS SELECT id, row_number() OVER (ORDER BY rank) - 1 AS pos "
            f"FROM {table} WHERE product_id = %s AND rank IS NOT NULL",
            [source.pk],
        )
        cursor.execute("CREATE UNIQUE INDEX ON scale_source (pos)")
        cursor.execute("ANALYZE scale_source")
        cursor.execute("SELECT count(*) FROM scale_source")
        count = cursor.fetchone()[0]
        copies = math.ceil(size / count)
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        select = ", ".join(f"i.{connection.ops.quote_name(c)}" for c in columns)
        for k in range(copies):
            offset = k * count
            key = ranking.rebalanced_key_sql(f"{offset} + s.pos", width).replace("%", "%%")
            for low in range(0, min(count, size - offset), chunk):
                high = min(low + chunk, count, size - offset)
                with transaction.atomic():
                    cursor.execute(
                        f"INSERT INTO {table} (product_id, number, rank, {names}) "
                        f"SELECT %s, {offset} + s.pos + 1, {key}, {select} "
                        f"FROM scale_source s JOIN {table} i ON i.id = s.id WHERE s.pos >= %s AND s.pos < %s",
                        [target.pk, low, high],
                    )
                after_chunk(ranking.rebalanced_key(offset + low, width))
            cursor.execute(f"ANALYZE {table}")  # the next copy's statements planned on this product's rows
            log(f"  copy {k + 1}/{copies} done")
        through = Item.labels.through._meta.db_table
        cursor.execute(
            f"INSERT INTO {through} (item_id, label_id) "
            f"SELECT n.id, nl.id FROM scale_source s CROSS JOIN generate_series(0, %s) AS k(k) "
            f"JOIN {through} ol ON ol.item_id = s.id JOIN backlog_label l ON l.id = ol.label_id "
            f"JOIN backlog_label nl ON nl.product_id = %s AND nl.name = l.name "
            f"JOIN {table} n ON n.product_id = %s AND n.number = k.k * %s + s.pos + 1",
            [copies - 1, target.pk, target.pk, count],
        )
        cursor.execute("DROP TABLE scale_source")
    type(target).objects.filter(pk=target.pk).update(last_item_number=size)


def build_product(index: int, size: int, owner, contributor, source, args) -> tuple:
    """A product of ``size`` ordered items, seeded or copied; returns it, the build's figures."""
    from django.db import connection, transaction

    from accounts.models import Membership, Product
    from backlog.services.demo import demo_backlog_seed
    from backlog.services.scores import product_scores_recompute
    from backlog.services.suggestion import suggested_positions_refresh

    key = "SC" + KEYS[index]
    product = Product.objects.create(name=f"Scale {size:,}", key=key)
    Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
    Membership.objects.create(user=contributor, product=product, role=Membership.Role.DEVELOPER)
    figures: dict = {}
    start = time.perf_counter()
    if size <= args.seed_max:
        demo_backlog_seed(product=product, creators=[owner], count=size, only_ordered=True)
        # Scored, as a product in use is: with no scores the suggestion would list and apply
        # nothing (the copies of the 1,000,000 carry these scores, so it would at that size only).
        product_scores_recompute(product_id=product.pk)
        figures["built_by"] = "demo_backlog_seed, then product_scores_recompute"
    else:
        rebuild, figures["derived_rebuild"] = rebuild_hook()
        by_range = rebuild is not None and "low" in inspect.signature(rebuild).parameters
        spent = [0.0]

        def rebuild_from(low: str) -> None:
            """Rebuild the derived data of the part of the order from ``low`` (the chunk just
            copied, the last part of the order), or of the whole order."""
            begun = time.perf_counter()
            with transaction.atomic():
                Product.objects.select_for_update().get(pk=product.pk)
                rebuild(product.pk, **({"low": low} if low is not None else {}))
            spent[0] += time.perf_counter() - begun

        paused = paused_triggers(with_derived=rebuild is not None)
        figures["copied_with_triggers_paused"] = paused
        set_triggers(paused, enabled=False)
        with connection.cursor() as cursor:
            # Hundreds of small statements: compiling each (JIT, estimated on a product without
            # statistics yet) costs more than running it.
            cursor.execute("SET jit = off")
        try:
            copy_product(
                source,
                product,
                size,
                chunk=args.copy_chunk,
                after_chunk=rebuild_from if by_range else lambda low: None,
            )
        finally:
            set_triggers(paused, enabled=True)
            with connection.cursor() as cursor:
                cursor.execute("RESET jit")
        if rebuild is not None and not by_range:
            rebuild_from(None)
        figures["built_by"] = f"SQL copies of the {source.name} product"
        figures["derived_rebuild_seconds"] = round(spent[0], 2)
    figures["build_seconds"] = round(time.perf_counter() - start, 2)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE backlog_item")
        # And every other table the build wrote (labels' through table, order blocks, history…):
        # a bulk load is followed by ANALYZE, and this machine's PostgreSQL runs without autovacuum.
        # Without statistics the page's label look-up for 50 items read the whole through table
        # (50 ms once the 1,000,000 product's labels were in it).
        cursor.execute("ANALYZE")
    figures["positions_checked"] = check_positions(product, size)
    suggested_positions_refresh(product_id=product.pk)
    with connection.cursor() as cursor:
        # The refresh rewrote rows: vacuum again, as autovacuum would in production (it is off on
        # this machine's PostgreSQL), or the index-only counts fetch rows (moves 8.0 ms against
        # 5.3 ms at 100,000 in one run).
        cursor.execute("VACUUM ANALYZE backlog_item")
    settle()
    return product, figures


def settle() -> None:
    """Write out what the set-up just wrote (``CHECKPOINT``), before measuring: otherwise the
    checkpoint its write-ahead log calls for spreads over the measurements that follow (in one run
    the build of the scored 100,000 product had PostgreSQL checkpointing through its first two
    minutes of measurements). Not before the moves' quiet baseline or a job: right after a
    checkpoint every first write to a page logs the whole page, which would slow the baseline and
    flatter the ratios."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def check_positions(product, size: int, samples: int = 5) -> int:
    """Check ``order_sql.position_of`` against a plain count at a few random keys and the order's
    ends (after the SQL copies the derived data must agree with the keys); return how many."""
    from django.db import connection

    from backlog import order_sql
    from backlog.models import Item

    rng = random.Random(size)
    offsets = {0, size - 1, *(rng.randrange(size) for _ in range(samples))}
    with connection.cursor() as cursor:
        for offset in offsets:
            cursor.execute(
                f"SELECT rank FROM {Item._meta.db_table} WHERE product_id = %s AND rank IS NOT NULL "
                "ORDER BY rank LIMIT 1 OFFSET %s",
                [product.pk, offset],
            )
            (rank,) = cursor.fetchone()
            found = order_sql.position_of(product.pk, rank)
            assert found == offset + 1, f"position_of says {found} for the item at {offset + 1}"
    return len(offsets)


def paused_triggers(*, with_derived: bool) -> list[str]:
    """The item table's triggers paused while copying: those computing the search vector (the
    copies carry the source's) and, when a rebuild function exists, those writing the derived
    table (``DERIVED_TABLE``). Any other trigger stays on."""
    from django.apps import apps
    from django.db import connection

    from backlog.models import Item

    patterns = ["%search_vector%"]
    if with_derived:
        with contextlib.suppress(LookupError):
            patterns.append(f"%{apps.get_model(*DERIVED_TABLE)._meta.db_table}%")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_proc f ON f.oid = t.tgfoid "
            "WHERE t.tgrelid = %s::regclass AND NOT t.tgisinternal AND (f.proname || ' ' || f.prosrc) ILIKE ANY(%s) "
            "ORDER BY t.tgname",
            [Item._meta.db_table, patterns],
        )
        return [name for (name,) in cursor.fetchall()]


def set_triggers(names: list[str], *, enabled: bool) -> None:
    from django.db import connection

    from backlog.models import Item

    with connection.cursor() as cursor:
        for name in names:
            action = "ENABLE" if enabled else "DISABLE"
            cursor.execute(f'ALTER TABLE {Item._meta.db_table} {action} TRIGGER "{name}"')


# Measuring one size ---------------------------------------------------------------------------


def measure_size(product, size: int, owner, contributor, mover: Mover, args, rng: random.Random) -> dict:
    from django.db import connection
    from django.test import Client

    from backlog import jobs, order_sql
    from backlog.models import Item
    from backlog.services.items import item_create
    from backlog.services.ordering import Placement, items_move

    out: dict = {}
    ids = list(Item.objects.filter(product=product, rank__isnull=False).values_list("id", flat=True))
    assert len(ids) == size, (len(ids), size)
    client = Client()
    client.force_login(owner)

    def deep_n() -> int:
        return rng.randint(max(1, size // 2), size)

    # Moves through the service.
    service_moves = {
        "top": lambda: ([rng.choice(ids)], Placement.top()),
        "before_item": lambda: (lambda a, b: ([a], Placement.before(b)))(*rng.sample(ids, 2)),
        "block_of_10": lambda: (lambda s: (s[:10], Placement.before(s[10])))(rng.sample(ids, 11)),
        "position_n": lambda: ([rng.choice(ids)], Placement.at(deep_n())),
        "bottom": lambda: ([rng.choice(ids)], Placement.bottom()),
    }
    for name, make in service_moves.items():

        def move(make=make):
            item_ids, to = make()
            items_move(product=product, actor=owner, item_ids=item_ids, to=to)

        for _ in range(3):
            move()
        out[f"move_{name}_service"] = percentiles(
            sample(move, most=args.moves, least=args.min_samples, budget=args.budget)
        )
        log(f"  move_{name}_service {out[f'move_{name}_service']['median_ms']} ms")

    # Moves through the API (the response carries the new position).
    def api_move(body_for, block: bool = False):
        def run():
            item_ids, body, expected = body_for()
            if block:
                url = f"/api/v1/products/{product.key}/items/move/"
                body = {**body, "items": [str(pk) for pk in item_ids]}
            else:
                url = f"/api/v1/items/{item_ids[0]}/move/"
            response = client.post(url, body, content_type="application/json")
            assert response.status_code == 200, (url, response.status_code, response.content[:300])
            position = response.json()["position"]
            assert expected is None or position == expected, (position, expected)

        return run

    def top_body():
        return [rng.choice(ids)], {"to": "top"}, 1

    def before_body():
        a, b = rng.sample(ids, 2)
        return [a], {"to": "before", "anchor": str(b)}, None

    def block_body():
        chosen = rng.sample(ids, 11)
        return chosen[:10], {"to": "before", "anchor": str(chosen[10])}, None

    def position_body():
        n = deep_n()
        return [rng.choice(ids)], {"to": "position", "position": n}, n

    def bottom_body():
        return [rng.choice(ids)], {"to": "bottom"}, size

    api_moves = {
        "top": api_move(top_body),
        "before_item": api_move(before_body),
        "block_of_10": api_move(block_body, block=True),
        "position_n": api_move(position_body),
        "bottom": api_move(bottom_body),
    }
    for name, run in api_moves.items():
        for _ in range(3):
            run()
        out[f"move_{name}_api"] = percentiles(sample(run, most=args.moves, least=args.min_samples, budget=args.budget))
        log(f"  move_{name}_api {out[f'move_{name}_api']['median_ms']} ms")

    # Proposals for the review queue (scored as they are created).
    for n in range(args.proposals):
        item_create(
            product=product,
            actor=owner,
            into_order=False,  # a proposal, with its value inputs (a developer may not set them)
            kind="story",
            title=f"Scale proposal {n}",
            business_value=rng.choice([1, 2, 3, 5, 8, 13]),
            time_criticality=rng.choice([1, 2, 3, 5, 8, 13]),
            risk_reduction=rng.choice([1, 2, 3, 5, 8, 13]),
            estimate=rng.choice([1, 2, 3, 5, 8]),
        )

    # The backlog page while the stored suggested positions are stale (the moves above made them
    # so): one request, then one more traced for memory.
    def stale_page():
        jobs.enqueue_suggestions(product.pk)
        response = client.get(f"/p/{product.key}/")
        assert response.status_code == 200

    out["backlog_page_when_suggestions_stale"] = {
        **percentiles([timed_ms(stale_page)]),
        "added_peak_mb": added_peak_mb(stale_page),
    }
    log(f"  backlog_page_when_suggestions_stale {out['backlog_page_when_suggestions_stale']}")
    job_refresh_suggestions(product)
    settle()

    deep_rank = order_sql.ordered_slice(product.pk, offset=int(size * 0.9), limit=1)[0][1]
    deep_item = Item.objects.get(product=product, rank=deep_rank)
    deep_cursor = base64.b64encode(urlencode({"p": deep_rank}).encode()).decode()
    key = product.key
    pages = {
        "backlog_page_first_screen": f"/p/{key}/",
        "api_first_page": f"/api/v1/products/{key}/items/",
        "api_deep_page": f"/api/v1/products/{key}/items/?cursor={deep_cursor}",
        "item_page_deep_item": f"/p/{key}/{deep_item.number}/",
        "api_count_true": f"/api/v1/products/{key}/items/?count=true",
        "suggested_order_api": f"/api/v1/products/{key}/suggested-order/",
        "suggested_order_page": f"/p/{key}/suggested/",
        "review_queue_api": f"/api/v1/products/{key}/review-queue/",
        "review_queue_page": f"/p/{key}/review/",
        "refinement_agenda_api": f"/api/v1/products/{key}/refinement-agenda/",
        "refinement_agenda_page": f"/p/{key}/refinement/",
        "debt_report_api": f"/api/v1/products/{key}/debt-report/",
        "debt_report_page": f"/p/{key}/debt/",
    }
    for name, url in pages.items():

        def get(url=url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response

        if name == "review_queue_api":
            body = get().json()
            waiting = body["results"] if isinstance(body, dict) else body
            assert len(waiting) >= min(args.proposals, 20), len(waiting)
        get()  # warm-up
        out[name] = {
            **percentiles(sample(get, most=args.requests, least=args.min_samples, budget=args.budget)),
            "added_peak_mb": added_peak_mb(get),
        }
        log(f"  {name} {out[name]['median_ms']} ms, +{out[name]['added_peak_mb']} MB")

    def apply_to_ten():
        chosen = rng.sample(ids, 10)
        response = client.post(
            f"/api/v1/products/{key}/suggested-order/apply/",
            {"items": [str(pk) for pk in chosen]},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content[:300]

    apply_to_ten()
    out["apply_suggestion_to_10"] = {
        **percentiles(sample(apply_to_ten, most=args.requests, least=args.min_samples, budget=args.budget)),
        "added_peak_mb": added_peak_mb(apply_to_ten),
    }
    log(f"  apply_suggestion_to_10 {out['apply_suggestion_to_10']['median_ms']} ms")

    # Whole-product jobs, with moves from a second process during each, against none.
    mover.start(product, owner, ids)
    time.sleep(args.job_seconds)
    quiet = mover.stop()
    out["moves_without_job"] = percentiles(quiet)
    out["jobs"] = {}

    def vacuum() -> None:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE backlog_item")

    for name, job in JOBS.items():
        if name == "score_recompute":
            vacuum()
        mover.start(product, owner, ids)
        runs, finished = [], True
        begun = time.perf_counter()
        while finished and (not runs or time.perf_counter() - begun < args.job_seconds):
            seconds, finished = run_limited(lambda job=job: job(product), args.job_limit)
            runs.append(seconds)
        during = mover.stop()
        figures = {
            "seconds": round(sorted(runs)[len(runs) // 2], 3),
            "runs": len(runs),
            # False: stopped after --job-limit seconds (a chunked job keeps what it committed).
            "finished": finished,
            "moves_during": percentiles(during),
        }
        quiet_figures = out["moves_without_job"]
        figures["moves_p50_ratio"] = round(figures["moves_during"]["median_ms"] / quiet_figures["median_ms"], 2)
        figures["moves_p99_ratio"] = round(figures["moves_during"]["p99_ms"] / quiet_figures["p99_ms"], 2)
        out["jobs"][name] = figures
        log(f"  job {name} {figures}")
    out["jobs"]["suggestion_refresh"]["added_peak_mb"] = added_peak_mb(lambda: job_refresh_suggestions(product))
    out["respace_long_keys"] = measure_respace(product, owner, ids, rng)
    log(f"  respace_long_keys {out['respace_long_keys']}")

    # The floors of the recompute, each one UPDATE over the product from a vacuumed table: the
    # same rows (score, breakdown and time, with ``backlog.score_sql.statement`` when it exists)
    # and the score column alone (``bench.scoring.FLOOR_SQL``).
    vacuum()
    alone, finished = run_limited(lambda: job_recompute_scores(product), args.job_limit)
    out["jobs"]["score_recompute"]["finished_alone"] = finished
    floors = {}
    for name, statement in sql_floors(product).items():
        vacuum()
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(*statement)
        floors[name] = round(time.perf_counter() - start, 3)
    out["jobs"]["score_recompute"]["seconds_alone"] = round(alone, 3)
    floor = floors.get("floor_one_update_same_rows_seconds", floors["one_update_score_only_seconds"])
    out["jobs"]["score_recompute_sql_floor"] = {"seconds": floor, **floors}
    out["jobs"]["score_recompute_ratio_to_floor"] = round(alone / floor, 2)
    job_refresh_suggestions(product)

    vacuum()  # the writers start from a clean table, as the moves above did (not from the jobs' dead rows)
    out["writers"] = measure_writers(product, owner, ids, args.writers, args.writer_seconds)
    log(f"  writers {out['writers']}")
    return out


def measure_respace(product, owner, ids: list[int], rng: random.Random, moves: int = 200) -> dict:
    """What the hourly job does after ``moves`` items were moved, one after another, right after
    the same item (each lands before the previous one: the keys there grow past ``LONG_KEY``):
    the seconds of the respacing (``order_respace_long_keys``), its windows and the keys it
    rewrote around that item (a window is at most ``RESPACE_WINDOW_MOST`` items, so the keys read
    on either side cover any window), against the product's size."""
    from backlog import order_sql
    from backlog.models import LONG_KEY, Item
    from backlog.services import ordering
    from backlog.services.ordering import Placement, items_move

    moves = min(moves, len(ids) - 1)  # a small product (the smoke test's) moves each item at most once
    anchor, *moved = rng.sample(ids, moves + 1)
    for item_id in moved:
        items_move(product=product, actor=owner, item_ids=[item_id], to=Placement.after(anchor))
    rank = Item.objects.values_list("rank", flat=True).get(pk=anchor)
    reach = ordering.RESPACE_WINDOW_MOST + moves

    def around() -> dict[int, str]:
        return dict(
            order_sql.ordered_slice(product.pk, below=rank, descending=True, limit=reach)
            + order_sql.ordered_slice(product.pk, above=rank, limit=reach)
        )

    before = around()
    long_keys = sum(len(key) > LONG_KEY for key in before.values())
    start = time.perf_counter()
    windows = ordering.order_respace_long_keys(product=product)
    seconds = time.perf_counter() - start
    after = around()
    return {
        "moves_into_one_gap": moves,
        "keys_longer_than_long_key": long_keys,
        "windows": windows,
        "seconds": round(seconds, 3),
        "keys_rewritten": sum(before.get(pk) != key for pk, key in after.items()),
        "long_keys_left": order_sql.first_long_key(product.pk, LONG_KEY) is not None,
    }


def sql_floors(product) -> dict[str, tuple[str, list]]:
    """The floors' statements and parameters (see ``measure_size``)."""
    from django.utils import timezone

    from accounts.models import Product
    from backlog import score_sql
    from bench.scoring import FLOOR_SQL

    floors = {"one_update_score_only_seconds": (FLOOR_SQL, [product.pk])}
    if hasattr(score_sql, "statement") and hasattr(score_sql, "parameters"):
        current = Product.objects.get(pk=product.pk)
        params = score_sql.parameters(current.scoring_model, current.score_weights, timezone.now())
        floors["floor_one_update_same_rows_seconds"] = (
            score_sql.statement(current.scoring_model, "i.product_id = %s"),
            [*params, product.pk],
        )
    return floors


def measure_writers(product, owner, ids: list[int], writers: int, seconds: float) -> dict:
    """``writers`` threads (the concurrency tests' harness: each with its own database
    connection, started at once) moving items of one product for ``seconds``."""
    from config.tests.threads import run_in_threads

    results: list[list[float]] = [[] for _ in range(writers)]

    def work(index: int) -> None:
        rng = random.Random(index)
        deadline = time.perf_counter() + seconds
        n = 0
        while time.perf_counter() < deadline:
            results[index].append(timed_ms(lambda n=n: _one_move(rng, product, owner, ids, n)))
            n += 1

    start = time.perf_counter()
    errors = run_in_threads(work, writers)
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    samples = [ms for per in results for ms in per]
    return {"threads": writers, "moves_per_second": round(len(samples) / elapsed, 1), **percentiles(samples)}


class _Rollback(Exception):
    pass


def measure_move_floor(product, owner, ids: list[int], args, rng: random.Random) -> dict:
    """What the database alone needs for a position-N move: each sample's move is first made by
    the engine (``items_move``) with its statements recorded and then rolled back, and exactly
    those statements (the same parameters: the same key, history record and feed number) are run
    again from a second connection, each as a statement prepared on the server once with its plan
    kept (no planning after its first use, no Python between them), in one transaction that
    commits; only that replay is timed. The mark the engine leaves after the commit (one small
    upsert) is not included. Compared with the engine's own move, it shows what Python and planning
    add; with ``to(n)``, how far any client of these statements could go."""
    import re

    import psycopg2
    from django.db import connection, transaction

    from backlog import order_sql
    from backlog.models import Item
    from backlog.services.ordering import Placement, items_move

    raw = psycopg2.connect(**connection.get_connection_params())
    with raw.cursor() as cursor:
        # Each statement's plan made once and kept (PostgreSQL's default would plan some of them
        # again at every use, as it does the engine's own).
        cursor.execute("SET plan_cache_mode = force_generic_plan")
    names: dict[str, str] = {}  # statement → its prepared name
    size = len(ids)

    def record() -> tuple[list[tuple[str, list]], int, int]:
        """A position-N move's statements and parameters, the item and the position asked for."""
        statements: list[tuple[str, list]] = []

        def wrapper(execute, sql, params, many, context):
            assert not many, sql
            if not sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):  # this recording's, not the move's
                statements.append((sql, list(params or [])))
            return execute(sql, params, many, context)

        item_id, position = rng.choice(ids), rng.randint(max(1, size // 2), size)
        try:
            with transaction.atomic(), connection.execute_wrapper(wrapper):
                items_move(product=product, actor=owner, item_ids=[item_id], to=Placement.at(position))
                raise _Rollback
        except _Rollback:
            pass
        return statements, item_id, position

    def numbered(sql: str) -> str:
        """``sql`` with its placeholders as ``$1``, ``$2``, …"""
        count = itertools.count(1)
        return re.sub("%%|%s", lambda found: "%" if found.group() == "%%" else f"${next(count)}", sql)

    def replay(recorded: tuple[list[tuple[str, list]], int, int]) -> float:
        statements, item_id, position = recorded
        with raw.cursor() as cursor:
            for sql, _ in statements:
                if sql not in names:
                    names[sql] = f"floor_{len(names)}"
                    cursor.execute(f"PREPARE {names[sql]} AS {numbered(sql)}")
            raw.commit()
            start = time.perf_counter()
            for sql, params in statements:
                arguments = f" ({', '.join(['%s'] * len(params))})" if params else ""
                cursor.execute(f"EXECUTE {names[sql]}{arguments}", params or None)
            raw.commit()
            elapsed = (time.perf_counter() - start) * 1000
        moved = Item.objects.get(pk=item_id)  # the replay made the move the engine made
        assert order_sql.position_of(product.pk, moved.rank) == position, (item_id, position)
        return elapsed

    def recorded_then_replayed() -> float:
        return replay(record())

    try:
        for _ in range(3):  # the statements prepared, their plans settled
            recorded_then_replayed()
        samples = sample(
            recorded_then_replayed,
            most=args.moves,
            least=args.min_samples,
            budget=args.budget,
            timed=lambda fn: fn(),  # the replay's own time: not the recording's
        )
    finally:
        raw.close()
    return {**percentiles(samples), "statements": len(record()[0])}


def measure_ordered_model(size: int, ours: dict, args, rng: random.Random) -> dict:
    """django-ordered-model's ``to(n)`` and ``top()`` on ``size`` rows, against our moves."""
    from django.db import connection, transaction

    from bench.ordered_baseline.models import OrderedRow

    table = OrderedRow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
        cursor.execute(
            f"INSERT INTO {table} (title, \"order\") SELECT 'row ' || g, g - 1 FROM generate_series(1, %s) g", [size]
        )
        cursor.execute(f"VACUUM ANALYZE {table}")
    ids = list(OrderedRow.objects.values_list("pk", flat=True))

    def to_n():
        row = OrderedRow.objects.get(pk=rng.choice(ids))
        with transaction.atomic():
            row.to(rng.randint(size // 2, size - 1))

    def top():
        row = OrderedRow.objects.get(pk=rng.choice(ids))
        with transaction.atomic():
            row.top()

    to_n()
    figures = {
        "rows": size,
        "to_n": percentiles(sample(to_n, most=args.moves, least=args.min_samples, budget=args.budget)),
        "top": percentiles(sample(top, most=args.moves, least=args.min_samples, budget=args.budget)),
    }
    figures["ratio_to_n_over_ours_position_n"] = round(
        figures["to_n"]["median_ms"] / ours["move_position_n_service"]["median_ms"], 1
    )
    figures["ratio_top_over_ours_top"] = round(figures["top"]["median_ms"] / ours["move_top_service"]["median_ms"], 1)
    if "move_floor" in ours:
        figures["ratio_to_n_over_move_floor"] = round(figures["to_n"]["median_ms"] / ours["move_floor"]["median_ms"], 1)
    return figures


def growth(by_size: dict[int, dict]) -> dict:
    """Each measure's median (or seconds, moves/s) at each size over the previous size and over
    the smallest."""

    def flat(figures: dict, prefix: str = "") -> dict[str, float]:
        found = {}
        for name, value in figures.items():
            if isinstance(value, dict):
                if "median_ms" in value:
                    found[prefix + name] = value["median_ms"]
                elif "seconds" in value:
                    found[prefix + name] = value["seconds"]
                if "moves_per_second" in value:
                    found[prefix + name + ".moves_per_second"] = value["moves_per_second"]
                if name == "jobs":
                    found.update(flat(value, "jobs."))
        return found

    sizes = sorted(by_size)
    values = {size: flat(by_size[size]) for size in sizes}
    out: dict[str, dict[str, float]] = {}
    for name in values[sizes[0]]:
        ratios = {}
        for lower, higher in [*itertools.pairwise(sizes), *([(sizes[0], sizes[-1])] if len(sizes) > 2 else [])]:
            a, b = values[lower].get(name), values[higher].get(name)
            if a and b is not None:
                ratios[f"{higher}/{lower}"] = round(b / a, 2)
        out[name] = ratios
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000,1000000", help="ordered items per product, ascending")
    parser.add_argument("--seed-max", type=int, default=100_000, help="larger products are SQL copies (100,000)")
    parser.add_argument("--copy-chunk", type=int, default=20_000, help="rows per copying statement (20,000)")
    parser.add_argument("--baseline-size", type=int, default=100_000, help="size of the django-ordered-model run")
    parser.add_argument("--moves", type=int, default=40, help="most timed moves per kind (40)")
    parser.add_argument("--requests", type=int, default=20, help="most timed requests per path (20)")
    parser.add_argument("--min-samples", type=int, default=3, help="fewest samples of anything timed (3)")
    parser.add_argument("--budget", type=float, default=4.0, help="seconds after which sampling stops (4)")
    parser.add_argument("--proposals", type=int, default=20, help="proposals in the review queue (20)")
    parser.add_argument("--job-seconds", type=float, default=3.0, help="least time moves overlap each job (3)")
    parser.add_argument("--job-limit", type=float, default=240.0, help="seconds a job may run before it is stopped")
    parser.add_argument("--writers", type=int, default=32, help="concurrent writer threads (32)")
    parser.add_argument("--writer-seconds", type=float, default=4.0, help="how long the writers run (4)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "scale.json"), help="where the JSON goes")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    # Many API requests a minute from one user: measure the request, not the throttle.
    os.environ.setdefault("API_THROTTLE_RATE", "1000000/min")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    began = time.perf_counter()
    from _setup import setup_django

    setup_django(url)
    from django.db import connection

    from accounts.models import User
    from backlog.models import Item
    from bench.ordered_baseline.models import OrderedRow

    with connection.schema_editor() as editor:
        editor.create_model(OrderedRow)
    owner = User.objects.create(username="bench-owner")
    contributor = User.objects.create(username="bench-contributor")
    rng = random.Random(2026)
    mover = Mover(url)
    results: dict = {
        "database": f"PostgreSQL {connection.pg_version // 10000}",
        "sizes": sizes,
        "seed_max": args.seed_max,
        "by_size": {},
    }
    by_size: dict[int, dict] = {}
    source = None
    try:
        for index, size in enumerate(sizes):
            size_began = time.perf_counter()
            log(f"size {size:,}: building")
            product, built = build_product(index, size, owner, contributor, source, args)
            if size <= args.seed_max:
                source = product
            log(f"size {size:,}: built in {built['build_seconds']} s; measuring")
            figures = {**built, **measure_size(product, size, owner, contributor, mover, args, rng)}
            if size == args.baseline_size:
                ids = list(Item.objects.filter(product=product, rank__isnull=False).values_list("id", flat=True))
                figures["move_floor"] = measure_move_floor(product, owner, ids, args, rng)
                log(f"  move_floor {figures['move_floor']}")
                figures["django_ordered_model"] = measure_ordered_model(size, figures, args, rng)
                log(f"  django-ordered-model {figures['django_ordered_model']}")
            figures["size_seconds"] = round(time.perf_counter() - size_began, 1)
            by_size[size] = figures
            results["by_size"][str(size)] = figures
            # Written after every size, so that a long run's smaller sizes survive its end.
            Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    finally:
        mover.close()
    results["growth"] = growth(by_size)
    results["total_seconds"] = round(time.perf_counter() - began, 1)
    out = json.dumps(results, indent=2)
    print(out)
    Path(args.out).write_text(out + "\n")


if __name__ == "__main__":
    main()
