from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from backlog import jobs, tasks
from backlog.models import Item
from backlog.services import scores
from backlog.services.items import item_create, item_update
from backlog.services.scores import product_scores_recompute, product_scoring_update, scores_refresh_due
from backlog.tasks import recompute_behind_scores

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def test_an_edit_rescores_the_item_after_commit(product, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = item_create(
            product=product, actor=owner, kind="story", title="x", business_value=8, time_criticality=5, estimate=2
        )
    item.refresh_from_db()
    assert item.score == 6.5  # (8 + 5 + 0) / 2
    assert item.score_breakdown["formula"] == "(8 + 5 + 0) / 2 = 6.5"
    assert item.score_computed_at is not None
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        item_update(item=item, actor=owner, changes={"estimate": 1})
    # the rescore is queued on commit, not before (beside the notifications' own job)
    [rescore] = [callback for callback in callbacks if callback.__qualname__.startswith("item_update.")]
    item.refresh_from_db()
    assert item.score == 6.5  # not yet: the job runs after the commit
    rescore()
    item.refresh_from_db()
    assert item.score == 13.0


def test_a_burst_of_edits_queues_one_job(product, owner, monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(tasks.score_item, "delay", lambda item_id: queued.append(item_id))
    item = item_create(product=product, actor=owner, kind="story", title="x")
    with django_capture_on_commit_callbacks(execute=True):
        for estimate in range(1, 21):
            item_update(item=item, actor=owner, changes={"estimate": estimate})
    assert queued == [item.pk]
    tasks.score_item.run(item.pk)  # the job runs: the next edit queues again
    with django_capture_on_commit_callbacks(execute=True):
        item_update(item=item, actor=owner, changes={"estimate": 40})
    assert queued == [item.pk, item.pk]


def test_saving_works_without_a_broker_and_the_schedule_catches_up(
    product, owner, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args):
        raise BrokerUnavailable("connection refused")

    monkeypatch.setattr(tasks.score_item, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        item = item_create(product=product, actor=owner, kind="story", title="x", business_value=13)
    item.refresh_from_db()
    assert item.score is None  # saved, not scored
    monkeypatch.undo()
    assert scores_refresh_due(product_id=product.pk) == 1
    item.refresh_from_db()
    assert item.score == 13.0
    assert scores_refresh_due(product_id=product.pk) == 0  # nothing stale any more


def test_the_schedule_rescores_what_time_changes(product, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        defect = item_create(product=product, actor=owner, kind="defect", title="bug", severity="minor")
        ticket = item_create(product=product, actor=owner, kind="operational", title="t", impact="low", urgency="low")
    defect.refresh_from_db()
    ticket.refresh_from_db()
    assert (defect.score, ticket.score) == (6.0, 1.0)  # minor 5 + age 1; P5 → 1
    past = timezone.now() - timedelta(days=100)
    Item.objects.filter(pk=defect.pk).update(created_at=past)
    Item.objects.filter(pk=ticket.pk).update(sla_due_at=timezone.now() - timedelta(minutes=1))
    scores_refresh_due(product_id=product.pk)
    defect.refresh_from_db()
    ticket.refresh_from_db()
    assert defect.score == 5 + 13  # 100 days old: time criticality 13
    assert ticket.score == 20.0  # SLA breached
    assert ticket.score_breakdown["derived"]["time_criticality"]["why"] == "SLA breached"


def _scored_then_reweighted(product, owner, capture) -> list[Item]:
    """Five stories scored 4.0 (8 / 2), then business value weighted twice: their scores are
    8.0 once the product is recomputed."""
    with capture(execute=True):
        items = [
            item_create(product=product, actor=owner, kind="story", title=f"s{n}", business_value=8, estimate=2)
            for n in range(5)
        ]
    with capture(execute=True):
        product_scoring_update(
            product=product, actor=owner, weights={"business_value": 2, "time_criticality": 1, "risk_reduction": 1}
        )
    return items


def test_a_model_or_weight_change_rescores_the_whole_product(product, owner, django_capture_on_commit_callbacks):
    items = _scored_then_reweighted(product, owner, django_capture_on_commit_callbacks)
    # In process the change itself recomputes nothing (no request runs a whole-product job): the
    # embedded schedule's task finds the product behind and recomputes it.
    assert set(Item.objects.filter(product=product).values_list("score", flat=True)) == {4.0}
    assert recompute_behind_scores() == [product.pk]
    assert set(Item.objects.filter(pk__in=[i.pk for i in items]).values_list("score", flat=True)) == {8.0}
    assert recompute_behind_scores() == []  # caught up
    with django_capture_on_commit_callbacks(execute=True):
        product_scoring_update(product=product, actor=owner, model="rice")
    recompute_behind_scores()
    assert set(Item.objects.filter(product=product).values_list("score", flat=True)) == {None}


def test_a_recompute_that_dies_midway_is_finished_by_the_schedules_next_run(
    product, owner, monkeypatch, django_capture_on_commit_callbacks
):
    """The embedded default's recompute runs in the served process: one that fails after its
    first chunk (an error, the process stopped) keeps the chunks it committed, leaves the product
    behind, and the schedule's next run recomputes it whole."""
    items = _scored_then_reweighted(product, owner, django_capture_on_commit_callbacks)
    monkeypatch.setattr(scores, "CHUNK_SIZE", 2)
    real_now = timezone.now
    chunks = []

    class DiesInTheSecondChunk:
        @staticmethod
        def now():
            chunks.append(1)  # each chunk takes its time once, inside its transaction
            if len(chunks) == 2:
                raise OperationalError("server closed the connection unexpectedly")
            return real_now()

    monkeypatch.setattr(scores, "timezone", DiesInTheSecondChunk)
    with pytest.raises(OperationalError):
        recompute_behind_scores.run()  # the task's body (its retries are the broker's)
    monkeypatch.setattr(scores, "timezone", timezone)
    assert sorted(Item.objects.filter(pk__in=[i.pk for i in items]).values_list("score", flat=True)) == [
        4.0,
        4.0,
        4.0,
        8.0,
        8.0,
    ]  # the first chunk's two, committed
    product.refresh_from_db()
    assert product.scores_version < product.scoring_version  # still behind
    assert recompute_behind_scores() == [product.pk]
    assert set(Item.objects.filter(pk__in=[i.pk for i in items]).values_list("score", flat=True)) == {8.0}
    assert recompute_behind_scores() == []


def test_with_a_broker_the_recompute_is_queued_and_the_schedule_leaves_it_to_the_worker(
    product, owner, settings, django_capture_on_commit_callbacks
):
    from unittest import mock

    settings.CELERY_TASK_ALWAYS_EAGER = False
    with mock.patch("backlog.jobs._send") as send:
        with django_capture_on_commit_callbacks(execute=True):
            product_scoring_update(product=product, actor=owner, model="rice")
        send.assert_called_once_with(jobs.SCORE_PRODUCT, product.pk)
        assert recompute_behind_scores() == []


@pytest.mark.parametrize("role", ["developer", "delegate", "stakeholder"])
def test_only_owners_change_the_scoring(product, role, request):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        product_scoring_update(product=product, actor=request.getfixturevalue(role), model="rice")


@pytest.mark.parametrize(
    "change",
    [
        {"model": "magic"},
        {"weights": {"business_value": 1}},
        {"weights": {**scores.scoring.DEFAULT_WEIGHTS, "risk_reduction": -1}},
    ],
)
def test_bad_scoring_settings_are_refused(product, owner, change):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        product_scoring_update(product=product, actor=owner, **change)


def test_a_retried_job_gives_the_same_result(product, owner, monkeypatch):
    item = item_create(product=product, actor=owner, kind="story", title="x", business_value=5, estimate=1)
    real = scores.item_score_refresh
    attempts = []

    def flaky(*, item_id):
        attempts.append(item_id)
        if len(attempts) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(item_id=item_id)

    monkeypatch.setattr(scores, "item_score_refresh", flaky)
    tasks.score_item.apply(args=[item.pk], throw=False)  # eagerly, the retry runs inside this call
    assert len(attempts) == 2
    item.refresh_from_db()
    assert item.score == 5.0
    first = (item.score, item.score_breakdown)
    assert tasks.score_item.apply(args=[item.pk]).get() == 5.0  # and running it again changes nothing
    item.refresh_from_db()
    assert (item.score, item.score_breakdown) == first


def test_a_full_recompute_is_chunked(product, owner, monkeypatch):
    monkeypatch.setattr(scores, "CHUNK_SIZE", 3)
    for n in range(7):
        item_create(product=product, actor=owner, kind="story", title=f"s{n}", business_value=3)
    assert product_scores_recompute(product_id=product.pk) == 7
    assert set(Item.objects.filter(product=product).values_list("score", flat=True)) == {3.0}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_full_recompute_commits_chunk_by_chunk(monkeypatch):
    """Outside a test transaction, as the worker runs it: each chunk streamed and committed."""
    from accounts.models import Membership
    from accounts.tests.factories import MembershipFactory

    membership = MembershipFactory(role=Membership.Role.OWNER)
    product, owner = membership.product, membership.user
    for n in range(12):
        item_create(product=product, actor=owner, kind="story", title=f"s{n}", business_value=3, estimate=3)
    Item.objects.filter(product=product).update(score=None)
    monkeypatch.setattr(scores, "CHUNK_SIZE", 5)
    assert product_scores_recompute(product_id=product.pk) == 12
    assert set(Item.objects.filter(product=product).values_list("score", flat=True)) == {1.0}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_due_refresh_pauses_between_chunks_and_the_recompute_does_not(monkeypatch):
    """Outside a transaction, as the worker runs them: the due refresh pauses after each chunk that
    wrote rows but the last (``transactions.paced``), so its writes leave the disk to moves part of
    the time; the full recompute, held to its one-UPDATE floor, writes its chunks back to back."""
    from accounts.models import Membership
    from accounts.tests.factories import MembershipFactory
    from backlog import transactions

    membership = MembershipFactory(role=Membership.Role.OWNER)
    product, owner = membership.product, membership.user
    for n in range(12):
        item_create(product=product, actor=owner, kind="defect", title=f"d{n}", severity="minor")
    monkeypatch.setattr(scores, "CHUNK_SIZE", 5)
    slept: list[float] = []
    monkeypatch.setattr(transactions.time, "sleep", slept.append)
    Item.objects.filter(product=product).update(score_computed_at=None)
    assert scores_refresh_due(product_id=product.pk) == 12
    assert len(slept) == 2 and all(0 < pause <= transactions.CHUNK_PAUSE_MOST for pause in slept), slept
    slept.clear()
    assert scores_refresh_due(product_id=product.pk) == 0  # chunks that write nothing: no pause
    assert slept == []
    assert product_scores_recompute(product_id=product.pk) == 12
    assert slept == []


@pytest.mark.postgres  # on SQLite the read and the write share one write-locked transaction
def test_a_score_computed_from_inputs_that_changed_meanwhile_is_not_written(product, owner):
    """A job that read an item before an edit must not overwrite the score of the edited item."""
    from django.utils import timezone as tz

    item = item_create(product=product, actor=owner, kind="story", title="x", business_value=1)
    stale_read = scores._scored(
        [scores.Inputs(*Item.objects.filter(pk=item.pk).values_list(*scores.SCORE_INPUTS).get())], product, tz.now()
    )
    item_update(item=item, actor=owner, changes={"business_value": 20})
    scores.item_score_refresh(item_id=item.pk)  # the edit's own job
    scores._write(stale_read, tz.now())  # the slow job finishes last
    item.refresh_from_db()
    assert item.score == 20.0


def test_the_due_refresh_writes_only_the_scores_that_change(product, owner, django_capture_on_commit_callbacks):
    """Time-sensitive items are rescored every run, but a row is written only when its score or
    breakdown changes (or it was edited since it was scored): ten minutes of nothing write nothing."""
    with django_capture_on_commit_callbacks(execute=True):
        defects = [
            item_create(product=product, actor=owner, kind="defect", title=f"bug {n}", severity="minor")
            for n in range(3)
        ]
        item_create(product=product, actor=owner, kind="story", title="story", business_value=3)
    assert scores_refresh_due(product_id=product.pk) == 0
    before = dict(Item.objects.filter(product=product).values_list("pk", "score_computed_at"))
    Item.objects.filter(pk=defects[0].pk).update(created_at=timezone.now() - timedelta(days=100))  # aged: changes
    assert scores_refresh_due(product_id=product.pk) == 1
    after = dict(Item.objects.filter(product=product).values_list("pk", "score_computed_at"))
    assert [pk for pk in before if before[pk] != after[pk]] == [defects[0].pk]
    assert Item.objects.get(pk=defects[0].pk).score == 5 + 13
    # An edit that leaves the score as it was is still marked fresh (no longer due as edited).
    Item.objects.filter(pk=defects[1].pk).update(updated_at=timezone.now())
    assert scores_refresh_due(product_id=product.pk) == 1
    assert scores_refresh_due(product_id=product.pk) == 0


@pytest.mark.postgres
def test_a_full_recompute_writes_key_ranges_of_chunk_size(product, owner, monkeypatch):
    """One UPDATE per range of CHUNK_SIZE ids of the product (the ids never read into Python)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(scores, "CHUNK_SIZE", 5)
    for n in range(12):
        item_create(product=product, actor=owner, kind="story", title=f"s{n}", business_value=3)
    with CaptureQueriesContext(connection) as captured:
        assert product_scores_recompute(product_id=product.pk) == 12
    updates = [query["sql"] for query in captured if query["sql"].startswith("UPDATE backlog_item i SET score")]
    assert len(updates) == 3 and all("i.id > " in sql and "ANY" not in sql for sql in updates)
    assert set(Item.objects.filter(product=product).values_list("score", flat=True)) == {3.0}


@pytest.mark.parametrize(
    ("items", "share", "most", "rows"), [(0, 100, 250, 10), (30, 100, 250, 10), (30, 2, 250, 15), (30, 2, 5, 5)]
)
def test_a_chunk_is_at_most_a_share_of_a_small_product(product, owner, monkeypatch, items, share, most, rows):
    """``chunk_rows``: the job's chunk, or the product's ``CHUNK_SHARE``-th when less (at least
    ``CHUNK_FEWEST``, never more than the job's)."""
    from backlog import selectors

    monkeypatch.setattr(selectors, "CHUNK_SHARE", share)
    for n in range(items):
        item_create(product=product, actor=owner, kind="story", title=f"s{n}")
    assert selectors.chunk_rows(product_id=product.pk, most=most) == rows


@pytest.mark.postgres
def test_a_recompute_of_a_small_product_writes_small_chunks(product, owner, monkeypatch):
    """A chunk's row locks make a move of one of its items wait: on a product of 30 items a
    recompute writes chunks of 10 (its 250 would be the whole product); on a product a hundred
    times larger, chunks of a hundredth (``selectors.CHUNK_SHARE`` = 100)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from backlog import selectors

    for n in range(25):
        item_create(product=product, actor=owner, kind="story", title=f"s{n}", business_value=3)

    def updates() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert product_scores_recompute(product_id=product.pk) == Item.objects.filter(product=product).count()
        return sum(query["sql"].startswith("UPDATE backlog_item i SET score") for query in captured)

    assert updates() == 3  # 10, 10, 5
    monkeypatch.setattr(selectors, "CHUNK_SHARE", 1)  # as if the product were a hundred times larger
    assert updates() == 2  # the 25, then the (empty) rest after the last id
