"""The backlog pages: the ordered list (filtered, paged, reordered by owners), items, the suggestion.

Reordering in the page calls the REST API (same services, same rules); these views render.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Product
from accounts.permissions import Action
from accounts.views import product_for_page
from backlog.exceptions import VersionConflict
from backlog.forms import ItemForm
from backlog.models import Item
from backlog.readiness import readiness
from backlog.services.items import item_create, item_transition, item_update
from backlog.services.suggestion import order_apply_suggestion, suggested_order, suggested_positions_ensure_fresh
from config.numbers import whole_number

PAGE_SIZE = 50
STATUS_CHOICES = [("", "The backlog (open, in progress)"), *Item.Status.choices]


def item_for_page(product: Product, number: int) -> Item:
    """The product's item ``number`` (with what its pages show of its links), or 404."""
    item = (
        Item.objects.filter(product=product, number=number)
        .select_related("product", "created_by", "split_from", "duplicate_of")
        .first()
    )
    if item is None:
        raise Http404("No such item.")
    return item


def _form_errors(form, invalid: ValidationError) -> None:
    if hasattr(invalid, "error_dict"):
        for field, errors in invalid.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, invalid.messages)


class BacklogQuery:
    """The filters of the backlog page, read (and whitelisted) from the query string."""

    def __init__(self, product: Product, params):
        self.product = product
        self.kinds = [k for k in params.getlist("kind") if k in Item.Kind.values]
        self.status = params.get("status", "") if params.get("status", "") in Item.Status.values else ""
        self.label = params.get("label", "").strip()[:50]
        self.ready = params.get("ready", "") if params.get("ready") in ("yes", "no") else ""
        self.q = params.get("q", "").strip()[:200]
        self.after = params.get("after", "")
        start = params.get("from", "1")
        self.start = whole_number(start, low=1) or 1

    @property
    def ordered(self) -> bool:
        return self.status in ("", Item.Status.OPEN, Item.Status.IN_PROGRESS)

    @property
    def filtered(self) -> bool:
        return bool(self.kinds or self.status or self.label or self.ready or self.q)

    def items(self):
        queryset = Item.objects.filter(product=self.product).select_related("product").prefetch_related("labels")
        if self.status:
            queryset = queryset.filter(status=self.status)
        else:
            queryset = queryset.filter(status__in=Item.ORDERED_STATUSES)
        if self.kinds:
            queryset = queryset.filter(kind__in=self.kinds)
        if self.label:
            queryset = queryset.filter(labels__name=self.label)
        if self.ready:
            queryset = queryset.ready(self.product) if self.ready == "yes" else queryset.not_ready(self.product)
        if self.q:
            queryset = queryset.filter(title__icontains=self.q)
        if self.ordered:
            if self.after:
                queryset = queryset.filter(rank__gt=self.after)
            return queryset.order_by("rank")
        if (after := whole_number(self.after)) is not None:
            queryset = queryset.filter(number__lt=after)
        return queryset.order_by("-number")

    def page(self) -> tuple[list[Item], str | None]:
        rows = list(self.items()[: PAGE_SIZE + 1])
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        now = timezone.now()
        for offset, item in enumerate(rows):
            item.position = self.start + offset if self.ordered and not self.filtered else None
            item.checks = readiness(item, self.product)
            item.age_days = (now - item.created_at).days
            item.drift = None
            if item.position and item.suggested_position:
                item.drift = item.suggested_position - item.position
                item.drift_size = abs(item.drift)
        if not more:
            return rows, None
        params = self.params()
        last = rows[-1]
        params["after"] = last.rank if self.ordered else str(last.number)
        params["from"] = str(self.start + len(rows))
        return rows, params

    def params(self) -> dict:
        params = {"kind": self.kinds, "status": self.status, "label": self.label, "ready": self.ready, "q": self.q}
        return {name: value for name, value in params.items() if value}


@login_required
def backlog_page(request: HttpRequest, key: str) -> HttpResponse:
    product, actions = product_for_page(request, key)
    suggested_positions_ensure_fresh(product_id=product.pk)
    query = BacklogQuery(product, request.GET)
    rows, next_params = query.page()
    context = {
        "product": product,
        "actions": actions,
        "section": "backlog",
        "query": query,
        "rows": rows,
        "next_params": next_params,
        "can_reorder": Action.REORDER in actions and query.ordered,
        "kinds": Item.Kind.choices,
        "statuses": STATUS_CHOICES,
    }
    if request.htmx and request.htmx.target == "more":
        return render(request, "backlog/_rows.html", context)
    if request.htmx and request.htmx.target == "backlog":
        return render(request, "backlog/_backlog.html", context)
    return render(request, "backlog/backlog.html", context)


def transitions_for(item: Item, actions: frozenset) -> list[tuple[str, str]]:
    """The status changes the user may make to ``item`` from its page: (status, button label)."""
    options = {
        Item.Status.OPEN: [
            (Item.Status.IN_PROGRESS, "Start", Action.EDIT_WORK),
            (Item.Status.ARCHIVED, "Archive", Action.REORDER),
        ],
        Item.Status.IN_PROGRESS: [(Item.Status.DONE, "Mark done", Action.EDIT_WORK)],
    }
    return [(status, label) for status, label, action in options.get(item.status, []) if action in actions]


@login_required
def item_new(request: HttpRequest, key: str) -> HttpResponse:
    """Add an item (owners and delegates) or propose one (everyone else): the same form."""
    product, actions = product_for_page(request, key, Action.PROPOSE)
    direct = Action.ADD_DIRECTLY in actions
    form = ItemForm(
        request.POST or None, actions=actions, creating=True, initial={"kind": request.GET.get("kind", "story")}
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
def item_edit(request: HttpRequest, key: str, number: int) -> HttpResponse:
    product, actions = product_for_page(request, key)
    item = item_for_page(product, number)
    if not actions & {Action.EDIT_WORK, Action.EDIT_VALUE}:
        raise PermissionDenied("Only the product owner and developers edit items.")
    form = ItemForm(request.POST or None, instance=item, actions=actions, creating=False)
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
    product, actions = product_for_page(request, key)
    item = item_for_page(product, number)
    to = request.POST.get("status", "")
    if to not in dict(transitions_for(item, actions)):
        raise PermissionDenied("You cannot make that change to this item.")
    try:
        item_transition(item=item, actor=request.user, to=to, reason=request.POST.get("reason", "").strip())
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
    else:
        messages.success(request, f"{item.key} is now {Item.Status(to).label.lower()}.")
    return redirect(item)


@login_required
def suggested_page(request: HttpRequest, key: str) -> HttpResponse:
    """The items the scores would move most; owners and delegates apply the suggestion to a selection."""
    product, actions = product_for_page(request, key)
    if request.method == "POST":
        if Action.REORDER not in actions:
            raise PermissionDenied("Only the product owner or an ordering delegate reorders.")
        ids = [pk for pk in map(whole_number, request.POST.getlist("items")) if pk is not None]
        if not ids:
            messages.error(request, "Select the items to move to their suggested positions.")
        else:
            try:
                moved = order_apply_suggestion(product=product, actor=request.user, item_ids=ids)
            except ValidationError as invalid:
                messages.error(request, " ".join(invalid.messages))
            else:
                messages.success(request, f"Moved {moved} item{'s' if moved != 1 else ''} to their suggested places.")
        return redirect("suggested", product.key)
    rows = sorted(
        (row for row in suggested_order(product=product) if row.drift), key=lambda row: (-abs(row.drift), row.position)
    )[:100]
    items = Item.objects.in_bulk([row.item_id for row in rows])
    return render(
        request,
        "backlog/suggested.html",
        {
            "product": product,
            "actions": actions,
            "section": "suggested",
            "rows": [(row, items[row.item_id]) for row in rows if row.item_id in items],
            "can_reorder": Action.REORDER in actions,
        },
    )
