from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import AuditEvent, Invitation, Membership, Product, User


def products_for(*, user: User) -> QuerySet[Product]:
    """Return the products ``user`` is a member of, each annotated with the user's role."""
    return (
        Product.objects.filter(memberships__user=user)
        .annotate(my_role=F("memberships__role"), my_ordering_delegated=F("memberships__ordering_delegated"))
        .order_by("name")
    )


def product_members(*, product: Product) -> QuerySet[Membership]:
    return Membership.objects.filter(product=product).select_related("user").order_by("role", "user__username")


def open_invitations(*, product: Product) -> QuerySet[Invitation]:
    """The product's invitations not yet accepted, withdrawn or expired."""
    return (
        Invitation.objects.filter(product=product, accepted_at=None, revoked_at=None, expires_at__gt=timezone.now())
        .select_related("product", "invited_by")
        .order_by("-created_at")
    )


def audit_events(*, product: Product) -> QuerySet[AuditEvent]:
    """The product's audit trail, newest first."""
    return AuditEvent.objects.filter(product=product).select_related("actor").order_by("-at", "-pk")
