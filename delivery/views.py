"""Delivery pages: sprints and their planning, the board of the active sprint, done against the
Definition of Done, the allocation settings, the forecast. Thin: parse, call one service, render."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.access import access_product
from accounts.permissions import Action
from backlog.access import access_item_by_number
from backlog.exceptions import VersionConflict
from backlog.models import Item
from config.numbers import whole_number, whole_numbers
from config.pages import show_errors
from delivery.access import access_retro_action, access_sprint
from delivery.charts import burn_up
from delivery.forecast import FORECAST_HORIZON, forecast, item_forecast, velocity
from delivery.models import SHARE_FIELDS, DeliverySettings, DodWaiver, Sprint, WorkClass
from delivery.planning import CLASS_NOUN
from delivery.selectors import (
    active_sprint,
    burn_up_rows,
    delivery_settings_for,
    plan_for_items,
    plan_proposal,
    planning_window,
    points_by_class,
    policy_report,
    sprint_items,
    sprint_list,
    sprint_policy,
)
from delivery.services.done import item_done, item_start
from delivery.services.settings import delivery_settings_update
from delivery.services.sprints import (
    retro_action_add,
    retro_action_to_debt,
    sprint_close,
    sprint_commit,
    sprint_create,
    sprint_start,
)

CANDIDATES = 60  # items of the order offered for editing a plan


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


@login_required
def sprints_page(request: HttpRequest, key: str) -> HttpResponse:
    """The product's sprints, the policy report and the velocity; planners create sprints here."""
    product, actions = access_product(request.user, key)
    if request.method == "POST":
        if Action.REORDER not in actions:
            raise PermissionDenied("Only the product owner or an ordering delegate plans sprints.")
        start, end = _date(request.POST.get("start_date", "")), _date(request.POST.get("end_date", ""))
        capacity = whole_number(request.POST.get("capacity", ""), low=1, high=10_000)
        if start is None or end is None:
            messages.error(request, "Give the start and end dates (YYYY-MM-DD).")
        else:
            try:
                sprint = sprint_create(
                    product=product,
                    actor=request.user,
                    name=request.POST.get("name", ""),
                    goal=request.POST.get("goal", ""),
                    start_date=start,
                    end_date=end,
                    capacity=capacity,
                )
            except ValidationError as invalid:
                show_errors(request, invalid)
            else:
                messages.success(request, f"{sprint.name} created: plan it now.")
                return redirect("sprint", product.key, sprint.number)
        return redirect("sprints", product.key)
    return render(
        request,
        "delivery/sprints.html",
        {
            "product": product,
            "actions": actions,
            "section": "sprints",
            "sprints": sprint_list(product=product),
            "report": policy_report(product=product),
            "velocity": velocity(product=product),
            "can_plan": Action.REORDER in actions,
        },
    )


def _figures_rows(classes: dict) -> list[dict]:
    return [{"class": work, **figure} for work, figure in classes.items()]


@login_required
def sprint_page(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """A planned sprint's planning (the proposal's diff, editing, commit); an active or closed
    sprint's items, policy figures and retrospective."""
    sprint, actions = access_sprint(request.user, key, number)
    product = sprint.product
    context = {
        "product": product,
        "actions": actions,
        "section": "sprints",
        "sprint": sprint,
        "can_plan": Action.REORDER in actions,
        "can_retro": Action.EDIT_WORK in actions,
        "can_propose": Action.PROPOSE in actions,
    }
    if sprint.state == Sprint.State.PLANNED:
        chosen = whole_numbers(request.GET.getlist("items"))
        committed = list(sprint.entries.values_list("item_id", flat=True))
        if request.GET.get("edited"):
            plan = plan_for_items(sprint=sprint, item_ids=chosen)
        elif sprint.committed_at:
            plan = plan_for_items(sprint=sprint, item_ids=committed)
        else:
            plan = plan_proposal(sprint=sprint)
        in_plan = {row.id for row in plan.items}
        window = planning_window(sprint=sprint, limit=CANDIDATES)
        extra = [row for row in plan.items if row.id not in {r.id for r in window}]
        context.update(
            plan=plan,
            candidates=[(row, row.id in in_plan) for row in [*window, *extra]],
            added={change.row.id: change.reason for change in plan.added},
            noun=CLASS_NOUN,
        )
    else:
        context.update(
            entries=sprint_items(sprint=sprint),
            policy=_figures_rows(sprint_policy(sprint=sprint).classes),
            retro=sprint.actions.select_related("debt_item__product"),
        )
    return render(request, "delivery/sprint.html", context)


@login_required
@require_POST
def sprint_commit_view(request: HttpRequest, key: str, number: int) -> HttpResponse:
    sprint, _ = access_sprint(request.user, key, number, Action.REORDER)
    chosen = whole_numbers(request.POST.getlist("items"))
    try:
        sprint_commit(sprint=sprint, actor=request.user, item_ids=chosen, reason=request.POST.get("reason", ""))
    except ValidationError as invalid:
        show_errors(request, invalid)
        query = "&".join(f"items={pk}" for pk in chosen)
        return redirect(f"{reverse('sprint', args=[sprint.product.key, sprint.number])}?edited=1&{query}")
    messages.success(request, f"{sprint.name} committed: {len(chosen)} item{'s' if len(chosen) != 1 else ''}.")
    return redirect("sprint", sprint.product.key, sprint.number)


@login_required
@require_POST
def sprint_start_view(request: HttpRequest, key: str, number: int) -> HttpResponse:
    sprint, _ = access_sprint(request.user, key, number, Action.REORDER)
    try:
        sprint_start(sprint=sprint, actor=request.user)
    except ValidationError as invalid:
        show_errors(request, invalid)
        return redirect("sprint", sprint.product.key, sprint.number)
    messages.success(request, f"{sprint.name} started.")
    return redirect("board", sprint.product.key)


@login_required
@require_POST
def sprint_close_view(request: HttpRequest, key: str, number: int) -> HttpResponse:
    sprint, _ = access_sprint(request.user, key, number, Action.REORDER)
    try:
        sprint_close(sprint=sprint, actor=request.user, carry_over=request.POST.get("carry_over", "stay"))
    except ValidationError as invalid:
        show_errors(request, invalid)
    else:
        messages.success(request, f"{sprint.name} closed.")
    return redirect("sprint", sprint.product.key, sprint.number)


@login_required
@require_POST
def retro_action_add_view(request: HttpRequest, key: str, number: int) -> HttpResponse:
    sprint, _ = access_sprint(request.user, key, number, Action.EDIT_WORK)
    try:
        retro_action_add(sprint=sprint, actor=request.user, text=request.POST.get("text", "")[:300])
    except ValidationError as invalid:
        show_errors(request, invalid)
    return redirect(f"{reverse('sprint', args=[sprint.product.key, sprint.number])}#retro")


@login_required
@require_POST
def retro_action_debt_view(request: HttpRequest, key: str, number: int, action_id: int) -> HttpResponse:
    action, _ = access_retro_action(request.user, key, number, action_id, Action.PROPOSE)
    try:
        item = retro_action_to_debt(action=action, actor=request.user)
    except ValidationError as invalid:
        show_errors(request, invalid)
    else:
        messages.success(request, f"{item.key} proposed: {item.title}.")
    return redirect(f"{reverse('sprint', args=[key.upper(), number])}#retro")


@login_required
def board_page(request: HttpRequest, key: str) -> HttpResponse:
    """The active sprint: columns by status, items in rank order, WIP warnings, capacity by class."""
    product, actions = access_product(request.user, key)
    sprint = active_sprint(product=product)
    context = {"product": product, "actions": actions, "section": "board", "sprint": sprint}
    if sprint is not None:
        settings = delivery_settings_for(product=product)
        entries = list(sprint_items(sprint=sprint))
        columns = []
        for status in (Item.Status.OPEN, Item.Status.IN_PROGRESS, Item.Status.DONE):
            cards = [entry for entry in entries if entry.item.status == status]
            limit = (settings.wip_limits or {}).get(status)
            over = bool(limit and len(cards) > limit)
            columns.append({"status": status, "label": status.label, "cards": cards, "limit": limit, "over": over})
        committed, done = points_by_class(entries)
        shares = settings.shares
        context.update(
            columns=columns,
            can_work=Action.EDIT_WORK in actions,
            usage=[
                {
                    "class": work,
                    "label": CLASS_NOUN[work],
                    "committed": committed[work],
                    "done": done[work],
                    "target": shares.get(work),
                    "target_points": round(sprint.capacity * (shares.get(work) or 0) / 100, 1),
                    "percent": round(100 * committed[work] / sprint.capacity),
                }
                for work in SHARE_FIELDS
            ],
        )
    return render(request, "delivery/board.html", context)


def _next_url(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, require_https=False):
        return candidate
    return default


@login_required
@require_POST
def item_start_view(request: HttpRequest, key: str, number: int) -> HttpResponse:
    item, _ = access_item_by_number(request.user, key, number)
    try:
        item_start(item=item, actor=request.user, expected_version=whole_number(request.POST.get("version", "")))
    except VersionConflict as stale:
        messages.error(request, str(stale))
    except ValidationError as invalid:
        show_errors(request, invalid)
    else:
        messages.success(request, f"{item.key} is in progress.")
    return redirect(_next_url(request, reverse("board", args=[item.product.key])))


@login_required
def item_done_page(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """Mark an item done: each Definition of Done entry checked, or waived with a reason."""
    item, actions = access_item_by_number(request.user, key, number, Action.EDIT_WORK)
    product = item.product
    entries = list(delivery_settings_for(product=product).definition_of_done)
    default_next = (
        reverse("board", args=[product.key])
        if active_sprint(product=product)
        else reverse("item", args=[product.key, item.number])
    )
    if request.method == "POST":
        checked = [entry for index, entry in enumerate(entries) if request.POST.get(f"check-{index}")]
        waivers = {
            entry: request.POST.get(f"waive-{index}", "")
            for index, entry in enumerate(entries)
            if entry not in checked and request.POST.get(f"waive-{index}", "").strip()
        }
        try:
            done, created = item_done(
                item=item,
                actor=request.user,
                checked=checked,
                waivers=waivers,
                expected_version=whole_number(request.POST.get("version", "")),
            )
        except VersionConflict as stale:
            messages.error(request, str(stale))
        except ValidationError as invalid:
            show_errors(request, invalid)
        else:
            debt = ", ".join(
                f"{waiver.debt_item.key} ({waiver.debt_item.get_status_display().lower()})" for waiver in created
            )
            messages.success(request, f"{done.key} is done." + (f" Debt taken on knowingly: {debt}." if debt else ""))
            return redirect(_next_url(request, default_next))
    return render(
        request,
        "delivery/done.html",
        {
            "product": product,
            "actions": actions,
            "section": "board",
            "item": item,
            "entries": [
                {
                    "index": index,
                    "text": entry,
                    "checked": bool(request.POST.get(f"check-{index}")),
                    "reason": request.POST.get(f"waive-{index}", ""),
                }
                for index, entry in enumerate(entries)
            ],
            "next": _next_url(request, default_next),
        },
    )


@login_required
def item_delivery_fragment(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """The item page's delivery part (loaded by htmx): its forecast, its sprint, its waivers."""
    item, _ = access_item_by_number(request.user, key, number)
    return render(
        request,
        "delivery/_item_delivery.html",
        {
            "product": item.product,
            "item": item,
            "forecast": item_forecast(item=item),
            "horizon": f"{FORECAST_HORIZON:,}",
            "waivers": DodWaiver.objects.filter(item=item).select_related("debt_item__product"),
            "waiver_of": DodWaiver.objects.filter(debt_item=item).select_related("item__product").first(),
        },
    )


def _share(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    number = whole_number(value, low=0, high=100)
    if number is None:
        raise ValidationError("A share is a whole percent from 0 to 100, or empty for none.")
    return number


@login_required
def delivery_settings_page(request: HttpRequest, key: str) -> HttpResponse:
    """The allocation, the Definition of Done and the board's WIP limits (the owner edits)."""
    product, actions = access_product(request.user, key)
    settings = delivery_settings_for(product=product)
    if request.method == "POST":
        if Action.MANAGE not in actions:
            raise PermissionDenied("Only the product owner changes the allocation and the Definition of Done.")
        try:
            changes = {field: _share(request.POST.get(field, "")) for field in SHARE_FIELDS.values()}
            changes["definition_of_done"] = [
                line.strip() for line in request.POST.get("definition_of_done", "").splitlines() if line.strip()
            ]
            changes["waiver_debt"] = request.POST.get("waiver_debt", DeliverySettings.WaiverDebt.PROPOSED)
            limits = {}
            for column in ("open", "in_progress"):
                raw = request.POST.get(f"wip_{column}", "").strip()
                if raw:
                    limit = whole_number(raw, low=1, high=1000)
                    if limit is None:
                        raise ValidationError("A WIP limit is a whole number from 1 to 1000, or empty.")
                    limits[column] = limit
            changes["wip_limits"] = limits
            delivery_settings_update(product=product, actor=request.user, changes=changes)
        except ValidationError as invalid:
            show_errors(request, invalid)
        else:
            messages.success(request, "Delivery settings saved.")
        return redirect("delivery-settings", product.key)
    return render(
        request,
        "delivery/settings.html",
        {
            "product": product,
            "actions": actions,
            "section": "delivery",
            "settings": settings,
            "shares": [(field, CLASS_NOUN[work], settings.shares[work]) for work, field in SHARE_FIELDS.items()],
            "can_manage": Action.MANAGE in actions,
            "waiver_choices": DeliverySettings.WaiverDebt.choices,
        },
    )


@login_required
def forecast_page(request: HttpRequest, key: str) -> HttpResponse:
    """The top of the order with each item's likely sprint and its 50 % and 85 % range."""
    product, actions = access_product(request.user, key)
    result = forecast(product=product, limit=100)
    rows = [
        {
            "row": row,
            "likely": (result.sprint_number(row.sprint), result.sprint_end(row.sprint)) if row.sprint else None,
            "p50": (result.sprint_number(r[0]), result.sprint_end(r[0])) if (r := result.ranges.get(row.id)) else None,
            "p85": (result.sprint_number(r[1]), result.sprint_end(r[1])) if (r := result.ranges.get(row.id)) else None,
        }
        for row in result.rows
    ]
    history = burn_up_rows(product=product)
    chart = burn_up(
        [row.sprint.name for row in history],
        [
            ("Scope (done + remaining)", "scope", [row.scope for row in history]),
            ("Done", "done", [row.done_total for row in history]),
            ("Remaining debt", "debt", [row.remaining.get(WorkClass.DEBT, 0) for row in history]),
        ],
    )
    return render(
        request,
        "delivery/forecast.html",
        {
            "product": product,
            "actions": actions,
            "section": "forecast",
            "result": result,
            "rows": rows,
            "history": history,
            "chart": chart,
            "classes": [(work, CLASS_NOUN[work]) for work in SHARE_FIELDS],
        },
    )
