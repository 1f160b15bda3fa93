"""Signing in with a username or an e-mail address."""

from django.contrib.auth.backends import ModelBackend

from accounts.models import User


class UsernameOrEmailBackend(ModelBackend):
    """Django's backend, that also takes the e-mail address of exactly one user as the username."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username and "@" in username:
            matches = list(User.objects.filter(email__iexact=username.strip()).values_list("username", flat=True)[:2])
            if len(matches) == 1:  # an address two accounts share names neither
                username = matches[0]
        return super().authenticate(request, username=username, password=password, **kwargs)
