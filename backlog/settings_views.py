"""The owner's backlog settings pages: the scoring model and its weights."""

import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.access import access_product
from accounts.models import Product
from accounts.permissions import Action
from backlog import scoring
from backlog.services.scores import product_scoring_update

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
