from django.conf import settings

from accounts.models import Notification
from accounts.permissions import can_create_product
from accounts.selectors import products_for


def navigation(request) -> dict:
    """The signed-in user's products, for the product switcher."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"signup_open": settings.SIGNUP == "open"}
    return {
        "my_products": products_for(user=user).filter(archived_at=None),
        "can_create_product": can_create_product(user),
        "unread_count": Notification.objects.filter(user=user, in_app=True, read_at=None).count(),
    }
