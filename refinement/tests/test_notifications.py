"""Notifications of a proposal's question, answer and decision: made by a job after commit, once,
only for someone who may still see the product; read in the inbox."""

import pytest
from django.test import Client

from accounts.models import Membership, Notification
from backlog.services.items import item_create
from refinement.services.notifications import QUESTION, proposal_notify
from refinement.services.proposals import proposal_accept, proposal_answer, proposal_ask, proposal_reject
from refinement.tasks import notify_proposal_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal(product, developer):
    return item_create(product=product, actor=developer, kind="story", title="Dark mode")


def inbox_of(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user).order_by("pk"))


def test_a_question_reaches_the_proposer_only_after_commit(
    proposal, owner, developer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        proposal_ask(item=proposal, actor=owner, question="Which screens?")
        assert not inbox_of(developer)  # the job runs after the commit, not in the request
    for callback in callbacks:
        callback()
    [notification] = inbox_of(developer)
    assert notification.kind == Notification.Kind.QUESTION and notification.read_at is None
    assert "Which screens?" in notification.text and proposal.key in notification.text
    assert notification.link == proposal.get_absolute_url()
    assert not inbox_of(owner)


def test_an_answer_reaches_the_asker(proposal, owner, developer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        proposal_ask(item=proposal, actor=owner, question="Which screens?")
        proposal_answer(item=proposal, actor=developer, answer="All of them.")
    [answer] = inbox_of(owner)
    assert answer.kind == Notification.Kind.ANSWER and "All of them." in answer.text


def test_acceptance_and_rejection_reach_the_proposer_with_why(
    product, proposal, owner, developer, django_capture_on_commit_callbacks
):
    other = item_create(product=product, actor=developer, kind="story", title="Light mode")
    with django_capture_on_commit_callbacks(execute=True):
        proposal_accept(item=proposal, actor=owner)
        proposal_reject(item=other, actor=owner, reason="We only ship one theme.")
    accepted, rejected = inbox_of(developer)
    assert accepted.kind == Notification.Kind.ACCEPTED and proposal.key in accepted.text
    assert rejected.kind == Notification.Kind.REJECTED and "We only ship one theme." in rejected.text


def test_a_job_run_twice_notifies_once(proposal, owner, developer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        question = proposal_ask(item=proposal, actor=owner, question="Which screens?")
    notify_proposal_event.apply(args=(QUESTION, question.pk)).get()
    assert len(inbox_of(developer)) == 1


def test_someone_removed_from_the_product_is_not_notified(
    product, proposal, owner, developer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        question = proposal_ask(item=proposal, actor=owner, question="Which screens?")
    Membership.objects.filter(product=product, user=developer).delete()
    for callback in callbacks:
        callback()
    assert not inbox_of(developer)
    assert proposal_notify(event=QUESTION, object_id=question.pk) == 0


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_inbox_shows_the_unread_count_and_opening_one_marks_it_read(
    product, proposal, owner, developer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        proposal_ask(item=proposal, actor=owner, question="Which screens?")
    client = signed_in(developer)
    page = client.get("/inbox/")
    assert page.context["unread_count"] == 1 and 'aria-label="1 unread"' in page.content.decode()
    [notification] = inbox_of(developer)
    opened = client.post(f"/inbox/{notification.pk}/")
    assert opened.status_code == 302 and opened["Location"] == proposal.get_absolute_url()
    assert Notification.objects.get(pk=notification.pk).read_at is not None
    assert client.get("/inbox/").context["unread_count"] == 0


def test_one_cannot_open_anothers_notification_and_mark_all_read_is_ones_own(
    proposal, owner, developer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        proposal_ask(item=proposal, actor=owner, question="Which screens?")
    [notification] = inbox_of(developer)
    assert signed_in(owner).post(f"/inbox/{notification.pk}/").status_code == 404
    signed_in(owner).post("/inbox/")
    assert Notification.objects.get(pk=notification.pk).read_at is None
    signed_in(developer).post("/inbox/")
    assert Notification.objects.get(pk=notification.pk).read_at is not None
