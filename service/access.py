"""Reaching tickets and queues for a user, in one call (pages and API alike): a missing ticket
or queue and one of a product the user is not a member of raise the same 404."""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404

from accounts.access import access_product
from accounts.models import Product, User
from accounts.permissions import Action
from backlog.access import access_item
from service.models import IntakeToken, Queue, Ticket


def access_ticket(user: User | Any, reference: str, action: Action = Action.VIEW) -> tuple[Ticket, frozenset[Action]]:
    """Return the ticket of the item given by id or key (with its item and product) and the
    user's actions; 404 for a missing item, one without a ticket and a non-member alike."""
    item, actions = access_item(user, reference, action)
    ticket = Ticket.objects.select_related("queue", "assignee").filter(pk=item.pk).first()
    if ticket is None:
        raise Http404("No such ticket.")
    ticket.item = item
    return ticket, actions


def access_queue(
    user: User | Any, key: str, slug: str, action: Action = Action.VIEW
) -> tuple[Queue, frozenset[Action]]:
    """Return queue ``slug`` of product ``key`` and the user's actions; 404 as for products."""
    product, actions = access_product(user, key, action)
    queue = Queue.objects.select_related("owner").filter(product=product, slug=slug).first()
    if queue is None:
        raise Http404("No such queue.")
    queue.product = product
    return queue, actions


def queue_in(product: Product, slug: str, field: str = "queue") -> Queue:
    """Return queue ``slug`` of ``product``; a ValidationError naming ``field`` (with the queues
    there are) if it has none."""
    queue = Queue.objects.filter(product=product, slug=slug).first()
    if queue is None:
        known = list(Queue.objects.filter(product=product).values_list("slug", flat=True))
        hint = f" Its queues: {', '.join(known)}." if known else " It has no queues yet; an owner adds them."
        raise ValidationError({field: [f"No queue {slug!r} in {product.key}.{hint}"]})
    queue.product = product
    return queue


def intake_product(user: User | Any, token: IntakeToken | None, key: str) -> Product:
    """The product an intake goes to: the intake token's own (404 for any other key), else one
    the signed-in user may propose to (404 for outsiders, 403 for members who may not)."""
    if token is not None:
        if token.product.key != key.upper():
            raise Http404("No such product.")
        return token.product
    product, _ = access_product(user, key, Action.PROPOSE)
    return product
