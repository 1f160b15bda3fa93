"""Pages of accounts: home (the product switcher), the user's page with personal API tokens."""

from datetime import timedelta
from zoneinfo import available_timezones

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from accounts.access import access_product, access_token
from accounts.adapter import invitation_forget, invitation_remember
from accounts.models import MAX_READY_ESTIMATE, ApiToken, Membership, Notification, Product
from accounts.permissions import Action, can_create_product
from accounts.selectors import audit_events, open_invitations, product_members, products_for
from accounts.services import (
    MAX_SLA_HOURS,
    invitation_accept,
    invitation_create,
    invitation_find,
    invitation_revoke,
    membership_remove,
    membership_set,
    notifications_mark_read,
    product_archive,
    product_create,
    product_update,
    token_create,
    token_revoke,
    user_profile_update,
)
from config.numbers import whole_number
from config.pages import show_errors

TIME_ZONES = sorted(available_timezones())


@login_required
def home(request: HttpRequest) -> HttpResponse:
    products = list(products_for(user=request.user))
    active = [product for product in products if product.archived_at is None]
    if len(products) == 1 and active:
        return redirect("backlog", products[0].key)
    archived = [product for product in products if product.archived_at is not None]
    context = {"products": active, "archived": archived, "can_create": can_create_product(request.user)}
    return render(request, "accounts/home.html", context)


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
    context["time_zones"] = TIME_ZONES
    context["tokens"] = ApiToken.objects.filter(user=request.user).select_related("parent").order_by("-created_at")
    return render(request, "accounts/me.html", context, status=400 if "token_error" in context else 200)


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    token = access_token(request.user, token_id)
    token_revoke(token=token, actor=request.user)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("me")


@login_required
def product_new(request: HttpRequest) -> HttpResponse:
    """Start a product: the creator becomes its product owner."""
    if not can_create_product(request.user):
        raise PermissionDenied("Only staff start products on this site; ask an administrator.")
    values = {"name": "", "key": ""}
    if request.method == "POST":
        values = {"name": request.POST.get("name", "").strip(), "key": request.POST.get("key", "").strip().upper()}
        try:
            if Product.objects.filter(key=values["key"]).exists():
                raise ValidationError({"key": f"The key {values['key']} is taken: choose another."})
            product = product_create(name=values["name"], key=values["key"], owner=request.user)
        except ValidationError as invalid:
            show_errors(request, invalid)
        else:
            messages.success(request, f"{product.name} is ready: invite your team from Members.")
            return redirect("backlog", product.key)
    return render(request, "accounts/product_new.html", {"values": values}, status=400 if values["name"] else 200)


def _manage_page(request: HttpRequest, key: str) -> tuple[Product, frozenset]:
    return access_product(request.user, key, Action.MANAGE)


READY_CHECKS = {
    "estimate": "An estimate",
    "acceptance_criteria": "Acceptance criteria",
    "value_inputs": "The value inputs of the scoring model",
    "description": "A description",
}
POLICY_NUMBERS = {  # field: (label, lowest, highest)
    "stale_after_days": ("Stale after (days)", 1, 3650),
    "debt_target_percent": ("Debt target (%)", 0, 100),
    "sprint_capacity": ("Sprint capacity (points)", 1, 10_000),
}


def _policy_form(product: Product) -> dict:
    """The policy settings as the form shows them (text, as typed)."""
    ready = product.definition_of_ready
    return {
        **{name: str(getattr(product, name)) for name in POLICY_NUMBERS},
        **{f"sla_{priority}": str(hours) for priority, hours in sorted(product.sla_hours.items())},
        **{f"ready_{check}": bool(ready.get(check)) for check in READY_CHECKS},
        "ready_max_estimate": "" if ready.get("max_estimate") is None else str(ready["max_estimate"]),
    }


def _policy_changes(post) -> tuple[dict, dict, list[str]]:
    """Read the policy form: (the form as typed, the changes for ``product_update``, the errors)."""
    form = {name: post.get(name, "").strip() for name in [*POLICY_NUMBERS, "ready_max_estimate"]}
    form |= {f"sla_P{n}": post.get(f"sla_P{n}", "").strip() for n in range(1, 6)}
    form |= {f"ready_{check}": post.get(f"ready_{check}") == "on" for check in READY_CHECKS}
    changes, errors = {}, []
    for name, (label, low, high) in POLICY_NUMBERS.items():
        changes[name] = whole_number(form[name], low=low, high=high)
        if changes[name] is None:
            errors.append(f"{label}: give a whole number from {low} to {high:,}.")
    sla = {f"P{n}": whole_number(form[f"sla_P{n}"], low=1, high=MAX_SLA_HOURS) for n in range(1, 6)}
    for priority, hours in sla.items():
        if hours is None:
            errors.append(f"SLA for {priority}: give whole hours from 1 to {MAX_SLA_HOURS:,}.")
    changes["sla_hours"] = sla
    limit = None
    if form["ready_max_estimate"]:
        limit = whole_number(form["ready_max_estimate"], low=1, high=MAX_READY_ESTIMATE)
        if limit is None:
            errors.append(f"Largest ready estimate: whole points from 1 to {MAX_READY_ESTIMATE}, or empty for any.")
    changes["definition_of_ready"] = {check: form[f"ready_{check}"] for check in READY_CHECKS} | {"max_estimate": limit}
    return form, changes, errors


@login_required
def product_settings_page(request: HttpRequest, key: str) -> HttpResponse:
    """The product's name and policies (Definition of Ready, debt target, capacity, stale period,
    SLA hours), and archiving it (owners)."""
    product, actions = _manage_page(request, key)
    policy, errors = _policy_form(product), []
    if request.method == "POST":
        action = request.POST.get("action", "rename")
        try:
            if action == "rename":
                name = request.POST.get("name", "").strip()
                product_update(product=product, actor=request.user, changes={"name": name})
                messages.success(request, "Product renamed.")
            elif action == "policies":
                policy, changes, errors = _policy_changes(request.POST)
                if not errors:
                    product_update(product=product, actor=request.user, changes=changes)
                    messages.success(request, "Policies saved.")
            elif action == "search":
                language = request.POST.get("search_language", "")
                product_update(product=product, actor=request.user, changes={"search_language": language})
                messages.success(request, "Search language saved.")
            elif action in ("archive", "restore"):
                product_archive(product=product, actor=request.user, archived=action == "archive")
                messages.success(request, f"{product.name} {'archived' if action == 'archive' else 'restored'}.")
            else:
                raise ValidationError("Unknown action.")
        except ValidationError as invalid:
            errors = invalid.messages
        if not errors:
            return redirect("product-settings", product.key)
    context = {
        "product": product,
        "actions": actions,
        "section": "settings",
        "errors": errors,
        "numbers": [(name, label, low, high, policy[name]) for name, (label, low, high) in POLICY_NUMBERS.items()],
        "ready_checks": [(check, label, policy[f"ready_{check}"]) for check, label in READY_CHECKS.items()],
        "ready_max_estimate": policy["ready_max_estimate"],
        "sla": [(f"P{n}", policy[f"sla_P{n}"]) for n in range(1, 6)],
        "max_sla_hours": MAX_SLA_HOURS,
        "max_ready_estimate": MAX_READY_ESTIMATE,
        "search_languages": Product._meta.get_field("search_language").choices,
    }
    return render(request, "accounts/product_settings.html", context, status=400 if errors else 200)


@login_required
def members_page(request: HttpRequest, key: str) -> HttpResponse:
    """The members, the open invitations and the invitation form (owners)."""
    product, actions = _manage_page(request, key)
    context = {
        "product": product,
        "actions": actions,
        "section": "members",
        "members": product_members(product=product),
        "invitations": open_invitations(product=product),
        "roles": Membership.Role.choices,
        "invitation_days": settings.INVITATION_DAYS,
    }
    return render(request, "accounts/members.html", context)


@login_required
@require_POST
def member_invite(request: HttpRequest, key: str) -> HttpResponse:
    product, _ = _manage_page(request, key)
    try:
        invitation, _ = invitation_create(
            product=product,
            actor=request.user,
            invitee=request.POST.get("invitee", ""),
            role=request.POST.get("role", ""),
            ordering_delegated=request.POST.get("ordering_delegated") == "on",
            site_url=request.build_absolute_uri("/"),
        )
    except ValidationError as invalid:
        show_errors(request, invalid)
    else:
        messages.success(request, f"Invitation sent to {invitation.email}.")
    return redirect("members", product.key)


def _member(product: Product, username: str) -> Membership:
    membership = product_members(product=product).filter(user__username=username).first()
    if membership is None:
        raise Http404("No such member.")
    return membership


@login_required
@require_POST
def member_change(request: HttpRequest, key: str, username: str) -> HttpResponse:
    product, _ = _manage_page(request, key)
    membership = _member(product, username)
    try:
        membership_set(
            product=product,
            actor=request.user,
            user=membership.user,
            role=request.POST.get("role", ""),
            ordering_delegated=request.POST.get("ordering_delegated") == "on",
        )
    except ValidationError as invalid:
        show_errors(request, invalid)
    else:
        messages.success(request, f"{username}'s role saved.")
    return redirect("members", product.key)


@login_required
@require_POST
def member_remove(request: HttpRequest, key: str, username: str) -> HttpResponse:
    product, _ = _manage_page(request, key)
    membership = _member(product, username)
    try:
        membership_remove(product=product, actor=request.user, user=membership.user)
    except ValidationError as invalid:
        show_errors(request, invalid)
    else:
        messages.success(request, f"{username} is no longer a member of {product.name}.")
    return redirect("members", product.key)


@login_required
@require_POST
def invitation_revoke_view(request: HttpRequest, key: str, invitation_id: int) -> HttpResponse:
    product, _ = _manage_page(request, key)
    invitation = open_invitations(product=product).filter(pk=invitation_id).first()
    if invitation is None:
        raise Http404("No such invitation.")
    invitation_revoke(invitation=invitation, actor=request.user)
    messages.success(request, f"The invitation of {invitation.email} is withdrawn.")
    return redirect("members", product.key)


@login_required
def audit_page(request: HttpRequest, key: str) -> HttpResponse:
    """The product's audit trail: member, invitation and setting changes (owners)."""
    product, actions = _manage_page(request, key)
    events = Paginator(audit_events(product=product), 50).get_page(request.GET.get("page"))
    return render(
        request, "accounts/audit.html", {"product": product, "actions": actions, "section": "audit", "events": events}
    )


def invitation_page(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation link: who invites you where, and the button to join (signed out: the ways
    to sign in or sign up first)."""
    invitation = invitation_find(token)
    if invitation is None:
        raise Http404("No such invitation.")
    if request.method == "POST" and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.method == "POST":
        try:
            membership = invitation_accept(raw=token, user=request.user)
        except ValidationError as invalid:
            show_errors(request, invalid)
            return redirect("invitation", token)
        invitation_forget(request)
        messages.success(request, f"Welcome to {membership.product.name}.")
        return redirect("backlog", membership.product.key)
    problem = None
    if not invitation.is_open(timezone.now()):
        problem = (
            "This invitation has already been used."
            if invitation.accepted_at
            else "This invitation is no longer valid; ask the product owner for a new one."
        )
    elif request.user.is_authenticated and invitation.invitee_id not in (None, request.user.pk):
        problem = "This invitation is for someone else: sign in as the person invited."
    return render(
        request,
        "accounts/invitation.html",
        {
            "invitation": invitation,
            "invitation_token": token,
            "problem": problem,
            "can_sign_up": settings.SIGNUP != "off" and invitation.invitee_id is None,
        },
        status=410 if problem and not invitation.is_open(timezone.now()) else 200,
    )


def invitation_sign_up(request: HttpRequest, token: str) -> HttpResponse:
    """Sign up from an invitation link: allauth's sign-up with the invited address filled in (and
    counted as confirmed, the link having been mailed to it), then back to the invitation to join."""
    invitation = invitation_find(token)
    if invitation is None:
        raise Http404("No such invitation.")
    if request.user.is_authenticated or not invitation.is_open(timezone.now()):
        return redirect("invitation", token)
    invitation_remember(request, raw=token)
    query = urlencode({"email": invitation.email, "next": reverse("invitation", args=[token])})
    return redirect(f"{reverse('account_signup')}?{query}")


@login_required
@require_POST
def profile_update(request: HttpRequest) -> HttpResponse:
    """Save the profile; a new e-mail address is mailed a confirmation link (unless confirming is off)."""
    before = request.user.email
    try:
        user_profile_update(
            user=request.user,
            display_name=request.POST.get("display_name", ""),
            email=request.POST.get("email", ""),
            time_zone=request.POST.get("time_zone", ""),
        )
    except ValidationError as invalid:
        request.user.refresh_from_db()
        show_errors(request, invalid)
    else:
        address = EmailAddress.objects.filter(user=request.user, primary=True, verified=False).first()
        if address and address.email != before.lower() and settings.EMAIL_VERIFICATION != "none":
            address.send_confirmation(request)
            messages.success(request, f"Profile saved. We sent a link to {address.email} to confirm it.")
        else:
            messages.success(request, "Profile saved.")
    return redirect("me")


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first; POST marks them all read."""
    if request.method == "POST":
        notifications_mark_read(user=request.user)
        return redirect("inbox")
    page = Paginator(Notification.objects.filter(user=request.user, in_app=True), 50).get_page(request.GET.get("page"))
    return render(request, "accounts/inbox.html", {"notifications": page})


@login_required
@require_POST
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read and go to what it is about."""
    notification = Notification.objects.filter(pk=notification_id, user=request.user, in_app=True).first()
    if notification is None:
        raise Http404("No such notification.")
    notifications_mark_read(user=request.user, ids=[notification.pk])
    return redirect(notification.link if url_has_allowed_host_and_scheme(notification.link, None) else "inbox")
