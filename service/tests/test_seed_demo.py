import logging

import pytest
from django.core.management import CommandError, call_command

from backlog.models import Item
from service.models import Queue, Ticket
from service.services.demo import SURGE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _development(settings):
    settings.DEBUG = True


@pytest.mark.django_db(transaction=True)  # jobs run after each commit, in-process, as under `make run`
def test_the_service_demo_has_a_surge_a_breach_and_a_waiting_ticket(capfd, caplog):
    call_command("seed_demo", "--items", "20")
    capfd.readouterr()
    with caplog.at_level(logging.INFO):
        call_command("seed_service_demo")
    assert "OB: 4 queues and 5 tickets" in capfd.readouterr().out
    assert not [record for record in caplog.records if record.name.startswith("celery")]  # no job log lines
    assert Queue.objects.count() == 4
    surge = Ticket.objects.get(fingerprint="checkout-502")
    assert (surge.occurrence_count, surge.affected_users, surge.item.itil_priority) == (SURGE, 3 * SURGE, 2)
    breached = Ticket.objects.get(fingerprint="backup-replica")
    assert breached.breached
    assert breached.item.score_breakdown["derived"]["time_criticality"]["why"] == "SLA breached"
    assert Ticket.objects.filter(waiting_since__isnull=False).count() == 1
    assert breached.cause.kind == "tech_debt" and breached.cause.interest_hours == 3  # 18 h over 6 sprints > 2 given
    assert Item.objects.filter(kind="operational", ticket__isnull=False).count() == 5
    call_command("seed_service_demo")  # once
    assert Ticket.objects.count() == 5
    assert "already has service queues" in capfd.readouterr().out


def test_it_needs_the_demo_product():
    with pytest.raises(CommandError):
        call_command("seed_service_demo", "--key", "NOPE")
