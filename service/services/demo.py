"""Demo service queue for the demo product: queues, a surge folded into one ticket, a breached
SLA, a ticket waiting on its reporter, an acknowledged one, an incident linked to the debt that
causes it."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Product, User
from backlog.models import Item
from backlog.services.items import item_create
from service.models import Queue, Ticket
from service.services.clocks import item_sla_due, set_due_times
from service.services.incidents import cause_interest_refresh, ticket_hours_lost_set, ticket_link_cause
from service.services.queues import queue_create
from service.services.settings import service_settings_for
from service.services.tickets import clocks_check, ticket_acknowledge, ticket_intake, ticket_wait

SURGE = 200  # occurrences of one fingerprint


def service_demo_seed(*, product: Product, owner: User, developer: User, delegate: User) -> int:
    """Seed the demo (once: nothing happens if the product has queues). Return the tickets made."""
    if Queue.objects.filter(product=product).exists():
        return 0
    queues = {
        slug: queue_create(product=product, actor=owner, name=name, slug=slug, owner=queue_owner)
        for slug, name, queue_owner in [
            ("access", "Access", developer),
            ("database", "Database", delegate),
            ("infrastructure", "Infrastructure", owner),
            ("incidents", "Incidents", delegate),
        ]
    }

    def send(queue: str, **fields) -> Ticket:
        return ticket_intake(product=product, sender=owner, queue=queues[queue], via="demo", **fields).ticket

    for n in range(1, SURGE + 1):
        send(
            "incidents",
            title="Checkout returns 502 for some customers",
            urgency="high",
            affected_users=3,
            fingerprint="checkout-502",
            reporter="alertmanager",
            external_ref=f"ALERT-{n}",
        )
    breached = send(
        "database",
        title="Nightly backup job fails on the reporting replica",
        urgency="medium",
        affected_users=120,
        fingerprint="backup-replica",
        reporter="ops@example.com",
    )
    _started_ago(breached, timedelta(days=2))
    waiting = send(
        "access",
        title="New starter cannot reach the VPN",
        urgency="medium",
        affected_users=1,
        reporter="hr@example.com",
        description="Which laptop model? Asked the reporter.",
    )
    ticket_wait(item=waiting.item, actor=developer, reason="Asked which laptop model they use.")
    acknowledged = send(
        "infrastructure",
        title="Renew the TLS certificate of status.example.com",
        urgency="low",
        affected_users=5000,
        reporter="cert-monitor",
    )
    ticket_acknowledge(item=acknowledged.item, actor=developer)
    send("access", title="Grant read access to the billing dashboard", urgency="low", affected_users=1, reporter="sam")
    # The backups fail because of old debt: the incident names it, and its hours count as interest.
    debt = item_create(
        product=product,
        actor=owner,
        kind=Item.Kind.TECH_DEBT,
        title="Replace the hand-written backup scripts with the managed snapshots",
        interest_hours=Decimal(2),
        estimate=5,
    )
    ticket_link_cause(item=breached.item, actor=developer, cause=debt)
    ticket_hours_lost_set(item=breached.item, actor=developer, hours=Decimal(18))
    cause_interest_refresh(item_id=debt.pk)
    clocks_check()
    return Ticket.objects.filter(product=product).count()


def _started_ago(ticket: Ticket, age: timedelta) -> None:
    """Demo only: move a ticket's clock back, as if it had arrived ``age`` ago."""
    with transaction.atomic():
        item = Item.objects.select_for_update().select_related("product").get(pk=ticket.pk)
        ticket = Ticket.objects.get(pk=ticket.pk)
        started = timezone.now() - age
        ticket.first_seen_at = ticket.running_since = started
        set_due_times(ticket, service_settings_for(item.product), item.product, item.itil_priority)
        ticket.save()
        Item.objects.filter(pk=item.pk).update(created_at=started, sla_due_at=item_sla_due(ticket))
