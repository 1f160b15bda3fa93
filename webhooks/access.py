"""Reaching a product's webhook endpoints and deliveries (owners): fetch and check in one call.
Outsiders get the same 404 as for something missing (``accounts.access.access_product``); members
who are not owners get 403."""

from typing import Any

from django.http import Http404

from accounts.access import access_product
from accounts.models import User
from accounts.permissions import Action
from webhooks.models import Delivery, Endpoint


def access_endpoint(user: User | Any, key: str, endpoint_id: int, action: Action = Action.MANAGE) -> Endpoint:
    product, _ = access_product(user, key, action)
    endpoint = Endpoint.objects.filter(product=product, pk=endpoint_id).first()
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    endpoint.product = product
    return endpoint


def access_delivery(user: User | Any, key: str, endpoint_id: int, delivery_id: int) -> Delivery:
    endpoint = access_endpoint(user, key, endpoint_id)
    delivery = Delivery.objects.filter(endpoint=endpoint, pk=delivery_id).first()
    if delivery is None:
        raise Http404("No such delivery.")
    delivery.endpoint = endpoint
    return delivery
