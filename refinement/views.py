"""Refinement pages: comments, questions and split of an item (its panels on backlog's item page:
refinement.panels), proposals and their review, the refinement agenda, the technical-debt page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import access_product
from accounts.models import Product
from accounts.permissions import Action
from backlog.access import access_item_by_number
from backlog.forms import SplitForm
from backlog.models import Item
from backlog.readiness import readiness
from config.pages import show_errors
from refinement.access import accept_place, duplicate_in
from refinement.charts import bar_chart, line_chart
from refinement.selectors import (
    AGENDA_SCAN_LIMIT,
    costliest_debt,
    debt_figures,
    debt_trend,
    next_sprint_slice,
    proposal_state,
    proposals_of,
    refinement_agenda,
    review_queue,
    stale_items,
    with_suggested_positions,
)
from refinement.services.comments import comment_create
from refinement.services.proposals import proposal_accept, proposal_answer, proposal_ask, proposal_reject
from refinement.services.split import item_split

AGENDA_SIZE = 20
QUEUE_SIZE = 100


@login_required
@require_POST
def comment_add(request: HttpRequest, key: str, number: int) -> HttpResponse:
    item, _ = access_item_by_number(request.user, key, number, Action.COMMENT)
    try:
        comment_create(item=item, actor=request.user, body=request.POST.get("body", ""))
    except ValidationError as invalid:
        show_errors(request, invalid)
    return redirect(f"{item.get_absolute_url()}#comments")


@login_required
def split_page(request: HttpRequest, key: str, number: int) -> HttpResponse:
    item, actions = access_item_by_number(request.user, key, number, Action.REORDER)
    product = item.product
    form = SplitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            parts = item_split(
                item=item,
                actor=request.user,
                parts=form.cleaned_parts(),
                keep_original=form.cleaned_data["keep_original"],
            )
        except ValidationError as invalid:
            form.add_error(None, invalid.messages)
        else:
            messages.success(request, f"{item.key} split into {', '.join(part.key for part in parts)}.")
            return redirect("backlog", product.key)
    return render(
        request,
        "refinement/split.html",
        {"product": product, "actions": actions, "item": item, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def answer(request: HttpRequest, key: str, number: int) -> HttpResponse:
    item, _ = access_item_by_number(request.user, key, number)
    product = item.product
    try:
        proposal_answer(item=item, actor=request.user, answer=request.POST.get("answer", ""))
    except ValidationError as invalid:
        show_errors(request, invalid)
    else:
        messages.success(request, f"Answer sent: {item.key} is back in the review queue.")
    return redirect("my-proposals", product.key)


@login_required
def review_queue_page(request: HttpRequest, key: str) -> HttpResponse:
    product, actions = access_product(request.user, key, Action.REVIEW)
    return _review_queue(request, product, actions)


def _review_queue(request: HttpRequest, product: Product, actions, failed: Item | None = None, error: str = ""):
    """The queue; after a refused decision, the proposal it was about says why and keeps the choices made."""
    proposals = with_suggested_positions(list(review_queue(product=product)[:QUEUE_SIZE]), product)
    for proposal in proposals:
        if failed is not None and proposal.pk == failed.pk:
            proposal.error, proposal.chosen = error, request.POST
            failed = None
    if failed is not None:  # not shown in the queue (decided meanwhile, or further down)
        messages.error(request, error)
    return render(
        request,
        "refinement/review.html",
        {
            "product": product,
            "actions": actions,
            "section": "review",
            "proposals": proposals,
            "waiting": Item.objects.filter(product=product, status=Item.Status.PROPOSED).count() - len(proposals),
        },
        status=400 if error else 200,
    )


REFUSED = {
    "accept": "{key} was not accepted: {why}",
    "reject": "{key} was not rejected: {why}",
    "ask": "No question was sent for {key}: {why}",
}


@login_required
@require_POST
def review_decide(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """Accept (at a chosen place), reject (with a reason, maybe as a duplicate) or ask."""
    item, actions = access_item_by_number(request.user, key, number, Action.REVIEW)
    product = item.product
    decision = request.POST.get("decision")
    try:
        if decision == "accept":
            place = {"anchor": request.POST.get("anchor"), "position": request.POST.get("position")}
            placement = accept_place(product, to=request.POST.get("place", "bottom"), **place)
            proposal_accept(item=item, actor=request.user, **placement)
            messages.success(request, f"{item.key} accepted into the backlog.")
        elif decision == "reject":
            original = duplicate_in(product, request.POST.get("duplicate_of"))
            proposal_reject(item=item, actor=request.user, reason=request.POST.get("reason", ""), duplicate_of=original)
            messages.success(request, f"{item.key} rejected; the proposer can read why.")
        elif decision == "ask":
            proposal_ask(item=item, actor=request.user, question=request.POST.get("question", ""))
            messages.success(request, f"Question sent; {item.key} waits for the proposer's answer.")
        else:
            raise ValidationError("Choose accept, reject or ask.")
    except ValidationError as invalid:
        why = " ".join(invalid.messages)
        error = REFUSED.get(decision, "{key}: {why}").format(key=item.key, why=why)
        return _review_queue(request, product, actions, failed=item, error=error)
    return redirect("review-queue", product.key)


@login_required
def my_proposals_page(request: HttpRequest, key: str) -> HttpResponse:
    product, actions = access_product(request.user, key)
    proposals = list(proposals_of(product=product, user=request.user).order_by("-created_at", "-id")[:200])
    for proposal in proposals:
        proposal.state = proposal_state(proposal)
    return render(
        request,
        "refinement/mine.html",
        {"product": product, "actions": actions, "section": "mine", "proposals": proposals},
    )


@login_required
def agenda_page(request: HttpRequest, key: str) -> HttpResponse:
    product, actions = access_product(request.user, key)
    agenda = refinement_agenda(product=product, limit=AGENDA_SIZE)
    for item in agenda:
        item.checks = readiness(item, product)
    return render(
        request,
        "refinement/agenda.html",
        {
            "product": product,
            "actions": actions,
            "section": "agenda",
            "agenda": agenda,
            "stale": list(stale_items(product=product, near_top=True)[:AGENDA_SIZE]),
            "agenda_scan_limit": f"{AGENDA_SCAN_LIMIT:,}",
        },
    )


@login_required
def debt_page(request: HttpRequest, key: str) -> HttpResponse:
    product, actions = access_product(request.user, key)
    sprint = next_sprint_slice(product=product)
    trend = list(debt_trend(product=product, today=timezone.localdate()))
    figures = debt_figures(product=product)
    by_kind = figures.composition
    bars = [(kind, label, (by_kind.get(kind) or {}).get("points") or 0) for kind, label in Item.Kind.choices]
    bar_rows, bar_left, bar_height = bar_chart(bars)
    return render(
        request,
        "refinement/debt.html",
        {
            "product": product,
            "actions": actions,
            "section": "debt",
            "totals": figures.totals,
            "as_of": figures.as_of,
            "sprint": sprint,
            "target": product.debt_target_percent,
            "honoured": None if sprint.debt_percent is None else sprint.debt_percent >= product.debt_target_percent,
            "costliest": costliest_debt(product=product),
            "trend": trend,
            "principal_chart": line_chart([(f"{s.date:%b %d}", s.principal_points) for s in trend]),
            "interest_chart": line_chart([(f"{s.date:%b %d}", float(s.interest_hours)) for s in trend]),
            "bars": bar_rows,
            "bar_left": bar_left,
            "bar_height": bar_height,
            "composition": [
                (kind, label, by_kind.get(kind, {}).get("items", 0), points) for kind, label, points in bars
            ],
        },
    )
