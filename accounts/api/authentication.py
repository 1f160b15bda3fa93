from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.api.throttling import address_budget_spend
from accounts.services import token_authenticate


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer obk_…`` with a personal API token; ``request.auth`` is the token."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            address_budget_spend(request)
            raise exceptions.AuthenticationFailed("Send the token as: Authorization: Bearer <token>.")
        token = token_authenticate(header[1])
        if token is None or not token.user.is_active:
            address_budget_spend(request)  # a failed attempt counts against the address: no free guessing
            raise exceptions.AuthenticationFailed("The token is unknown, revoked or expired.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class AddressBudgetAuthentication(authentication.BaseAuthentication):
    """Last in line: a request that no other authenticator recognised (no credentials) spends its
    address's budget before permissions can refuse it, and stays anonymous."""

    def authenticate(self, request):
        address_budget_spend(request)
        return None


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A personal API token, obk_…"}
