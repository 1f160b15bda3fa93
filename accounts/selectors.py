from django.db.models import QuerySet

from accounts.models import Membership, Product, User


def products_for(*, user: User) -> QuerySet[Product]:
    """Return the products ``user`` is a member of."""
    return Product.objects.filter(memberships__user=user).order_by("name")


def product_members(*, product: Product) -> QuerySet[Membership]:
    return Membership.objects.filter(product=product).select_related("user").order_by("role", "user__username")
