"""Intake through the service: calculated priority, placement, folding by fingerprint."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backlog.models import Item, ItemEvent
from backlog.selectors import item_position
from backlog.services.items import item_create
from backlog.services.suggestion import suggested_positions_refresh
from service.models import Occurrence, ServiceSettings, Ticket
from service.services.settings import service_settings_for, service_settings_update
from service.tests.factories import QueueFactory

pytestmark = pytest.mark.django_db


def test_a_ticket_becomes_an_operational_item_with_its_priority_calculated(intake, queue, owner):
    result = intake(title="Login fails", affected_users=1200, urgency="medium", reporter="ops@example.com")
    item = result.ticket.item
    assert not result.folded
    assert (item.kind, item.impact, item.urgency, item.itil_priority) == ("operational", "high", "medium", 2)
    assert item.status == Item.Status.OPEN and item.created_by == owner
    assert result.ticket.queue == queue and result.ticket.reporter == "ops@example.com"
    assert result.ticket.priority_why["formula"] == "impact high × urgency medium = P2"
    assert result.ticket.priority_why["impact"]["why"] == "1,200 affected users ≥ 1,000"
    assert Occurrence.objects.filter(ticket=result.ticket).count() == 1
    created = ItemEvent.objects.get(item=item, type=ItemEvent.Type.CREATED)
    assert created.data["status"] == "open" and created.data["placed"]["position"] == 1


def test_interrupts_go_to_the_top_of_the_order(intake, product, owner):
    stories = [item_create(product=product, actor=owner, kind="story", title=t, business_value=20) for t in "AB"]
    ticket = intake(affected_users=5000, urgency="high").ticket
    assert ticket.item.itil_priority == 1
    assert item_position(item=ticket.item) == 1
    assert item_position(item=Item.objects.get(pk=stories[0].pk)) == 2


def test_lower_priorities_are_placed_by_score(intake, product, owner):
    high = item_create(product=product, actor=owner, kind="story", title="High", business_value=20)
    low = item_create(product=product, actor=owner, kind="story", title="Low", business_value=1)
    Item.objects.filter(pk=high.pk).update(score=20)
    Item.objects.filter(pk=low.pk).update(score=1)
    ticket = intake(affected_users=100, urgency="medium").ticket  # P3: time criticality 8, score 8
    assert ticket.item.itil_priority == 3
    assert item_position(item=ticket.item) == 2  # between 20 and 1


def test_lower_priorities_are_proposed_when_the_product_says_so(intake, product, owner):
    service_settings_update(product=product, actor=owner, changes={"lower_priorities": "proposal"})
    low = intake(affected_users=3, urgency="low").ticket.item
    assert (low.itil_priority, low.status, low.rank) == (5, Item.Status.PROPOSED, None)
    interrupt = intake(affected_users=3000, urgency="high", fingerprint="other").ticket.item
    assert interrupt.status == Item.Status.OPEN


def test_a_given_impact_is_used(intake):
    item = intake(affected_users=1, impact="high", urgency="high").ticket.item
    assert item.itil_priority == 1


def test_the_queue_must_be_the_products(intake, owner):
    from accounts.tests.factories import ProductFactory

    other = QueueFactory(product=ProductFactory(), owner=owner)
    with pytest.raises(ValidationError) as refused:
        intake(queue=other)
    assert "queue" in refused.value.message_dict


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"urgency": "urgent"}, "urgency"), ({"impact": "huge"}, "impact"), ({"affected_users": -1}, "affected_users")],
)
def test_invalid_input_is_refused_by_field(intake, fields, field):
    with pytest.raises(ValidationError) as refused:
        intake(**fields)
    assert field in refused.value.message_dict


def test_same_fingerprint_folds_into_the_open_ticket(intake):
    first = intake(fingerprint="db-slow", affected_users=10, reporter="a", external_ref="MON-1")
    second = intake(fingerprint="db-slow", affected_users=30, reporter="b", external_ref="MON-2")
    assert second.folded and second.ticket.pk == first.ticket.pk
    ticket = Ticket.objects.get(pk=first.ticket.pk)
    assert (ticket.occurrence_count, ticket.affected_users) == (2, 40)
    assert ticket.last_seen_at >= ticket.first_seen_at
    assert list(ticket.occurrences.values_list("reporter", "external_ref")) == [("a", "MON-1"), ("b", "MON-2")]
    assert Item.objects.filter(kind="operational").count() == 1


def test_folding_raises_the_priority_and_records_it(intake):
    first = intake(fingerprint="db-slow", affected_users=40, urgency="medium")
    assert first.ticket.item.itil_priority == 4
    intake(fingerprint="db-slow", affected_users=10, urgency="medium")  # 50 users: medium impact
    item = Item.objects.get(pk=first.ticket.pk)
    assert (item.impact, item.itil_priority, item.version) == ("medium", 3, 2)
    event = ItemEvent.objects.filter(item=item, type=ItemEvent.Type.UPDATED).get()
    assert event.reason == "surge: impact medium × urgency medium = P3"
    assert event.data["changes"]["itil_priority"] == [4, 3]


def test_a_higher_urgency_in_an_occurrence_raises_the_ticket(intake):
    first = intake(fingerprint="x", affected_users=1, urgency="low")
    intake(fingerprint="x", affected_users=1, urgency="high")
    intake(fingerprint="x", affected_users=1, urgency="low")
    assert Item.objects.get(pk=first.ticket.pk).urgency == "high"


def test_a_closed_ticket_does_not_take_occurrences(intake, owner):
    from service.services.tickets import ticket_resolve

    first = intake(fingerprint="db-slow")
    ticket_resolve(item=first.ticket.item, actor=owner)
    again = intake(fingerprint="db-slow")
    assert not again.folded and again.ticket.pk != first.ticket.pk


def test_no_fingerprint_never_folds(intake):
    assert not intake().folded and not intake().folded


def test_a_surge_past_the_medium_impact_moves_one_item_up(intake, product, owner, django_capture_on_commit_callbacks):
    """60 tickets of one user each (the default medium impact starts at 50 users): one item, 60
    occurrences, from P4 to P3 and up the order."""
    for title in ("Feature A", "Feature B"):
        story = item_create(product=product, actor=owner, kind="story", title=title, business_value=5)
        Item.objects.filter(pk=story.pk).update(score=5)
    with django_capture_on_commit_callbacks(execute=True):
        first = intake(fingerprint="outage", affected_users=1, urgency="medium").ticket
    suggested_positions_refresh(product_id=product.pk)
    item = Item.objects.get(pk=first.pk)
    assert (item.itil_priority, item.score, item.suggested_position) == (4, 3, 3)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for _ in range(59):
            intake(fingerprint="outage", affected_users=1, urgency="medium")
    # Rescored once: when the priority changed, not per occurrence (and its watchers told once).
    told = [c for c in callbacks if c.__qualname__.startswith("item_events_written")]
    assert (len(callbacks) - len(told), len(told)) == (1, 1)
    suggested_positions_refresh(product_id=product.pk)
    ticket = Ticket.objects.get(pk=first.pk)
    item = Item.objects.get(pk=first.pk)
    assert (ticket.occurrence_count, ticket.affected_users) == (60, 60)
    assert Item.objects.filter(kind="operational").count() == 1
    assert (item.impact, item.itil_priority, item.score, item.suggested_position) == ("medium", 3, 8, 1)


def test_settings_are_created_with_the_defaults(product):
    settings = service_settings_for(product)
    assert (settings.high_impact_users, settings.medium_impact_users) == (1000, 50)
    assert settings.lower_priorities == ServiceSettings.LowerPriorities.SCORE


def test_only_owners_change_the_settings(product, developer, owner):
    with pytest.raises(PermissionDenied):
        service_settings_update(product=product, actor=developer, changes={"high_impact_users": 10})
    with pytest.raises(ValidationError):
        service_settings_update(
            product=product, actor=owner, changes={"high_impact_users": 10, "medium_impact_users": 10}
        )
    with pytest.raises(ValidationError):
        service_settings_update(product=product, actor=owner, changes={"business_hours": {"mon": [["17:00", "09:00"]]}})
    with pytest.raises(ValidationError):
        service_settings_update(product=product, actor=owner, changes={"time_zone": "Mars/Olympus"})
