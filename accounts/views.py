"""Pages of accounts: home (the product switcher), the user's page with personal API tokens."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import access_token
from accounts.models import ApiToken
from accounts.selectors import products_for
from accounts.services import token_create, token_revoke
from config.numbers import whole_number


@login_required
def home(request: HttpRequest) -> HttpResponse:
    products = list(products_for(user=request.user))
    if len(products) == 1:
        return redirect("backlog", products[0].key)
    return render(request, "accounts/home.html", {"products": products})


@login_required
def me(request: HttpRequest) -> HttpResponse:
    """The user's page: personal API tokens (a new one is shown once, here, and never again)."""
    context = {}
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        days = request.POST.get("expires_in_days", "").strip()
        try:
            if not name or len(name) > 100:
                raise ValidationError("Give the token a name (up to 100 characters).")
            if days and whole_number(days, low=1, high=3650) is None:
                raise ValidationError("Expiry is a number of days from 1 to 3650, or empty for none.")
            expires_at = timezone.now() + timedelta(days=int(days)) if days else None
            token, raw = token_create(
                user=request.user, name=name, read_only=request.POST.get("read_only") == "on", expires_at=expires_at
            )
            context["new_token"], context["new_token_name"] = raw, token.name
        except ValidationError as invalid:
            context["token_error"] = " ".join(invalid.messages)
    context["tokens"] = ApiToken.objects.filter(user=request.user).select_related("parent").order_by("-created_at")
    return render(request, "accounts/me.html", context, status=400 if "token_error" in context else 200)


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    token = access_token(request.user, token_id)
    token_revoke(token=token, actor=request.user)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("me")
