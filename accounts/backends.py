"""Signing in with a username or an e-mail address."""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from allauth.account.models import EmailAddress

from accounts.models import User


class AuthenticationBackend(AllauthBackend):
    """allauth's backend, whose e-mail look-up also finds accounts by their own address in any case
    (accounts made before allauth, or by the admin or ``seed_demo``, have no ``EmailAddress`` row
    and may hold capitals), and names nobody for an address two accounts share."""

    def _authenticate_by_email(self, email: str, password: str):
        email = email.strip()
        if not email:
            return None
        users = set(User.objects.filter(email__iexact=email)) | {
            address.user for address in EmailAddress.objects.filter(email__iexact=email).select_related("user")
        }
        if len(users) != 1:
            return None
        return self._check_password(users.pop(), password)
