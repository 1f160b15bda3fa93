"""An SLA breach recorded by the clocks reaches the ticket's assignee and the item's watchers (as
an SLA breach, not as an edit), once, and never someone who left the product."""

from datetime import UTC, datetime

import pytest
import time_machine

from accounts.models import Membership, Notification
from notifications.services import watch_set
from service.services.tickets import clocks_check, ticket_assign
from service.tests.factories import QueueFactory

pytestmark = pytest.mark.django_db


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def ticket(product, owner, developer):
    from service.services.tickets import ticket_intake

    queue = QueueFactory(product=product, owner=owner, slug="db", name="Database")
    with time_machine.travel(utc("2026-03-02 09:00"), tick=False):  # a Monday; 24x7 by default
        ticket = ticket_intake(
            product=product, sender=owner, queue=queue, title="Checkout down", urgency="high", affected_users=5000
        ).ticket
        ticket_assign(item=ticket.item, actor=owner, assignee=developer)
    return ticket


def test_a_breach_reaches_the_assignee_and_the_watchers_once(
    product, ticket, owner, developer, stakeholder, mailoutbox, django_capture_on_commit_callbacks
):
    watch_set(item=ticket.item, user=stakeholder, watching=True)
    with django_capture_on_commit_callbacks(execute=True):
        breaches = clocks_check(now=utc("2026-03-09 09:00"))
        clocks_check(now=utc("2026-03-09 09:10"))  # nothing new: nothing more
    assert breaches >= 1
    for user in (developer, stakeholder):
        notices = list(Notification.objects.filter(user=user))
        assert notices and {n.kind for n in notices} == {Notification.Kind.SLA_BREACH}, notices
        assert all(ticket.item.key in n.text and "SLA" in n.text for n in notices)
    assert len(Notification.objects.filter(user=developer)) == breaches
    # The owner created the ticket (so watches it) but is told like any watcher:
    assert {n.kind for n in Notification.objects.filter(user=owner)} <= {Notification.Kind.SLA_BREACH}
    assert {tuple(m.to) for m in mailoutbox} >= {(developer.email,), (stakeholder.email,)}


def test_an_assignee_who_left_the_product_is_not_told(product, ticket, developer, django_capture_on_commit_callbacks):
    Membership.objects.filter(product=product, user=developer).delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert clocks_check(now=utc("2026-03-09 09:00")) >= 1
    assert not Notification.objects.filter(user=developer).exists()
