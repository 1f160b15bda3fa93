"""Folding under real concurrency on PostgreSQL: threads with their own connections, committing."""

import pytest

from accounts.idempotency import Answer, idempotent
from accounts.models import IdempotencyKey, Membership
from accounts.tests.factories import MembershipFactory
from backlog.models import Item
from config.tests.threads import run_in_threads
from service.models import Occurrence, Ticket
from service.services.tickets import ticket_intake
from service.tests.factories import QueueFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setup():
    membership = MembershipFactory(role=Membership.Role.OWNER)
    queue = QueueFactory(product=membership.product, owner=membership.user)
    return membership.product, membership.user, queue


def test_twenty_concurrent_identical_intakes_make_one_item_with_twenty_occurrences(setup):
    product, owner, queue = setup

    def work(index: int) -> None:
        ticket_intake(
            product=product,
            sender=owner,
            queue=queue,
            title="Outage",
            urgency="high",
            affected_users=10,
            fingerprint="outage",
            reporter=f"sender {index}",
        )

    assert run_in_threads(work, 20) == []
    assert Item.objects.filter(product=product).count() == 1
    ticket = Ticket.objects.get(product=product)
    assert (ticket.occurrence_count, ticket.affected_users) == (20, 200)
    assert Occurrence.objects.filter(ticket=ticket).count() == 20


def test_eight_senders_over_several_fingerprints_make_one_item_each(setup):
    product, owner, queue = setup

    def work(index: int) -> None:
        for n in range(12):
            ticket_intake(
                product=product,
                sender=owner,
                queue=queue,
                title="Alert",
                urgency="low",
                affected_users=1,
                fingerprint=f"fp-{(index + n) % 4}",
            )

    assert run_in_threads(work, 8) == []
    counts = dict(Ticket.objects.filter(product=product).values_list("fingerprint", "occurrence_count"))
    assert counts == {f"fp-{n}": 24 for n in range(4)}
    assert Occurrence.objects.filter(ticket__product=product).count() == 96


def test_concurrent_first_uses_of_an_idempotency_key_do_the_work_once(setup):
    product, owner, queue = setup
    answers = []

    def work(index: int) -> None:
        def run() -> Answer:
            result = ticket_intake(
                product=product, sender=owner, queue=queue, title="X", urgency="low", fingerprint="k"
            )
            return Answer(201, {"id": result.ticket.pk, "occurrences": result.ticket.occurrence_count})

        answers.append(idempotent(sender="user:1", key="same", endpoint="POST /INTAKE/", body={"a": 1}, run=run))

    assert run_in_threads(work, 8) == []
    assert Occurrence.objects.filter(ticket__product=product).count() == 1
    assert IdempotencyKey.objects.count() == 1
    assert {answer.body["occurrences"] for answer in answers} == {1}
    assert sum(not answer.replayed for answer in answers) == 1
