"""Reading who hears of what: a user's preferences, an item's watchers, the people mentions name."""

from django.db.models import Count, Q, QuerySet

from accounts.models import Membership, Product, User
from backlog.models import Item
from notifications.models import Preferences, Watch


def preferences_for(*, user: User) -> Preferences:
    """The user's preferences (the defaults, unsaved, when they never changed them)."""
    return Preferences.objects.filter(user=user).first() or Preferences(user=user)


def watch_state(*, item: Item, user: User) -> tuple[bool, int]:
    """Whether ``user`` watches ``item``, and how many do: one query."""
    counts = Watch.objects.filter(item=item).aggregate(watchers=Count("pk"), mine=Count("pk", filter=Q(user=user)))
    return bool(counts["mine"]), counts["watchers"]


def people_of(*, product: Product) -> QuerySet[Membership]:
    """The product's members, by username: the people an @mention can name."""
    return (
        Membership.objects.filter(product=product, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )


def member_usernames(*, product_id: int) -> set[str]:
    """The usernames an @mention in this product's comments links to."""
    return set(
        Membership.objects.filter(product_id=product_id, user__is_active=True).values_list("user__username", flat=True)
    )
