"""The pages: your notification preferences, Watch / Unwatch on an item, a product's people
(where @mentions lead)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import access_product
from backlog.access import access_item_by_number
from config.pages import show_errors
from notifications.models import Channel, Digest, Event
from notifications.selectors import people_of, preferences_for
from notifications.services import preferences_update, watch_set


@login_required
def preferences_page(request: HttpRequest) -> HttpResponse:
    """Each event's channel (inbox, e-mail, both, none) and the e-mail digest."""
    if request.method == "POST":
        changes = {name: request.POST.get(name, "") for name in (*Event.values, "digest")}
        try:
            preferences_update(user=request.user, **changes)
        except ValidationError as invalid:
            show_errors(request, invalid)
        else:
            messages.success(request, "Notification preferences saved.")
        return redirect("notification-preferences")
    preferences = preferences_for(user=request.user)
    rows = [{"name": event.value, "label": event.label, "value": preferences.channel(event.value)} for event in Event]
    context = {
        "rows": rows,
        "channels": Channel.choices,
        "digests": Digest.choices,
        "digest": preferences.digest,
        "has_email": bool(request.user.email),
    }
    return render(request, "notifications/preferences.html", context)


@login_required
@require_POST
def item_watch(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """Start (watch=on) or stop (watch=off) watching the item."""
    item, _ = access_item_by_number(request.user, key, number)
    watching = request.POST.get("watch") == "on"
    watch_set(item=item, user=request.user, watching=watching)
    messages.success(
        request,
        f"You watch {item.key}: you hear of its changes and comments."
        if watching
        else f"You no longer watch {item.key}.",
    )
    return redirect(item.get_absolute_url())


@login_required
def people_page(request: HttpRequest, key: str) -> HttpResponse:
    """The product's members with their @handles (where a mention in a comment leads)."""
    product, _ = access_product(request.user, key)
    return render(request, "notifications/people.html", {"product": product, "people": people_of(product=product)})
