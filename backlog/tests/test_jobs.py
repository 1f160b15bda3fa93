"""Queueing jobs and what they guarantee: no import cycle, lost recomputes redone by the schedule,
a status change landing while the item's score job runs leaves it scored."""

import ast
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory
from backlog import jobs, tasks
from backlog.models import Item
from backlog.services import scores
from backlog.services.items import item_create, item_transition
from backlog.services.scores import product_scoring_update

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    """The modules ``path`` imports anywhere (top level or inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_services_queue_jobs_without_importing_the_task_bodies():
    services = [*ROOT.glob("*/services/*.py")]
    assert services
    for path in services:
        assert not any(name.startswith("backlog.tasks") for name in _imports(path)), path
    # The queueing module imports neither side; the tasks import the services at the top.
    queueing = _imports(ROOT / "backlog" / "jobs.py")
    assert not any(name.startswith(("backlog.tasks", "backlog.services")) for name in queueing)
    top = {
        node.module
        for node in ast.parse((ROOT / "backlog" / "tasks.py").read_text()).body
        if isinstance(node, ast.ImportFrom)
    }
    assert "backlog.services" in top


def test_whether_jobs_run_in_process_is_decided_in_one_place():
    readers = [
        path.relative_to(ROOT).as_posix()
        for package in ("accounts", "backlog", "refinement", "config", "bench")
        for path in (ROOT / package).glob("**/*.py")
        if "tests" not in path.relative_to(ROOT).parts and "CELERY_TASK_ALWAYS_EAGER" in path.read_text()
    ]
    assert sorted(readers) == ["backlog/jobs.py", "config/settings.py"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.mark.django_db
def test_a_lost_whole_product_recompute_is_redone_by_the_schedule(product, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        story = item_create(product=product, actor=owner, kind="story", title="s", business_value=8, estimate=2)
        other = item_create(
            product=product, actor=owner, kind="story", title="p", business_value=2, risk_reduction=8, estimate=2
        )
    assert Item.objects.get(pk=story.pk).score == 4.0
    with django_capture_on_commit_callbacks(execute=False) as lost:  # the recompute never runs
        product_scoring_update(
            product=product, actor=owner, weights={"business_value": 2, "time_criticality": 1, "risk_reduction": 3}
        )
    assert len(lost) == 1
    product.refresh_from_db()
    assert product.scores_version < product.scoring_version
    assert Item.objects.get(pk=story.pk).score == 4.0  # still the old weights

    assert tasks.refresh_due_scores.apply().get() == 2  # the schedule sees the lag and redoes it

    assert Item.objects.get(pk=story.pk).score == 8.0
    assert Item.objects.get(pk=other.pk).score == 14.0  # (2×2 + 3×8) / 2
    product.refresh_from_db()
    assert product.scores_version == product.scoring_version
    assert tasks.refresh_due_scores.apply().get() == 0  # and only once


@pytest.mark.django_db
def test_a_finished_recompute_records_the_version_it_started_from(product, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        product_scoring_update(product=product, actor=owner, model="rice")
        product_scoring_update(product=product, actor=owner, model="wsjf")
    product.refresh_from_db()
    assert (product.scoring_version, product.scores_version) == (2, 0)  # behind: nothing ran in the request
    tasks.recompute_behind_scores()  # the embedded schedule's
    product.refresh_from_db()
    assert (product.scoring_version, product.scores_version) == (2, 2)


@pytest.mark.django_db
def test_seeding_queues_no_item_rescoring_until_it_ends(product, owner, django_capture_on_commit_callbacks):
    """Inside ``seeding_jobs`` (the demo commands, which recompute every score at their end) an edit
    queues no rescoring of its item; after it, edits do again."""
    with jobs.seeding_jobs(), django_capture_on_commit_callbacks(execute=True):
        held = item_create(product=product, actor=owner, kind="story", title="s", business_value=8, estimate=2)
    assert Item.objects.get(pk=held.pk).score is None
    with django_capture_on_commit_callbacks(execute=True):
        scored = item_create(product=product, actor=owner, kind="story", title="t", business_value=8, estimate=2)
    assert Item.objects.get(pk=scored.pk).score == 4.0


@pytest.mark.postgres  # on SQLite a job's read and write share one write-locked transaction
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mark_left_set", [False, True], ids=["status-change", "status-change-coalesced-away"])
def test_a_status_change_while_the_score_job_runs_leaves_the_item_scored(monkeypatch, mark_left_set):
    """A status change (here an open item started) between the job's read and its version-checked
    write: the write is skipped, and the item must be scored again at once, even when the change
    found a score job marked as queued and queued nothing itself. Accepting a proposal goes
    through the same ``item_transition_locked``."""
    membership = MembershipFactory(role=Membership.Role.OWNER)
    product, owner = membership.product, membership.user
    item = item_create(product=product, actor=owner, kind="story", title="x")  # open, in the order
    Item.objects.filter(pk=item.pk).update(business_value=8, estimate=2, score=None, score_computed_at=None)
    real_scored = scores._scored
    raced = []

    def accept_meanwhile() -> None:
        try:
            if mark_left_set:
                cache.add(jobs.PENDING.format(item.pk), 1)  # as if a job were queued already
            item_transition(item=item, actor=owner, to=Item.Status.IN_PROGRESS)
        finally:
            connection.close()

    def scored_then_raced(chunk, product, now):
        if not raced:  # the first job only: the accept commits after its read, before its write
            raced.append(True)
            thread = threading.Thread(target=accept_meanwhile)
            thread.start()
            thread.join()
        return real_scored(chunk, product, now)

    monkeypatch.setattr(scores, "_scored", scored_then_raced)
    tasks.score_item.apply(args=[item.pk])
    assert raced
    item.refresh_from_db()
    assert item.status == Item.Status.IN_PROGRESS
    assert item.score == 4.0
    assert item.score_computed_at >= item.updated_at  # scored after its last change


@pytest.mark.django_db
def test_every_status_change_queues_a_rescore(product, owner, monkeypatch, django_capture_on_commit_callbacks):
    from backlog.services import items as item_services

    item = item_create(product=product, actor=owner, kind="story", title="x")
    queued = []
    monkeypatch.setattr(item_services, "enqueue_item_score", lambda pk: queued.append(pk))
    with django_capture_on_commit_callbacks(execute=True):
        item_transition(item=item, actor=owner, to=Item.Status.ARCHIVED)
    assert queued == [item.pk]


@pytest.mark.django_db
def test_a_split_queues_a_rescore_of_the_original_too(product, owner, monkeypatch, django_capture_on_commit_callbacks):
    from refinement.services import split

    item = item_create(product=product, actor=owner, kind="story", title="big", estimate=8)
    queued = []
    monkeypatch.setattr(split, "enqueue_item_score", lambda pk: queued.append(pk))
    with django_capture_on_commit_callbacks(execute=True):
        parts = split.item_split(item=item, actor=owner, parts=[{"title": "one"}, {"title": "two"}])
    assert sorted(queued) == sorted([item.pk, *(part.pk for part in parts)])


@pytest.mark.django_db
def test_a_due_refresh_that_changes_no_score_marks_no_suggestion_stale(
    product, owner, django_capture_on_commit_callbacks
):
    """The schedule rescores defects every ten minutes; when none of their scores changed, the
    product's suggested positions are left alone (no whole-product refresh queued for nothing)."""
    from backlog.models import StaleSuggestions

    with django_capture_on_commit_callbacks(execute=True):
        defect = item_create(product=product, actor=owner, kind="defect", title="bug", severity="minor")
    StaleSuggestions.objects.all().delete()
    assert tasks.refresh_due_scores.apply().get() == 0
    assert not StaleSuggestions.objects.filter(product_id=product.pk).exists()
    Item.objects.filter(pk=defect.pk).update(created_at=timezone.now() - timedelta(days=100))
    assert tasks.refresh_due_scores.apply().get() == 1
    assert StaleSuggestions.objects.filter(product_id=product.pk).exists()
