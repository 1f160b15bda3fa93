"""Afterwards, an owner corrects the folding: splits an occurrence out into a ticket of its own,
or merges one ticket into another (its occurrences move; it leaves the backlog)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action, lock_product_for, require
from backlog.jobs import enqueue_item_score
from backlog.models import Item
from backlog.services.items import item_transition_locked
from backlog.services.ordering import lock_product
from service.models import Occurrence, Ticket
from service.priority import higher_level
from service.services.locks import item_lock
from service.services.record import step_record as _record
from service.services.settings import service_settings_for
from service.services.tickets import _apply_priority, _create, _priority


def occurrence_split(*, occurrence: Occurrence, actor: User, fingerprint: str = "") -> Ticket:
    """Split an occurrence out of its ticket into a new ticket (same queue); the ticket it left
    counts one occurrence and its affected users less, and its priority follows."""
    parent_id = occurrence.ticket_id
    item = Item.objects.select_related("product").get(pk=parent_id)
    require(actor, Action.REVIEW, item)
    with transaction.atomic():
        product = lock_product(item.product_id)  # a new item: the product first
        parent_item = item_lock(parent_id, product_id=product.pk)
        parent = Ticket.objects.select_related("queue").get(pk=parent_id)
        occurrence = Occurrence.objects.filter(pk=occurrence.pk, ticket_id=parent_id).first()
        if occurrence is None:
            raise ValidationError({"occurrence": "The occurrence is no longer on this ticket."})
        if parent.occurrence_count <= 1:
            raise ValidationError({"occurrence": "A ticket's only occurrence cannot be split out."})
        fingerprint = fingerprint.strip()
        if fingerprint and fingerprint == parent.fingerprint:
            raise ValidationError({"fingerprint": "Give the split-out ticket another fingerprint (or none)."})
        settings = service_settings_for(product)
        data = {
            "title": occurrence.title,
            "description": "",
            "affected_users": occurrence.affected_users,
            "urgency": occurrence.urgency,
            "impact": occurrence.impact,
            "reporter": occurrence.reporter,
            "external_ref": occurrence.external_ref,
        }
        new = _create(product, settings, actor, parent.queue, fingerprint, data, f"split from {parent_item.key}")
        new.occurrences.exclude(pk=occurrence.pk).delete()  # the original occurrence moves instead
        Occurrence.objects.filter(pk=occurrence.pk).update(ticket=new)
        Ticket.objects.filter(pk=new.pk).update(
            first_seen_at=occurrence.received_at, last_seen_at=occurrence.received_at
        )
        now = timezone.now()
        parent.item = parent_item
        parent.occurrence_count -= 1
        parent.affected_users = max(parent.affected_users - occurrence.affected_users, 0)
        parent.last_seen_at = parent.occurrences.aggregate(last=Max("received_at"))["last"] or parent.last_seen_at
        priority = _priority(parent, parent_item.urgency, settings)
        parent.priority_why = priority.why
        changed = _apply_priority(parent_item, parent, settings, priority, actor, now, step="split", may_enter=True)
        parent.save()
        _record(
            parent_item,
            actor,
            {"occurrences": [parent.occurrence_count + 1, parent.occurrence_count]},
            now,
            reason=f"An occurrence was split out into {new.item.key}.",
        )
        if changed:
            transaction.on_commit(lambda: enqueue_item_score(parent_id), robust=True)
    return new


def tickets_merge(*, source: Item, target: Item, actor: User) -> Ticket:
    """Merge ticket ``source`` into ``target``: its occurrences and affected users move over, the
    target's priority follows, and the source leaves the backlog (archived, or rejected if it was
    proposed) naming the target."""
    require(actor, Action.REVIEW, target)
    if source.pk == target.pk or source.product_id != target.product_id:
        raise ValidationError({"into": "Merge into another ticket of the same product."})
    with transaction.atomic():
        product, actions = lock_product_for(actor, target.product_id)  # the source leaves the order
        first, second = sorted((source.pk, target.pk))
        locked = {first: item_lock(first, product_id=product.pk), second: item_lock(second, product_id=product.pk)}
        source_item, target_item = locked[source.pk], locked[target.pk]
        tickets = {t.pk: t for t in Ticket.objects.filter(pk__in=[source.pk, target.pk]).select_related("queue")}
        if len(tickets) != 2:
            raise ValidationError({"into": "Both items must be service tickets."})
        for current in (source_item, target_item):
            if current.status not in (Item.Status.PROPOSED, Item.Status.OPEN, Item.Status.IN_PROGRESS):
                raise ValidationError({"into": f"{current.key} is {current.status}; merge open tickets only."})
        if source_item.status == Item.Status.IN_PROGRESS:
            raise ValidationError({"into": f"{source_item.key} is in progress: merge the other way round."})
        merged, kept = tickets[source.pk], tickets[target.pk]
        kept.item = target_item
        moved = Occurrence.objects.filter(ticket=merged).update(ticket=kept)
        settings = service_settings_for(product)
        now = timezone.now()
        kept.occurrence_count += moved
        kept.affected_users += merged.affected_users
        kept.last_seen_at = max(kept.last_seen_at, merged.last_seen_at)
        kept.impact_given = higher_level(kept.impact_given, merged.impact_given)
        priority = _priority(kept, higher_level(target_item.urgency, source_item.urgency), settings)
        kept.priority_why = priority.why
        _apply_priority(target_item, kept, settings, priority, actor, now, step="merge", may_enter=True)
        kept.save()
        _record(
            target_item,
            actor,
            {"occurrences": [kept.occurrence_count - moved, kept.occurrence_count]},
            now,
            reason=f"{source_item.key} was merged into it.",
        )
        closing = Item.Status.REJECTED if source_item.status == Item.Status.PROPOSED else Item.Status.ARCHIVED
        source_item.product = product
        item_transition_locked(
            item=source_item,
            actor=actor,
            actions=actions,
            to=closing,
            reason=f"Merged into {target_item.key}.",
            duplicate_of=target_item,
        )
        transaction.on_commit(lambda: enqueue_item_score(target_item.pk), robust=True)
    return kept
