"""Pages of webhooks (owners, under Team & settings): the endpoints, one endpoint with its
delivery log, and their buttons (test event, rotate secret, redeliver, remove)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import access_product
from accounts.permissions import Action
from webhooks.access import access_delivery, access_endpoint
from webhooks.models import ATTEMPTS, RETRY_DELAYS_SECONDS, SUBSCRIBABLE, Event
from webhooks.selectors import delivery_list, endpoint_list
from webhooks.services import (
    delivery_redeliver,
    endpoint_create,
    endpoint_delete,
    endpoint_secret_rotate,
    endpoint_test_send,
    endpoint_update,
)

EVENT_CHOICES = [(value, Event(value).label) for value in SUBSCRIBABLE]
SECRET_SHOWN = "webhook-secret"  # noqa: S105 (a session key, not a secret): holds: the secret of the endpoint just made or rotated


def _errors(invalid: ValidationError) -> dict[str, str]:
    return {name: " ".join(texts) for name, texts in invalid.message_dict.items()}


def _show_secret_once(request: HttpRequest, endpoint) -> None:
    request.session[SECRET_SHOWN] = {"id": endpoint.pk, "secret": endpoint.secret}


@login_required
def webhooks_page(request: HttpRequest, key: str) -> HttpResponse:
    """The product's endpoints and the form to add one (owners)."""
    product, actions = access_product(request.user, key, Action.MANAGE)
    errors: dict[str, str] = {}
    values = {"url": "", "description": "", "events": list(SUBSCRIBABLE)}
    if request.method == "POST":
        values = {
            "url": request.POST.get("url", ""),
            "description": request.POST.get("description", ""),
            "events": request.POST.getlist("events"),
        }
        try:
            endpoint = endpoint_create(product=product, actor=request.user, **values)
        except ValidationError as invalid:
            errors = _errors(invalid)
        else:
            _show_secret_once(request, endpoint)
            messages.success(request, f"Webhook to {endpoint.url} added.")
            return redirect("webhook-detail", product.key, endpoint.pk)
    context = {
        "product": product,
        "actions": actions,
        "section": "webhooks",
        "endpoints": endpoint_list(product=product),
        "event_choices": EVENT_CHOICES,
        "values": values,
        "errors": errors,
    }
    return render(request, "webhooks/webhooks.html", context, status=400 if errors else 200)


@login_required
def webhook_page(request: HttpRequest, key: str, endpoint_id: int) -> HttpResponse:
    """One endpoint: its settings, its secret once, its delivery log (owners)."""
    endpoint = access_endpoint(request.user, key, endpoint_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        changes = {
            "url": request.POST.get("url", ""),
            "description": request.POST.get("description", ""),
            "events": request.POST.getlist("events"),
            "enabled": request.POST.get("enabled") == "on",
        }
        try:
            endpoint = endpoint_update(endpoint=endpoint, actor=request.user, changes=changes)
        except ValidationError as invalid:
            errors = _errors(invalid)
        else:
            messages.success(request, "Webhook saved.")
            return redirect("webhook-detail", key.upper(), endpoint.pk)
    shown = request.session.pop(SECRET_SHOWN, None)
    secret = shown["secret"] if shown and shown.get("id") == endpoint.pk else None
    deliveries = Paginator(delivery_list(endpoint=endpoint), 25).get_page(request.GET.get("page"))
    context = {
        "product": endpoint.product,
        "section": "webhooks",
        "endpoint": endpoint,
        "secret": secret,
        "deliveries": deliveries,
        "event_choices": EVENT_CHOICES,
        "errors": errors,
        "retry_delays": RETRY_DELAYS_SECONDS,
        "attempts": ATTEMPTS,
    }
    return render(request, "webhooks/webhook.html", context, status=400 if errors else 200)


@login_required
@require_POST
def webhook_action(request: HttpRequest, key: str, endpoint_id: int, action: str) -> HttpResponse:
    """The endpoint's buttons: test, rotate (the secret), remove."""
    endpoint = access_endpoint(request.user, key, endpoint_id)
    product_key = endpoint.product.key
    if action == "test":
        endpoint_test_send(endpoint=endpoint, actor=request.user)
        messages.success(request, "Test event queued: its result shows in the delivery log below within seconds.")
    elif action == "rotate":
        _show_secret_once(request, endpoint_secret_rotate(endpoint=endpoint, actor=request.user))
        messages.success(request, "New secret made: deliveries are signed with it from now on.")
    elif action == "remove":
        endpoint_delete(endpoint=endpoint, actor=request.user)
        messages.success(request, f"Webhook to {endpoint.url} removed.")
        return redirect("webhooks", product_key)
    else:
        return HttpResponse("No such action.", status=404)
    return redirect("webhook-detail", product_key, endpoint.pk)


@login_required
@require_POST
def redeliver(request: HttpRequest, key: str, endpoint_id: int, delivery_id: int) -> HttpResponse:
    delivery = access_delivery(request.user, key, endpoint_id, delivery_id)
    try:
        delivery_redeliver(delivery=delivery, actor=request.user)
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
    else:
        messages.success(request, f"{delivery.event_id} queued again.")
    return redirect("webhook-detail", delivery.endpoint.product.key, delivery.endpoint.pk)
