"""Writes to products and memberships."""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Membership, Product, User
from accounts.permissions import Action, require


def product_create(*, name: str, key: str, owner: User, description: str = "") -> Product:
    """Create a product with ``owner`` as its product owner."""
    with transaction.atomic():
        product = Product(name=name, key=key, description=description)
        product.full_clean()
        product.save()
        Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
    return product


def membership_set(
    *,
    product: Product,
    actor: User,
    user: User,
    role: str,
    ordering_delegated: bool = False,
) -> Membership:
    """Give ``user`` a role in ``product`` (owners only); a product always keeps an owner."""
    require(actor, Action.MANAGE, product)
    with transaction.atomic():
        Product.objects.select_for_update().get(pk=product.pk)
        membership = Membership.objects.filter(product=product, user=user).first() or Membership(
            product=product, user=user
        )
        _keep_an_owner(product, membership, new_role=role)
        membership.role = role
        membership.ordering_delegated = ordering_delegated
        membership.full_clean(validate_unique=False)
        membership.save()
    return membership


def membership_remove(*, product: Product, actor: User, user: User) -> None:
    """Remove ``user`` from ``product`` (owners only); the last owner cannot be removed."""
    require(actor, Action.MANAGE, product)
    with transaction.atomic():
        Product.objects.select_for_update().get(pk=product.pk)
        membership = Membership.objects.filter(product=product, user=user).first()
        if membership is None:
            return
        _keep_an_owner(product, membership, new_role=None)
        membership.delete()


def _keep_an_owner(product: Product, membership: Membership, *, new_role: str | None) -> None:
    if membership.pk is None or membership.role != Membership.Role.OWNER or new_role == Membership.Role.OWNER:
        return
    other_owners = Membership.objects.filter(product=product, role=Membership.Role.OWNER).exclude(pk=membership.pk)
    if not other_owners.exists():
        raise ValidationError({"role": "A product needs at least one product owner; appoint another first."})
