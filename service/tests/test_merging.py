"""Correcting the folding afterwards: split an occurrence out, merge two tickets."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backlog.models import Item, ItemEvent
from service.models import Occurrence, Ticket
from service.services.merging import occurrence_split, tickets_merge

pytestmark = pytest.mark.django_db


def test_an_owner_splits_an_occurrence_out(intake, owner):
    first = intake(fingerprint="db", affected_users=40, urgency="medium", reporter="a").ticket
    intake(fingerprint="db", affected_users=20, urgency="medium", reporter="b")  # 60 users: P3
    stray = Occurrence.objects.get(reporter="b")
    new = occurrence_split(occurrence=stray, actor=owner)
    parent = Ticket.objects.get(pk=first.pk)
    assert (parent.occurrence_count, parent.affected_users, parent.item.itil_priority) == (1, 40, 4)
    new = Ticket.objects.get(pk=new.pk)
    assert (new.occurrence_count, new.affected_users, new.fingerprint) == (1, 20, "")
    assert list(new.occurrences.values_list("pk", flat=True)) == [stray.pk]
    assert new.first_seen_at == stray.received_at
    assert ItemEvent.objects.get(item=parent.item, data__changes__has_key="occurrences").reason == (
        f"An occurrence was split out into {new.item.key}."
    )


def test_the_only_occurrence_stays(intake, owner):
    ticket = intake(fingerprint="db").ticket
    with pytest.raises(ValidationError):
        occurrence_split(occurrence=ticket.occurrences.get(), actor=owner)


def test_an_owner_merges_two_tickets(intake, owner):
    kept = intake(fingerprint="db-a", affected_users=30, urgency="medium").ticket
    merged = intake(fingerprint="db-b", affected_users=30, urgency="medium").ticket
    intake(fingerprint="db-b", affected_users=5, urgency="high")
    result = tickets_merge(source=merged.item, target=kept.item, actor=owner)
    assert (result.occurrence_count, result.affected_users) == (3, 65)
    item = Item.objects.get(pk=kept.pk)
    assert (item.impact, item.urgency, item.itil_priority) == ("medium", "high", 2)
    gone = Item.objects.get(pk=merged.pk)
    assert gone.status == Item.Status.ARCHIVED and gone.rank is None
    closed = ItemEvent.objects.get(item=gone, type="status_changed")
    assert (closed.data["duplicate_of"], closed.reason) == (item.pk, f"Merged into {item.key}.")
    assert not intake(fingerprint="db-b").folded  # the merged ticket is closed: a new one starts


@pytest.mark.parametrize("role", ["developer", "stakeholder"])
def test_only_owners_and_delegates_correct_the_folding(intake, request, role):
    actor = request.getfixturevalue(role)
    a = intake(fingerprint="a").ticket
    b = intake(fingerprint="b").ticket
    intake(fingerprint="a")
    with pytest.raises(PermissionDenied):
        tickets_merge(source=b.item, target=a.item, actor=actor)
    with pytest.raises(PermissionDenied):
        occurrence_split(occurrence=a.occurrences.last(), actor=actor)


def test_a_delegate_may(intake, delegate):
    a = intake(fingerprint="a").ticket
    b = intake(fingerprint="b").ticket
    tickets_merge(source=b.item, target=a.item, actor=delegate)
    assert Ticket.objects.get(pk=a.pk).occurrence_count == 2
