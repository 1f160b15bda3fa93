"""The owner's backlog settings pages: the scoring model and its weights, and the labels."""

import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import access_product
from accounts.models import Product
from accounts.permissions import Action
from backlog import scoring
from backlog.models import Label
from backlog.selectors import LABEL_COUNT_LIMIT, labels_with_counts
from backlog.services.labels import label_create, label_delete, label_merge, label_rename
from backlog.services.scores import product_scoring_update
from config.numbers import whole_number

WEIGHTS = {
    "business_value": "Business value",
    "time_criticality": "Time criticality",
    "risk_reduction": "Risk reduction / opportunity enablement",
}
MAX_WEIGHT = 10


def _weight(text: str) -> float | None:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) and 0 <= value <= MAX_WEIGHT else None


@login_required
def scoring_page(request: HttpRequest, key: str) -> HttpResponse:
    """The scoring model and the WSJF weights (owners); a change recomputes every score."""
    product, actions = access_product(request.user, key, Action.MANAGE)
    model = product.scoring_model
    weights = {name: str(product.score_weights.get(name, 1.0)) for name in WEIGHTS}
    errors = []
    if request.method == "POST":
        model = request.POST.get("scoring_model", "")
        weights = {name: request.POST.get(name, "").strip() for name in WEIGHTS}
        parsed = {name: _weight(text) for name, text in weights.items()}
        errors = [
            f"{WEIGHTS[name]}: give a number from 0 to {MAX_WEIGHT} (for example 1.5)."
            for name, value in parsed.items()
            if value is None
        ]
        if not errors:
            try:
                product_scoring_update(product=product, actor=request.user, model=model, weights=parsed)
            except ValidationError as invalid:
                errors = invalid.messages
            else:
                messages.success(
                    request, "Scoring saved. Every score is being recomputed now; the backlog shows them in a moment."
                )
                return redirect("scoring-settings", product.key)
    product = Product.objects.get(pk=product.pk)  # the recompute's progress as of now
    context = {
        "product": product,
        "actions": actions,
        "section": "scoring",
        "models": [(value, value.upper() if value != scoring.MOSCOW else "MoSCoW") for value in scoring.MODELS],
        "model": model,
        "weights": [(name, label, weights[name]) for name, label in WEIGHTS.items()],
        "recomputing": product.scores_version < product.scoring_version,
        "errors": errors,
    }
    return render(request, "backlog/scoring_settings.html", context, status=400 if errors else 200)


def _label(product: Product, label_id: int | str | None) -> Label:
    label = (
        Label.objects.filter(product=product, pk=whole_number(str(label_id or ""))).select_related("product").first()
    )
    if label is None:
        raise Http404("No such label.")
    return label


@login_required
def labels_page(request: HttpRequest, key: str) -> HttpResponse:
    """The product's labels with how many items use each; owners create them here."""
    product, actions = access_product(request.user, key, Action.MANAGE)
    if request.method == "POST":
        try:
            label = label_create(product=product, actor=request.user, name=request.POST.get("name", ""))
        except ValidationError as invalid:
            messages.error(request, " ".join(invalid.messages))
        else:
            messages.success(request, f"Label “{label.name}” created.")
        return redirect("labels", product.key)
    context = {
        "product": product,
        "actions": actions,
        "section": "labels",
        "labels": labels_with_counts(product=product),
        "label_count_limit": LABEL_COUNT_LIMIT,
    }
    return render(request, "backlog/labels.html", context)


@login_required
@require_POST
def label_change(request: HttpRequest, key: str, label_id: int) -> HttpResponse:
    """Rename, merge or delete one label (owners)."""
    product, _ = access_product(request.user, key, Action.MANAGE)
    label = _label(product, label_id)
    action, name = request.POST.get("action"), label.name
    try:
        if action == "rename":
            label_rename(label=label, actor=request.user, name=request.POST.get("name", ""))
            messages.success(request, f"Label “{name}” is now “{label.name}” on every item.")
        elif action == "merge":
            into = _label(product, request.POST.get("into"))
            moved = label_merge(label=label, into=into, actor=request.user)
            messages.success(request, f"“{name}” merged into “{into.name}” ({moved} items).")
        elif action == "delete":
            count = label_delete(label=label, actor=request.user)
            messages.success(request, f"Label “{name}” deleted; {count} items no longer carry it.")
        else:
            raise ValidationError("Rename, merge or delete.")
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
    return redirect("labels", product.key)
