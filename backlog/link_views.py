"""The item page's links panel (registered through ``backlog.panels``) and its two forms: link
this item to another, remove a link. The services decide who may."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.permissions import Action
from backlog.access import access_item_by_number, access_link, item_in
from backlog.links import item_links, order_warnings
from backlog.models import Item
from backlog.panels import ItemPanel, item_panel_register
from backlog.services.links import ENDS, link_create, link_delete
from config.pages import show_errors

LINK_CHOICES = [("blocks", "blocks"), ("blocked_by", "is blocked by"), ("relates_to", "relates to")]


def links_panel(*, item: Item, user, actions: frozenset[Action]) -> dict[str, Any]:
    return {
        "links": item_links(item=item),
        "warnings": order_warnings(item),
        "can_link": Action.EDIT_WORK in actions,
        "choices": LINK_CHOICES,
    }


def register() -> None:
    item_panel_register(ItemPanel("links", "main", "backlog/_item_links.html", links_panel))


@login_required
@require_POST
def link_add(request: HttpRequest, key: str, number: int) -> HttpResponse:
    item, _ = access_item_by_number(request.user, key, number)
    end = request.POST.get("type", "")
    reference = request.POST.get("item", "").strip()
    try:
        if end not in ENDS:
            raise ValidationError({"type": "Choose how the items are linked."})
        if not reference:
            raise ValidationError({"item": "Give the other item's key, for example OB-7."})
        other = item_in(item.product, reference, "item")
        link_create(item=item, actor=request.user, link=end, other=other)
    except ValidationError as invalid:
        show_errors(request, invalid)
    else:
        messages.success(request, f"{item.key} {dict(LINK_CHOICES)[end]} {other.key}.")
    return redirect(item)


@login_required
@require_POST
def link_remove(request: HttpRequest, key: str, number: int, link_id: int) -> HttpResponse:
    item, _ = access_item_by_number(request.user, key, number)
    link = access_link(item, link_id)
    link_delete(link=link, actor=request.user)
    messages.success(request, "Link removed.")
    return redirect(item)
