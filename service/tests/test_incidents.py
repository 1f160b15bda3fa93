"""Incidents feed the debt that causes them: hours lost per sprint count as its interest."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from backlog.models import Item, ItemEvent
from backlog.services.items import item_create, item_update
from service.models import CauseInterest
from service.services.incidents import (
    cause_interest_refresh,
    causes_refresh,
    hours_per_sprint,
    ticket_hours_lost_set,
    ticket_link_cause,
)
from service.services.settings import service_settings_for
from service.services.tickets import ticket_resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def debt(product, owner):
    return item_create(product=product, actor=owner, kind="tech_debt", title="Flaky connection pool", interest_hours=2)


@pytest.fixture
def incidents(intake, owner, debt):
    """Three incidents caused by the debt, 1, 15 and 29 days ago, costing 10, 20 and 6 hours."""
    made = []
    for days, hours in ((1, 10), (15, 20), (29, 6)):
        with time_machine.travel(timezone.now() - timedelta(days=days), tick=False):
            ticket = intake(title=f"Pool exhausted {days}", urgency="high").ticket
        ticket_link_cause(item=ticket.item, actor=owner, cause=debt)
        ticket_resolve(item=ticket.item, actor=owner, hours_lost=Decimal(hours))
        made.append(ticket)
    return made


def test_hours_lost_are_counted_per_sprint(product, debt, incidents):
    sprints = hours_per_sprint(cause=debt, settings=service_settings_for(product), now=timezone.now())
    assert [(sprint.hours, sprint.incidents) for sprint in sprints] == [
        (Decimal(10), 1),
        (Decimal(20), 1),
        (Decimal(6), 1),
        (Decimal(0), 0),
        (Decimal(0), 0),
        (Decimal(0), 0),
    ]


def test_incident_hours_raise_the_interest_and_the_score(debt, incidents, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record = cause_interest_refresh(item_id=debt.pk)
    assert (record.given, record.evidence, record.applied) == (Decimal(2), Decimal("6.0"), Decimal("6.0"))
    item = Item.objects.get(pk=debt.pk)
    assert item.interest_hours == Decimal("6.0")
    assert item.score_breakdown["derived"]["time_criticality"] == {"value": 5, "why": "interest 6 h per sprint"}
    event = ItemEvent.objects.get(item=debt, data__changes__has_key="interest_hours")
    assert event.reason == "Hours lost to linked incidents: 6.0 h per sprint; given: 2.0 h."
    assert event.data["changes"]["interest_hours"] == ["2.0", "6.0"]  # decimals, as the history stores them


def test_a_higher_interest_given_by_people_stands(debt, incidents, owner):
    cause_interest_refresh(item_id=debt.pk)
    item_update(item=Item.objects.get(pk=debt.pk), actor=owner, changes={"interest_hours": Decimal(12)})
    record = cause_interest_refresh(item_id=debt.pk)
    assert record.given == Decimal(12)
    assert Item.objects.get(pk=debt.pk).interest_hours == Decimal(12)


def test_when_the_incidents_age_out_the_given_interest_returns(debt, incidents):
    cause_interest_refresh(item_id=debt.pk)
    causes_refresh(now=timezone.now() + timedelta(days=200))
    assert Item.objects.get(pk=debt.pk).interest_hours == Decimal(2)
    assert CauseInterest.objects.get(item=debt).evidence == 0


def test_linking_is_for_workers_and_within_the_product(intake, stakeholder, owner, debt):
    from accounts.tests.factories import ProductFactory

    ticket = intake().ticket
    with pytest.raises(PermissionDenied):
        ticket_link_cause(item=ticket.item, actor=stakeholder, cause=debt)
    elsewhere = ProductFactory()
    from accounts.models import Membership

    Membership.objects.create(product=elsewhere, user=owner, role="owner")
    other = item_create(product=elsewhere, actor=owner, kind="tech_debt", title="x", interest_hours=1)
    with pytest.raises(ValidationError):
        ticket_link_cause(item=ticket.item, actor=owner, cause=other)
    with pytest.raises(ValidationError):
        ticket_link_cause(item=ticket.item, actor=owner, cause=ticket.item)
    with pytest.raises(ValidationError):
        ticket_hours_lost_set(item=ticket.item, actor=owner, hours=Decimal(-1))


def test_linking_records_history_and_recounts_the_cause(intake, owner, debt, django_capture_on_commit_callbacks):
    ticket = intake().ticket
    ticket_hours_lost_set(item=ticket.item, actor=owner, hours=Decimal(60))
    with django_capture_on_commit_callbacks(execute=True):
        ticket_link_cause(item=ticket.item, actor=owner, cause=debt)
    assert ItemEvent.objects.get(item=ticket.item, data__changes__has_key="cause").data["changes"]["cause"] == [
        None,
        debt.key,
    ]
    assert Item.objects.get(pk=debt.pk).interest_hours == Decimal(10)  # 60 h over 6 sprints
