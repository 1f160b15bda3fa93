"""Notifications benchmark on PostgreSQL. Prints JSON (and writes bench/results/notifications.json).

    make bench-notifications            # or: python bench/notifications.py [--watchers W] [--requests R]

One comment mentioning 10 members, posted through the API (Django's full request handling, as a
signed-in member) on an item with W watchers (default 1,000) and, alternating, on an item with
none: the request's medians and their ratio. Jobs are queued as in production, to a broker (an
in-memory Celery transport here, so no worker runs them during the request), and are then run
one by one to measure the fan-out job itself: its queries on items with 100 and W watchers (the
same: one membership-filtered query for the recipients, one bulk INSERT, the e-mails read and
marked in one query each) and its time, creating 10 mention notices (e-mailed: the default) and
one per watcher. The same for an edit of a watched item (the history listener's job).
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, percentiles, setup_django

MENTIONED = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=100, help="comments posted on each item")
    parser.add_argument("--jobs", type=int, default=20, help="fan-out jobs timed")
    args = parser.parse_args()
    setup_django(
        os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/onebacklog_bench_notifications")
    )
    from django.conf import settings
    from django.core import mail
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Membership, Notification, Product, User
    from backlog.models import ItemEvent
    from backlog.services.items import item_create, item_update
    from config.celery import app
    from notifications.models import Watch
    from notifications.tasks import announce_item_events
    from refinement.tasks import notify_comment

    # Jobs go to a broker, as with REDIS_URL: the request only queues them.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []

    product = Product.objects.create(name="Benchmark", key="BENCH")
    owner = User.objects.create(username="bench-owner", email="owner@example.com")
    Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
    people = User.objects.bulk_create(
        [User(username=f"member{n}", email=f"member{n}@example.com") for n in range(args.watchers + MENTIONED)]
    )
    Membership.objects.bulk_create(
        [Membership(user=user, product=product, role=Membership.Role.DEVELOPER) for user in people]
    )
    mentioned, watchers = people[:MENTIONED], people[MENTIONED:]
    watched = item_create(product=product, actor=owner, kind="story", title="Watched by many")
    small = item_create(product=product, actor=owner, kind="story", title="Watched by 100")
    quiet = item_create(product=product, actor=owner, kind="story", title="Watched by nobody")
    Watch.objects.bulk_create([Watch(item=watched, user=user) for user in watchers])
    Watch.objects.bulk_create([Watch(item=small, user=user) for user in watchers[:100]])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    body = "Could you review this? " + " ".join(f"@{user.username}" for user in mentioned)
    client = Client()
    client.force_login(owner)
    targets = {"watched": watched, "unwatched": quiet}
    comment_ids: dict[str, list[int]] = {name: [] for name in targets}

    def post(name: str) -> float:
        start = time.perf_counter()
        response = client.post(f"/api/v1/items/{targets[name].key}/comments/", {"body": body}, "application/json")
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 201, response.content
        comment_ids[name].append(response.json()["id"])
        return elapsed

    request_queries = {}
    for name in targets:
        with CaptureQueriesContext(connection) as captured:
            post(name)
        request_queries[name] = len(captured)
        for _ in range(5):  # warm-up
            post(name)
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for n in range(args.requests):
        for name in targets if n % 2 == 0 else reversed(list(targets)):
            samples[name].append(post(name))
    assert not Notification.objects.exists(), "a request made notifications: the fan-out must be the job's"

    def job(task, *job_args) -> tuple[float, int]:
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            task.apply(args=job_args).get()
            elapsed = (time.perf_counter() - start) * 1000
        return elapsed, len(captured)

    # The comment job, at 100 and W watchers (fresh comments: every notice is new).
    small_comment = client.post(f"/api/v1/items/{small.key}/comments/", {"body": body}, "application/json").json()
    _, queries_small = job(notify_comment, small_comment["id"])
    made_small = Notification.objects.filter(key__endswith=f":{small_comment['id']}").count()
    times, queries_large = [], set()
    for comment_id in comment_ids["watched"][-args.jobs :]:
        elapsed, queries = job(notify_comment, comment_id)
        times.append(elapsed)
        queries_large.add(queries)
    made_large = Notification.objects.filter(key__endswith=f":{comment_ids['watched'][-1]}").count()

    # An edit of a watched item: the history listener's job.
    edit_times, edit_queries = [], set()
    for n in range(min(args.jobs, 10)):
        item_update(item=watched, actor=owner, changes={"estimate": n + 1})
        watched.refresh_from_db()
        event = ItemEvent.objects.filter(item=watched, type="updated").latest("pk")
        elapsed, queries = job(announce_item_events, [event.pk])
        edit_times.append(elapsed)
        edit_queries.add(queries)
    item_update(item=small, actor=owner, changes={"estimate": 2})
    _, edit_queries_small = job(announce_item_events, [ItemEvent.objects.filter(item=small).latest("pk").pk])

    request_ms = {name: statistics.median(samples[name]) for name in targets}
    results = {
        "database": f"PostgreSQL {connection.pg_version // 10000}",
        "watchers": args.watchers,
        "mentioned": MENTIONED,
        "request": {
            "comment_on_watched_item": {**percentiles(samples["watched"]), "queries": request_queries["watched"]},
            "comment_on_unwatched_item": {**percentiles(samples["unwatched"]), "queries": request_queries["unwatched"]},
            "ratio_p50_watched_over_unwatched": round(request_ms["watched"] / request_ms["unwatched"], 3),
        },
        "comment_job": {
            "queries_at_100_watchers": queries_small,
            f"queries_at_{args.watchers}_watchers": sorted(queries_large),
            "notifications_at_100_watchers": made_small,
            f"notifications_at_{args.watchers}_watchers": made_large,
            f"time_at_{args.watchers}_watchers": percentiles(times),
        },
        "edit_job": {
            "queries_at_100_watchers": edit_queries_small,
            f"queries_at_{args.watchers}_watchers": sorted(edit_queries),
            f"time_at_{args.watchers}_watchers": percentiles(edit_times),
        },
        "emails_sent": len(mail.outbox),
    }
    out = json.dumps(results, indent=2)
    print(out)
    if args.watchers == 1000 and args.requests >= 100:
        (ROOT / "bench" / "results" / "notifications.json").write_text(out + "\n")


if __name__ == "__main__":
    main()
