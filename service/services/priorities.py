"""Recalculating the open tickets' priorities after a product's impact thresholds change."""

from django.db import transaction
from django.utils import timezone

from accounts.models import Product
from backlog import history
from backlog.models import Item
from backlog.services.scores import product_scores_outdate
from service.models import Ticket
from service.priority import priority_of
from service.services.clocks import item_sla_due, set_due_times
from service.services.settings import service_settings_for

CHUNK = 1000


def priorities_recalculate(*, product_id: int) -> int:
    """Recalculate the priority of every open ticket of the product whose impact comes from its
    affected users, chunk by chunk (bulk writes, each chunk one transaction under the product
    lock, so intake and folding wait for it instead of interleaving). Return how many changed."""
    changed_total = 0
    last_id = 0
    while True:
        with transaction.atomic():
            product = Product.objects.select_for_update().get(pk=product_id)
            settings = service_settings_for(product)
            ids = list(
                Ticket.objects.open()
                .filter(product_id=product_id, impact_given="", item_id__gt=last_id)
                .order_by("item_id")
                .values_list("item_id", flat=True)[:CHUNK]
            )
            if not ids:
                break
            last_id = ids[-1]
            items = {item.pk: item for item in Item.objects.select_for_update().filter(pk__in=ids)}
            tickets = list(Ticket.objects.filter(pk__in=ids))
            now = timezone.now()
            changed_items, changed_tickets, events = [], [], []
            for ticket in tickets:
                item = items[ticket.pk]
                item.product = product
                priority = priority_of(
                    affected_users=ticket.affected_users,
                    urgency=item.urgency,
                    high_users=settings.high_impact_users,
                    medium_users=settings.medium_impact_users,
                )
                if (priority.impact, priority.priority) == (item.impact, item.itil_priority):
                    continue
                before = {"impact": item.impact, "itil_priority": item.itil_priority, "sla_due_at": item.sla_due_at}
                item.impact, item.itil_priority = priority.impact, priority.priority
                ticket.priority_why = priority.why
                set_due_times(ticket, settings, product, priority.priority)
                item.sla_due_at = item_sla_due(ticket)
                item.version += 1
                item.updated_at = now
                changes = {
                    name: [old, getattr(item, name)] for name, old in before.items() if getattr(item, name) != old
                }
                event = history.updated(item=item, actor=None, changes=changes)
                event.reason = f"New impact thresholds: {priority.why['formula']}."
                events.append(event)
                changed_items.append(item)
                changed_tickets.append(ticket)
            Item.objects.bulk_update(
                changed_items, ["impact", "itil_priority", "sla_due_at", "version", "updated_at"], batch_size=500
            )
            Ticket.objects.bulk_update(
                changed_tickets, ["priority_why", "response_due_at", "resolution_due_at"], batch_size=500
            )
            history.write(events)
            changed_total += len(changed_items)
    if changed_total:
        product_scores_outdate(product_id=product_id)
    return changed_total
