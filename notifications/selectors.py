"""Reading who hears of what: a user's preferences, an item's watchers, the people mentions name."""

from django.db.models import QuerySet

from accounts.models import Membership, Product, User
from backlog.models import Item
from notifications.models import Preferences, Watch


def preferences_for(*, user: User) -> Preferences:
    """The user's preferences (the defaults, unsaved, when they never changed them)."""
    return Preferences.objects.filter(user=user).first() or Preferences(user=user)


def is_watching(*, item: Item, user: User) -> bool:
    return Watch.objects.filter(item=item, user=user).exists()


def watcher_count(*, item: Item) -> int:
    return Watch.objects.filter(item=item).count()


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
