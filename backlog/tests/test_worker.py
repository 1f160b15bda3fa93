"""Background jobs for real: web code and a Celery worker in their own processes, a real Redis
broker and cache, and the test database on PostgreSQL (committed data, so every process sees it)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import redis
from django.db import connection

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory
from backlog.models import Item
from backlog.services.scores import scores_refresh_due
from backlog.tests.flaky_worker import FLAG, RECOMPUTE_PID, SLOW_RECOMPUTE

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def environment(redis_url: str, **extra: str) -> dict[str, str]:
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "LOG_LEVEL": "WARNING", **extra}


def run_web_code(code: str, redis_url: str) -> float:
    """Run ``code`` in a Django process configured with ``REDIS_URL`` (as the web app runs); return seconds."""
    started = time.monotonic()
    subprocess.run(  # noqa: S603 - our own manage.py with code written in this file
        [sys.executable, "manage.py", "shell", "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=environment(redis_url),
        check=True,
        timeout=120,
    )
    return time.monotonic() - started


@pytest.fixture
def redis_url():
    url = os.environ["TEST_REDIS_URL"]
    redis.Redis.from_url(url).flushdb()
    return url


def start_worker(redis_url: str, *pool: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own test app
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "backlog.tests.flaky_worker",  # the real app, with faults a test switches on
            "worker",
            *pool,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=environment(redis_url, **(env or {})),
    )


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def worker(redis_url):
    process = start_worker(redis_url, "--pool=solo")
    yield process
    stop(process)


@pytest.fixture
def prefork_worker(redis_url):
    """A worker as production runs it: jobs in a child process the parent replaces when it dies."""
    process = start_worker(redis_url, "--pool=prefork", "--concurrency=1")
    yield process
    stop(process)


@pytest.fixture
def product_and_owner():
    membership = MembershipFactory(role=Membership.Role.OWNER)
    return membership.product, membership.user


def wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_the_worker_scores_items_as_they_change(worker, redis_url, product_and_owner):
    product, owner = product_and_owner
    run_web_code(
        f"""
        from accounts.models import Product, User
        from backlog.services.items import item_create, item_update
        product, owner = Product.objects.get(pk={product.pk}), User.objects.get(pk={owner.pk})
        items = [item_create(product=product, actor=owner, kind="story", title=f"s{{n}}", business_value=8, estimate=2)
                 for n in range(5)]
        for estimate in range(1, 31):  # a burst of edits to one item
            item_update(item=items[0], actor=owner, changes={{"estimate": estimate}})
        """,
        redis_url,
    )
    first = Item.objects.filter(product=product).order_by("number").first()
    others = Item.objects.filter(product=product).exclude(pk=first.pk)
    assert wait_for(lambda: set(others.values_list("score", flat=True)) == {4.0})
    # The burst ends with the score of the item's last state.
    assert wait_for(lambda: Item.objects.get(pk=first.pk).score == round(8 / 30, 3))
    assert worker.poll() is None  # the worker is still running


def test_a_job_retried_by_the_worker_after_a_transient_failure(worker, redis_url, product_and_owner):
    """The first attempt loses its database connection; the retry scores the item all the same."""
    product, _ = product_and_owner
    item_id = Item.objects.create(product=product, number=1, title="x", business_value=5, status="proposed").pk
    redis.Redis.from_url(redis_url).set(FLAG, 1)
    run_web_code(
        f"""
        from backlog.tasks import score_item
        score_item.delay({item_id})
        """,
        redis_url,
    )
    assert wait_for(lambda: Item.objects.get(pk=item_id).score == 5.0)
    assert redis.Redis.from_url(redis_url).get(FLAG) is None  # the injected failure did happen


def test_with_the_broker_unreachable_saving_works_and_the_schedule_catches_up(product_and_owner):
    product, owner = product_and_owner
    seconds = run_web_code(
        f"""
        from accounts.models import Product, User
        from backlog.services.items import item_create, item_update
        product, owner = Product.objects.get(pk={product.pk}), User.objects.get(pk={owner.pk})
        item = item_create(product=product, actor=owner, kind="story", title="x", business_value=13)
        item_update(item=item, actor=owner, changes={{"estimate": 2}})
        """,
        "redis://127.0.0.1:1/0",  # nothing listens there
    )
    assert seconds < 60  # saving did not hang on the broker
    item = Item.objects.get(product=product)
    assert item.estimate == 2
    assert item.score is None
    assert scores_refresh_due(product_id=product.pk) == 1
    item.refresh_from_db()
    assert item.score == 6.5


def test_a_recompute_whose_worker_process_is_killed_is_done_all_the_same(prefork_worker, redis_url, product_and_owner):
    """kill -9 of the process running a whole-product recompute: the job is handed out again
    (rejected on worker loss, not acknowledged and dropped) and every item ends scored with the
    new weights, the product marked as recomputed with them."""
    product, owner = product_and_owner
    for number in range(1, 41):
        Item.objects.create(
            product=product, number=number, title=f"s{number}", kind="story", business_value=8, estimate=2
        )
    assert scores_refresh_due(product_id=product.pk) == 40  # scored with the default weights: 4.0
    flags = redis.Redis.from_url(redis_url)
    flags.set(SLOW_RECOMPUTE, 1)
    run_web_code(
        f"""
        from accounts.models import Product, User
        from backlog.services.scores import product_scoring_update
        product_scoring_update(product=Product.objects.get(pk={product.pk}), actor=User.objects.get(pk={owner.pk}),
                               weights={{"business_value": 3, "time_criticality": 1, "risk_reduction": 1}})
        """,
        redis_url,
    )
    assert wait_for(lambda: flags.get(RECOMPUTE_PID) is not None, 30)
    child = int(flags.get(RECOMPUTE_PID))
    assert child != prefork_worker.pid
    os.kill(child, signal.SIGKILL)

    def recomputed() -> bool:
        product.refresh_from_db()
        scored = set(Item.objects.filter(product=product).values_list("score", flat=True))
        return scored == {12.0} and product.scores_version == product.scoring_version

    assert wait_for(recomputed, 30)
    assert prefork_worker.poll() is None  # the worker replaced its child and goes on


def test_a_recompute_taken_by_a_worker_that_dies_whole_is_handed_out_after_the_visibility_timeout(
    redis_url, product_and_owner
):
    """kill -9 of a whole worker (nothing left to reject the job): the message it took goes back to
    the queue once the broker's visibility timeout (CELERY_VISIBILITY_TIMEOUT, here 3 s) has passed,
    and the next worker finishes the recompute."""
    product, owner = product_and_owner
    for number in range(1, 11):
        Item.objects.create(
            product=product, number=number, title=f"s{number}", kind="story", business_value=8, estimate=2
        )
    assert scores_refresh_due(product_id=product.pk) == 10
    flags = redis.Redis.from_url(redis_url)
    flags.set(SLOW_RECOMPUTE, 1)
    short = {"CELERY_VISIBILITY_TIMEOUT": "3"}
    first = start_worker(redis_url, "--pool=solo", env=short)
    try:
        run_web_code(
            f"""
            from accounts.models import Product, User
            from backlog.services.scores import product_scoring_update
            product_scoring_update(product=Product.objects.get(pk={product.pk}), actor=User.objects.get(pk={owner.pk}),
                                   weights={{"business_value": 3, "time_criticality": 1, "risk_reduction": 1}})
            """,
            redis_url,
        )
        assert wait_for(lambda: flags.get(RECOMPUTE_PID) is not None, 30)
        assert int(flags.get(RECOMPUTE_PID)) == first.pid
        first.kill()
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            stop(first)
    started = time.monotonic()
    second = start_worker(redis_url, "--pool=solo", env=short)
    try:
        assert wait_for(lambda: set(Item.objects.filter(product=product).values_list("score", flat=True)) == {12.0}, 60)
        print(f"handed out again after {time.monotonic() - started:.1f} s")
    finally:
        stop(second)
