"""Forms of accounts pages: sign-up."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm

from accounts.models import User


def email_domain_allowed(email: str) -> bool:
    """Is ``email`` in one of the domains sign-up is limited to (``SIGNUP_EMAIL_DOMAINS``; none: any)?"""
    domains = [domain.lower() for domain in settings.SIGNUP_EMAIL_DOMAINS]
    return not domains or email.rpartition("@")[2].lower() in domains


class SignUpForm(UserCreationForm):
    email = forms.EmailField(help_text="For invitations and password resets.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def __init__(self, *args, invited_email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.invited_email = invited_email.lower()

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if email.lower() != self.invited_email and not email_domain_allowed(email):
            allowed = ", ".join(settings.SIGNUP_EMAIL_DOMAINS)
            raise forms.ValidationError(f"Sign up with an address at {allowed}, or ask a product owner to invite you.")
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account has this address: sign in, or reset your password.")
        return email
