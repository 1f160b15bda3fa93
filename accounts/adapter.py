"""django-allauth, fitted to OneBacklog: who may sign up (``SIGNUP``, ``SIGNUP_EMAIL_DOMAINS``) and
sign-up from an invitation link (the address it was mailed to counts as confirmed)."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Invitation
from accounts.services import invitation_find

INVITATION_SESSION_KEY = "invitation"


def invitation_remember(request: HttpRequest, *, raw: str) -> None:
    """Keep the invitation link the visitor came with, for sign-up."""
    request.session[INVITATION_SESSION_KEY] = raw


def invitation_remembered(request: HttpRequest) -> Invitation | None:
    """The open invitation the visitor came with, if any."""
    invitation = invitation_find(request.session.get(INVITATION_SESSION_KEY, ""))
    return invitation if invitation is not None and invitation.is_open(timezone.now()) else None


def invitation_forget(request: HttpRequest) -> None:
    request.session.pop(INVITATION_SESSION_KEY, None)


def email_domain_allowed(email: str) -> bool:
    """Is ``email`` in one of the domains sign-up is limited to (``SIGNUP_EMAIL_DOMAINS``; none: any)?"""
    domains = [domain.lower() for domain in settings.SIGNUP_EMAIL_DOMAINS]
    return not domains or email.rpartition("@")[2].lower() in domains


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """``SIGNUP``: open to anyone, only to someone holding an open invitation, or off (closed:
        403, saying why)."""
        if settings.SIGNUP == "open" or (settings.SIGNUP == "invitation" and invitation_remembered(request)):
            return True
        reason = "Sign-up is closed here" if settings.SIGNUP == "off" else "Sign-up is by invitation only"
        raise ImmediateHttpResponse(render(request, "account/signup_closed.html", {"reason": reason}, status=403))

    def is_email_verified(self, request: HttpRequest, email: str) -> bool:
        """An address an invitation was mailed to is proved by following its link; any other
        address is confirmed the usual way."""
        invitation = invitation_remembered(request)
        return invitation is not None and invitation.email.lower() == email.lower()
