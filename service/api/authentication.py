"""Intake tokens on the intake endpoint (and nowhere else: other endpoints do not list this class)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.api.throttling import WindowThrottle, address_budget_spend
from service.models import IntakeToken
from service.services.tokens import INTAKE_TOKEN_PREFIX, intake_token_authenticate


class IntakeTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer obi_…``; ``request.auth`` is the intake token, ``request.user`` its
    creator (recorded as the items' creator)."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if len(header) != 2 or header[0].lower() != "bearer" or not header[1].startswith(INTAKE_TOKEN_PREFIX):
            return None
        token = intake_token_authenticate(header[1])
        if token is None or not token.created_by.is_active:
            address_budget_spend(request)  # a failed attempt counts against the address: no free guessing
            raise exceptions.AuthenticationFailed("The intake token is unknown or revoked.")
        return token.created_by, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class IntakeTokenScheme(OpenApiAuthenticationExtension):
    target_class = IntakeTokenAuthentication
    name = "intakeToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An intake token, obi_…: intake on one product only.",
        }


class IntakeThrottle(WindowThrottle):
    """One budget per intake token (surges are expected: the ``intake`` rate), else per user."""

    scope = "intake"

    def identify(self, request) -> str | None:
        if isinstance(request.auth, IntakeToken):
            return f"intake:{request.auth.pk}"
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        return None
