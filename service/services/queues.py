"""Queues: a product's kinds of service work, each with an owner."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Membership, Product, User
from accounts.permissions import Action, require
from service.models import Queue

QUEUE_FIELDS = ("name", "slug", "description", "owner")


def _check_owner(product: Product, owner: User) -> None:
    membership = Membership.objects.filter(product=product, user=owner).first()
    if membership is None or membership.role == Membership.Role.STAKEHOLDER:
        raise ValidationError({"owner": "A queue's owner is the product owner or a developer of this product."})


def _save(queue: Queue) -> Queue:
    queue.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            queue.save()
    except IntegrityError as taken:
        raise ValidationError({"slug": f"{queue.product.key} already has a queue {queue.slug}."}) from taken
    return queue


def queue_create(*, product: Product, actor: User, name: str, slug: str, owner: User, description: str = "") -> Queue:
    """Add a queue to a product (owners only)."""
    require(actor, Action.MANAGE, product)
    _check_owner(product, owner)
    return _save(Queue(product=product, name=name, slug=slug, owner=owner, description=description))


def queue_update(*, queue: Queue, actor: User, changes: dict[str, Any]) -> Queue:
    """Rename a queue, describe it or give it another owner (owners only)."""
    require(actor, Action.MANAGE, queue.product)
    unknown = set(changes) - set(QUEUE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    if "owner" in changes:
        _check_owner(queue.product, changes["owner"])
    for name, value in changes.items():
        setattr(queue, name, value)
    return _save(queue)
