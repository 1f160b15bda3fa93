"""SLA clocks across business hours, weekends, pauses and breaches, with time frozen."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from backlog.models import Item, ItemEvent
from service.models import Ticket
from service.services.clocks import clocks_of
from service.services.settings import service_settings_for, service_settings_update
from service.services.tickets import clocks_check, ticket_acknowledge, ticket_resolve, ticket_resume, ticket_wait

pytestmark = pytest.mark.django_db
WEEKDAYS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def office_hours(product, owner):
    service_settings_update(
        product=product, actor=owner, changes={"business_hours": WEEKDAYS, "time_zone": "Europe/Berlin"}
    )


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_related("item__product").get(pk=ticket.pk)


def labels(ticket: Ticket, now: datetime) -> list[str]:
    ticket = fresh(ticket)
    settings = service_settings_for(ticket.item.product)
    return [clock.label for clock in clocks_of(ticket, settings, ticket.item.product, ticket.item.itil_priority, now)]


@pytest.fixture
def friday_p2(office_hours, intake):
    """A P2 (response 60 min, resolution 8 h) arriving Friday 2026-03-06 16:30 in Berlin (15:30 UTC)."""
    with time_machine.travel(utc("2026-03-06 15:30"), tick=False):
        return intake(affected_users=1500, urgency="medium").ticket


def test_clocks_run_in_business_hours_over_the_weekend(friday_p2):
    ticket = fresh(friday_p2)
    assert ticket.item.itil_priority == 2
    assert ticket.response_due_at == utc("2026-03-09 08:30")  # 30 min Friday, 30 min Monday from 09:00
    assert ticket.resolution_due_at == utc("2026-03-09 15:30")  # 30 min Friday, 7 h 30 Monday
    assert ticket.item.sla_due_at == ticket.response_due_at  # the earliest target still to be met
    assert labels(ticket, utc("2026-03-08 12:00")) == ["30 min left", "7 h 30 min left"]  # Sunday: standing


def test_waiting_on_the_reporter_stops_the_clocks_and_their_reply_restarts_them(friday_p2, owner, stakeholder):
    with time_machine.travel(utc("2026-03-09 08:15"), tick=False):  # Monday 09:15 Berlin: 45 min used
        ticket_wait(item=friday_p2.item, actor=owner, reason="Which browser?")
    waiting = fresh(friday_p2)
    assert (waiting.response_due_at, waiting.resolution_due_at, waiting.item.sla_due_at) == (None, None, None)
    assert waiting.elapsed_seconds == 45 * 60
    assert labels(waiting, utc("2026-03-10 08:00")) == ["15 min left (waiting)", "7 h 15 min left (waiting)"]
    with time_machine.travel(utc("2026-03-10 09:00"), tick=False):  # Tuesday 10:00 Berlin
        ticket_resume(item=friday_p2.item, actor=stakeholder, reply="Firefox")
    running = fresh(friday_p2)
    assert running.response_due_at == utc("2026-03-10 09:15")
    assert running.resolution_due_at == utc("2026-03-11 08:15")  # 7 h Tuesday to 17:00, 15 min Wednesday
    changes = [
        list(event.data["changes"])
        for event in ItemEvent.objects.filter(item=friday_p2.item, type="updated").order_by("created_at", "id")
    ]
    assert changes == [["waiting_since"], ["waiting_since"]]
    assert ItemEvent.objects.filter(item=friday_p2.item, reason="Which browser?").exists()


def test_a_breach_is_recorded_and_rescored_maximal(friday_p2, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert clocks_check(now=utc("2026-03-09 08:29")) == 0
        assert clocks_check(now=utc("2026-03-09 08:31")) == 1
    ticket = fresh(friday_p2)
    assert ticket.response_breached_at == utc("2026-03-09 08:30") and ticket.breached
    assert ticket.item.score_breakdown["derived"]["time_criticality"] == {"value": 20, "why": "SLA breached"}
    event = ItemEvent.objects.get(item=ticket.item, data__changes__has_key="response_breached_at")
    assert event.reason == "SLA response target breached." and event.actor is None
    assert labels(ticket, utc("2026-03-09 08:35")) == ["breached by 5 min", "6 h 55 min left"]
    assert clocks_check(now=utc("2026-03-09 08:40")) == 0  # recorded once


def test_acknowledging_meets_the_response_target(friday_p2, developer):
    with time_machine.travel(utc("2026-03-09 08:10"), tick=False):
        ticket_acknowledge(item=friday_p2.item, actor=developer)
    ticket = fresh(friday_p2)
    assert ticket.responded_at == utc("2026-03-09 08:10")
    assert ticket.item.status == Item.Status.IN_PROGRESS
    assert ticket.item.sla_due_at == ticket.resolution_due_at
    assert clocks_check(now=utc("2026-03-09 09:00")) == 0  # past the response due time: met, no breach
    assert labels(ticket, utc("2026-03-09 09:00"))[0] == "met"


def test_resolving_stops_the_clocks(friday_p2, developer):
    with time_machine.travel(utc("2026-03-09 10:00"), tick=False):
        ticket_resolve(item=friday_p2.item, actor=developer, resolution="Restarted the pool")
    ticket = fresh(friday_p2)
    assert ticket.item.status == Item.Status.DONE and ticket.resolved_at == utc("2026-03-09 10:00")
    assert ticket.running_since is None
    assert clocks_check(now=utc("2026-03-20 10:00")) == 0


def test_a_ticket_closed_elsewhere_stops_its_clocks(friday_p2, owner):
    from backlog.services.items import item_transition

    item_transition(item=friday_p2.item, actor=owner, to=Item.Status.ARCHIVED, reason="duplicate")
    clocks_check(now=utc("2026-03-20 10:00"))
    ticket = fresh(friday_p2)
    assert ticket.resolved_at is not None and ticket.resolution_breached_at is None


@pytest.mark.parametrize("work", [ticket_acknowledge, ticket_wait, ticket_resolve])
def test_stakeholders_do_not_work_tickets(friday_p2, stakeholder, work):
    with pytest.raises(PermissionDenied):
        work(item=friday_p2.item, actor=stakeholder)


def test_round_the_clock_without_business_hours(intake):
    with time_machine.travel(utc("2026-03-07 12:00"), tick=False):  # a Saturday
        ticket = intake(affected_users=1, urgency="low").ticket  # P5: 1440 min, 168 h
    assert ticket.response_due_at == utc("2026-03-08 12:00")
    assert ticket.resolution_due_at == utc("2026-03-14 12:00")


def test_new_thresholds_recalculate_priorities_in_a_job(product, owner, intake, django_capture_on_commit_callbacks):
    derived = intake(affected_users=80, urgency="medium").ticket  # medium impact: P3
    given = intake(affected_users=80, urgency="medium", impact="low").ticket  # P4, kept
    with django_capture_on_commit_callbacks(execute=True):
        service_settings_update(
            product=product, actor=owner, changes={"medium_impact_users": 10, "high_impact_users": 60}
        )
    assert Item.objects.get(pk=derived.pk).itil_priority == 2  # 80 ≥ 60: high × medium
    assert Item.objects.get(pk=given.pk).itil_priority == 4
    assert fresh(derived).priority_why["impact"]["why"] == "80 affected users ≥ 60"
    assert ItemEvent.objects.get(item_id=derived.pk, reason__startswith="New impact thresholds").data["changes"][
        "itil_priority"
    ] == [
        3,
        2,
    ]


def test_an_edit_through_the_backlog_keeps_the_clocks(friday_p2, owner):
    from backlog.services.items import item_update

    item_update(item=friday_p2.item, actor=owner, changes={"description": "More detail"})
    assert Item.objects.get(pk=friday_p2.pk).sla_due_at == utc("2026-03-06 23:30")  # the backlog's: created + 8 h
    clocks_check(now=utc("2026-03-06 16:00"))
    assert Item.objects.get(pk=friday_p2.pk).sla_due_at == utc("2026-03-09 08:30")  # the clock's again


def test_an_edited_urgency_sets_new_targets_from_the_time_used(friday_p2, owner):
    from backlog.services.items import item_update

    item_update(item=friday_p2.item, actor=owner, changes={"urgency": "low"})  # high × low: P3, 4 h / 24 h
    clocks_check(now=utc("2026-03-06 16:00"))
    ticket = fresh(friday_p2)
    assert ticket.item.itil_priority == 3
    assert ticket.response_due_at == utc("2026-03-09 11:30")  # 30 min Friday, 3 h 30 Monday
