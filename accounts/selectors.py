from django.db.models import F, QuerySet

from accounts.models import Membership, Product, User


def products_for(*, user: User) -> QuerySet[Product]:
    """Return the products ``user`` is a member of, each annotated with the user's role."""
    return (
        Product.objects.filter(memberships__user=user)
        .annotate(my_role=F("memberships__role"), my_ordering_delegated=F("memberships__ordering_delegated"))
        .order_by("name")
    )


def product_members(*, product: Product) -> QuerySet[Membership]:
    return Membership.objects.filter(product=product).select_related("user").order_by("role", "user__username")
