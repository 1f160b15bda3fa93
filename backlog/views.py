"""The backlog pages: the ordered list (filtered, paged, reordered by owners), items, the suggestion.

Reordering in the page calls the REST API (same services, same rules); these views render.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import access_product
from accounts.models import Product
from accounts.permissions import Action
from backlog import history
from backlog.access import access_item_by_number, access_saved_view, transitions_for
from backlog.exceptions import VersionConflict
from backlog.forms import ItemForm
from backlog.jobs import suggestions_refreshing
from backlog.links import kept_below, order_warnings
from backlog.models import Item, Label, SavedView
from backlog.panels import item_panels
from backlog.readiness import readiness
from backlog.selectors import item_history, item_list, item_position, saved_views_for
from backlog.services.imports import can_import
from backlog.services.items import item_create, item_transition, item_update
from backlog.services.saved_views import (
    can_change_saved_view,
    saved_view_create,
    saved_view_delete,
    saved_view_update,
)
from backlog.services.suggestion import most_moved, order_apply_suggestion
from backlog.themes import theme_list
from config.numbers import whole_number, whole_numbers
from config.pages import show_errors

PAGE_SIZE = 50
SUGGESTED_PAGE_SIZE = 100  # the suggested-order page's largest drifts
STATUS_CHOICES = [("", "The backlog (open, in progress)"), *Item.Status.choices]


def _form_errors(form, invalid: ValidationError) -> None:
    if hasattr(invalid, "error_dict"):
        for field, errors in invalid.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, invalid.messages)


class BacklogPage:
    """One screen of the backlog page: the shared list (``backlog.selectors.item_list``, the API's
    parameters) read leniently (a parameter it cannot use is left out), paged by keyset."""

    def __init__(self, product: Product, params):
        self.product = product
        self.listing = item_list(product=product, filters=params, strict=False)
        filters = self.listing.filters
        self.kinds = filters.get("kind", "").split(",")
        self.status = filters.get("status", "")
        self.label = filters.get("label", "")
        self.ready = filters.get("ready", "")
        self.q = filters.get("q", "")
        self.theme = filters.get("theme", "")
        self.hidden_columns = [column for column in SavedView.COLUMNS if column in params.getlist("hide")]
        self.view_id = whole_number(params.get("view"))
        self.after = params.get("after", "")
        self.start = whole_number(params.get("from", "1"), low=1) or 1

    @property
    def ordered(self) -> bool:
        return self.listing.ordering == "rank"

    @property
    def filtered(self) -> bool:
        return self.listing.filtered

    def items(self):
        queryset, ordering = self.listing.items, self.listing.ordering
        if not self.after:
            return queryset
        if ordering == "rank":
            return queryset.filter(rank__gt=self.after)
        if (after := whole_number(self.after)) is None:
            return queryset
        return queryset.filter(number__gt=after) if ordering == "number" else queryset.filter(number__lt=after)

    def page(self) -> tuple[list[Item], dict | None]:
        rows = list(self.items()[: PAGE_SIZE + 1])
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        now = timezone.now()
        for offset, item in enumerate(rows):
            item.position = self.start + offset if self.ordered and not self.filtered else None
            item.checks = readiness(item, self.product)
            item.age_days = (now - item.created_at).days
            item.drift = None
            item.order_warnings = order_warnings(item)  # from the list's prefetch: no query per row
            if item.position and item.suggested_position:
                item.drift = item.suggested_position - item.position
                item.drift_size = abs(item.drift)
        if not more:
            return rows, None
        last = rows[-1]
        return rows, {
            **self.listing.filters,
            "after": last.rank if self.ordered else str(last.number),
            "from": str(self.start + len(rows)),
        }


@login_required
def backlog_page(request: HttpRequest, key: str) -> HttpResponse:
    product, actions = access_product(request.user, key)
    query = BacklogPage(product, request.GET)
    rows, next_params = query.page()
    context = {
        "product": product,
        "actions": actions,
        "section": "backlog",
        "query": query,
        "rows": rows,
        "next_params": next_params,
        "can_reorder": Action.REORDER in actions and query.ordered,
        "can_set_value": Action.EDIT_VALUE in actions,
        "value_scale": Item._meta.get_field("business_value").choices,
        "kinds": Item.Kind.choices,
        "statuses": STATUS_CHOICES,
        "label_names": Label.objects.filter(product=product).values_list("name", flat=True),
        "columns": SavedView.COLUMNS,
        "saved_views": [
            (view, can_change_saved_view(request.user, view, actions))
            for view in saved_views_for(product=product, user=request.user)
        ],
        "current_filters": urlencode(query.listing.filters),
        "export_query": urlencode(query.listing.filters),
        "can_import": can_import(actions),
        "themes": theme_list(product=product),
        # The stored suggested positions (the drift column) lag changes by a few seconds: say so.
        "suggestions_refreshing": suggestions_refreshing(product.pk),
    }
    if request.htmx and request.htmx.target == "more":
        return render(request, "backlog/_rows.html", context)
    if request.htmx and request.htmx.target == "backlog":
        return render(request, "backlog/_backlog.html", context)
    return render(request, "backlog/backlog.html", context)


@login_required
@require_POST
def saved_view_save(request: HttpRequest, key: str) -> HttpResponse:
    """Save the backlog's current filters and columns as a view (any member; private or shared)."""
    product, _ = access_product(request.user, key)
    filters = QueryDict(request.POST.get("filters", ""))
    hidden = request.POST.getlist("hide")
    try:
        view = saved_view_create(
            product=product,
            actor=request.user,
            name=request.POST.get("name", ""),
            filters={name: ",".join(values) for name, values in filters.lists()},
            columns=[column for column in SavedView.COLUMNS if column not in hidden],
            shared=request.POST.get("shared") == "on",
        )
    except ValidationError as invalid:
        show_errors(request, invalid)
        return redirect(reverse("backlog", args=[product.key]) + "?" + filters.urlencode())
    messages.success(request, f"View “{view.name}” saved{' and shared with the product' if view.shared else ''}.")
    return redirect(view.get_absolute_url())


@login_required
@require_POST
def saved_view_change(request: HttpRequest, key: str, view_id: int) -> HttpResponse:
    """Rename or delete a view (its author; a shared one also the product's owners)."""
    view, _ = access_saved_view(request.user, view_id)
    if view.product.key != key.upper():
        raise Http404("No such view.")
    try:
        if request.POST.get("action") == "delete":
            saved_view_delete(view=view, actor=request.user)
            messages.success(request, f"View “{view.name}” deleted.")
            return redirect("backlog", view.product.key)
        view = saved_view_update(view=view, actor=request.user, changes={"name": request.POST.get("name", "")})
        messages.success(request, f"View renamed to “{view.name}”.")
    except ValidationError as invalid:
        show_errors(request, invalid)
    return redirect(view.get_absolute_url())


@login_required
def item_new(request: HttpRequest, key: str) -> HttpResponse:
    """Add an item (owners and delegates) or propose one (everyone else): the same form."""
    product, actions = access_product(request.user, key, Action.PROPOSE)
    direct = Action.ADD_DIRECTLY in actions
    form = ItemForm(
        request.POST or None,
        actions=actions,
        creating=True,
        product=product,
        initial={"kind": request.GET.get("kind", "story")},
    )
    if request.method == "POST" and form.is_valid():
        fields = form.changes()
        try:
            item = item_create(
                product=product,
                actor=request.user,
                kind=fields.pop("kind"),
                title=fields.pop("title"),
                labels=form.label_names() or (),
                **{name: value for name, value in fields.items() if value not in ("", None)},
            )
        except ValidationError as invalid:
            _form_errors(form, invalid)
        else:
            if direct:
                messages.success(request, f"{item.key} added at the bottom of the backlog.")
            else:
                messages.success(request, f"{item.key} proposed: the product owner will review it.")
            return redirect(item)
    return render(
        request,
        "backlog/item_form.html",
        {"product": product, "actions": actions, "section": "new", "form": form, "direct": direct, "item": None},
        status=400 if form.errors else 200,
    )


@login_required
def item_page(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """One item: its description, details, score, readiness and history, with the panels other
    apps register (``backlog.panels``: refinement's questions and comments, delivery's forecast)."""
    item, actions = access_item_by_number(request.user, key, number)
    product = item.product
    events = list(item_history(item=item).order_by("-created_at", "-id")[:50])
    texts = history.describe(events)
    return render(
        request,
        "backlog/item.html",
        {
            "product": product,
            "actions": actions,
            "item": item,
            "position": item_position(item=item),
            "checks": readiness(item, product),
            "history": [(event, texts[event.pk]) for event in events],
            "breakdown": item.score_breakdown or None,
            "kept_below": kept_below(item=item),
            "suggestions_refreshing": suggestions_refreshing(product.pk),
            "transitions": transitions_for(item, actions),
            "panels": item_panels(item=item, user=request.user, actions=actions),
        },
    )


@login_required
def item_edit(request: HttpRequest, key: str, number: int) -> HttpResponse:
    item, actions = access_item_by_number(request.user, key, number)
    product = item.product
    if not actions & {Action.EDIT_WORK, Action.EDIT_VALUE}:
        raise PermissionDenied("Only the product owner and developers edit items.")
    form = ItemForm(request.POST or None, instance=item, actions=actions, creating=False, product=product)
    if request.method == "POST" and form.is_valid():
        version = whole_number(request.POST.get("version"))
        try:
            item_update(
                item=item,
                actor=request.user,
                changes=form.changes(),
                labels=form.label_names(),
                expected_version=version,
            )
        except ValidationError as invalid:
            _form_errors(form, invalid)
        except VersionConflict:
            form.add_error(None, "Someone changed this item since you opened it. Reload it to see their changes.")
        else:
            messages.success(request, f"{item.key} saved.")
            return redirect(item)
    return render(
        request,
        "backlog/item_form.html",
        {
            "product": product,
            "actions": actions,
            "form": form,
            "item": item,
            "direct": True,
            # After a conflict the form keeps the version it was opened at: saving it again is
            # refused again, instead of overwriting the other person's changes.
            "version": request.POST.get("version", item.version) if request.method == "POST" else item.version,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def item_transition_view(request: HttpRequest, key: str, number: int) -> HttpResponse:
    item, actions = access_item_by_number(request.user, key, number)
    to = request.POST.get("status", "")
    if to not in dict(transitions_for(item, actions)):
        raise PermissionDenied("You cannot make that change to this item.")
    try:
        item_transition(item=item, actor=request.user, to=to, reason=request.POST.get("reason", "").strip())
    except ValidationError as invalid:
        show_errors(request, invalid)
    else:
        messages.success(request, f"{item.key} is now {Item.Status(to).label.lower()}.")
    return redirect(item)


@login_required
def suggested_page(request: HttpRequest, key: str) -> HttpResponse:
    """The items the scores would move most (the largest drifts the last refresh stored: a hundred
    rows read, whatever the backlog's size); owners and delegates apply the suggestion to a
    selection."""
    product, actions = access_product(request.user, key)
    if request.method == "POST":
        if Action.REORDER not in actions:
            raise PermissionDenied("Only the product owner or an ordering delegate reorders.")
        ids = whole_numbers(request.POST.getlist("items"))
        if not ids:
            messages.error(request, "Select the items to move to their suggested positions.")
        else:
            try:
                moved = order_apply_suggestion(product=product, actor=request.user, item_ids=ids)
            except ValidationError as invalid:
                show_errors(request, invalid)
            else:
                messages.success(request, f"Moved {moved} item{'s' if moved != 1 else ''} to their suggested places.")
        return redirect("suggested", product.key)
    rows = most_moved(product=product, limit=SUGGESTED_PAGE_SIZE)
    items = Item.objects.select_related("product").in_bulk([row.item_id for row in rows])
    return render(
        request,
        "backlog/suggested.html",
        {
            "product": product,
            "actions": actions,
            "section": "suggested",
            "rows": [(row, items[row.item_id]) for row in rows if row.item_id in items],
            "can_reorder": Action.REORDER in actions,
            "suggestions_refreshing": suggestions_refreshing(product.pk),
        },
    )
