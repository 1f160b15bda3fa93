"""Reading webhook endpoints and their delivery logs."""

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import Product
from webhooks.models import Attempt, Delivery, Endpoint


def endpoint_list(*, product: Product) -> QuerySet[Endpoint]:
    """The product's endpoints with their pending and failed delivery counts."""
    return Endpoint.objects.filter(product=product).annotate(
        pending=Count("deliveries", filter=Q(deliveries__state=Delivery.State.PENDING)),
        failed=Count("deliveries", filter=Q(deliveries__state=Delivery.State.FAILED)),
    )


def delivery_list(*, endpoint: Endpoint) -> QuerySet[Delivery]:
    """An endpoint's deliveries, newest first, each with its attempts."""
    return Delivery.objects.filter(endpoint=endpoint).prefetch_related(
        Prefetch("attempt_log", queryset=Attempt.objects.order_by("number"))
    )
