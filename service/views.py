"""The service pages: the intake form, the queue (for members), a cause's incidents. They call the
same services and selectors as the API."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.access import access_product
from accounts.models import Membership
from accounts.permissions import Action
from backlog.access import access_item_by_number, item_in
from service.access import access_ticket
from service.forms import IntakeForm
from service.models import CauseInterest, Queue
from service.selectors import (
    incidents_of,
    interrupt_buffer,
    occurrence_list,
    queue_list,
    ticket_filters,
    ticket_list,
)
from service.services.clocks import clocks_of
from service.services.incidents import evidence_of, hours_per_sprint, ticket_hours_lost_set, ticket_link_cause
from service.services.settings import service_settings_for
from service.services.tickets import (
    ticket_acknowledge,
    ticket_assign,
    ticket_intake,
    ticket_resolve,
    ticket_resume,
    ticket_wait,
)

PAGE_SIZE = 50


@login_required
def intake_page(request: HttpRequest, key: str) -> HttpResponse:
    product, actions = access_product(request.user, key, Action.PROPOSE)
    form = IntakeForm(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            result = ticket_intake(product=product, sender=request.user, via="form", **fields)
        except ValidationError as invalid:
            for field, errors in invalid.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            item = result.ticket.item
            if result.folded:
                messages.success(
                    request,
                    f"Added to the open ticket {item.key} with the same fingerprint "
                    f"({result.ticket.occurrence_count} occurrences).",
                )
            else:
                messages.success(
                    request, f"Ticket {item.key} is in queue {result.ticket.queue.name} as P{item.itil_priority}."
                )
            return redirect("service-queue", product.key)
    return render(
        request,
        "service/intake.html",
        {
            "product": product,
            "actions": actions,
            "section": "service",
            "form": form,
            "has_queues": Queue.objects.filter(product=product).exists(),
        },
    )


@login_required
def queue_page(request: HttpRequest, key: str) -> HttpResponse:
    product, actions = access_product(request.user, key)
    filters = ticket_filters(request.GET, strict=False)
    settings = service_settings_for(product)
    now = timezone.now()
    tickets = list(ticket_list(product=product, filters=filters)[: PAGE_SIZE + 1])
    more = len(tickets) > PAGE_SIZE
    tickets = tickets[:PAGE_SIZE]
    for ticket in tickets:
        ticket.item.product = product
        ticket.clocks = clocks_of(ticket, settings, product, ticket.item.itil_priority, now)
        ticket.interrupt = ticket.item.itil_priority <= 2
    workers = (
        Membership.objects.filter(product=product).exclude(role=Membership.Role.STAKEHOLDER).select_related("user")
    )
    context = {
        "product": product,
        "actions": actions,
        "section": "service",
        "tickets": tickets,
        "more": more,
        "filters": filters,
        "queues": queue_list(product=product),
        "workers": [membership.user for membership in workers],
        "settings": settings,
        "can_work": Action.EDIT_WORK in actions,
        "buffer": interrupt_buffer(product=product),
        # Row links are built from these (one reverse per page, not several per row).
        "service_url": reverse("service-queue", args=[product.key]),
        "backlog_url": reverse("backlog", args=[product.key]),
    }
    if request.htmx:
        return render(request, "service/_tickets.html", context)
    return render(request, "service/queue.html", context)


ACTIONS = {
    "acknowledge": lambda item, user, note: ticket_acknowledge(item=item, actor=user),
    "wait": lambda item, user, note: ticket_wait(item=item, actor=user, reason=note),
    "resume": lambda item, user, note: ticket_resume(item=item, actor=user, reply=note),
    "resolve": lambda item, user, note: ticket_resolve(item=item, actor=user, resolution=note),
}
DONE = {
    "acknowledge": "acknowledged",
    "wait": "waiting on the reporter",
    "resume": "running again",
    "resolve": "resolved",
}


def _incident(ticket, request: HttpRequest) -> None:
    """The queue row's incident form: the cause (a key, blank for none) and the hours lost."""
    reference = request.POST.get("cause", "").strip()
    cause = item_in(ticket.item.product, reference, "cause") if reference else None
    hours_text = request.POST.get("hours_lost", "").strip()
    try:
        hours = Decimal(hours_text) if hours_text else None
    except InvalidOperation:
        raise ValidationError({"hours_lost": "Hours lost are a number, such as 2.5."}) from None
    if hours is not None and not hours.is_finite():
        raise ValidationError({"hours_lost": "Hours lost are a number, such as 2.5."})
    ticket_link_cause(item=ticket.item, actor=request.user, cause=cause)
    ticket_hours_lost_set(item=ticket.item, actor=request.user, hours=hours)


@login_required
def ticket_page(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """One ticket: its calculated priority and why, its clocks, occurrences, cause, and the work on it."""
    ticket, actions = access_ticket(request.user, f"{key}-{number}")
    product = ticket.item.product
    settings = service_settings_for(product)
    ticket.clocks = clocks_of(ticket, settings, product, ticket.item.itil_priority, timezone.now())
    workers = (
        Membership.objects.filter(product=product).exclude(role=Membership.Role.STAKEHOLDER).select_related("user")
    )
    return render(
        request,
        "service/ticket.html",
        {
            "product": product,
            "actions": actions,
            "section": "service",
            "ticket": ticket,
            "occurrences": occurrence_list(ticket=ticket)[:20],
            "settings": settings,
            "workers": [membership.user for membership in workers],
            "can_work": Action.EDIT_WORK in actions,
            "service_url": reverse("service-queue", args=[product.key]),
            "backlog_url": reverse("backlog", args=[product.key]),
        },
    )


@login_required
def cause_page(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """The incidents an item causes, the hours they cost per sprint, and the interest that follows."""
    item, actions = access_item_by_number(request.user, key, number)
    settings = service_settings_for(item.product)
    sprints = hours_per_sprint(cause=item, settings=settings, now=timezone.now())
    record = CauseInterest.objects.filter(item=item).first()
    return render(
        request,
        "service/cause.html",
        {
            "product": item.product,
            "actions": actions,
            "section": "service",
            "item": item,
            "sprints": sprints,
            "evidence": evidence_of(sprints),
            "given": record.given if record else item.interest_hours,
            "settings": settings,
            "incidents": incidents_of(cause=item)[:100],
        },
    )


@login_required
@require_POST
def ticket_action(request: HttpRequest, key: str, number: int, action: str) -> HttpResponse:
    ticket, _ = access_ticket(request.user, f"{key}-{number}")
    item = ticket.item
    try:
        if action == "incident":
            _incident(ticket, request)
            messages.success(request, f"{item.key}: cause and hours lost saved.")
        elif action == "assign":
            username = request.POST.get("assignee", "")
            assignee = get_user_model().objects.filter(username=username).first() if username else None
            ticket_assign(item=item, actor=request.user, assignee=assignee)
            messages.success(request, f"{item.key} assigned to {username or 'no one'}.")
        elif action in ACTIONS:
            ACTIONS[action](item, request.user, request.POST.get("note", ""))
            messages.success(request, f"{item.key} {DONE[action]}.")
        else:
            messages.error(request, "Unknown action.")
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
    except PermissionDenied as denied:
        messages.error(request, str(denied))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = ""
    return redirect(target or "service-queue", *([] if target else [ticket.item.product.key]))
