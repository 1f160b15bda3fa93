"""Forms of accounts pages: allauth's sign-in form, and its sign-up form limited to ``SIGNUP_EMAIL_DOMAINS``."""

from allauth.account.forms import LoginForm, SignupForm
from allauth.core import context
from django import forms
from django.conf import settings

from accounts.adapter import email_domain_allowed, invitation_remembered


class SignUpForm(SignupForm):
    def clean_email(self) -> str:
        email = super().clean_email()
        invitation = invitation_remembered(context.request)
        invited = invitation is not None and invitation.email.lower() == email.lower()
        if not invited and not email_domain_allowed(email):
            allowed = ", ".join(settings.SIGNUP_EMAIL_DOMAINS)
            raise forms.ValidationError(f"Sign up with an address at {allowed}, or ask a product owner to invite you.")
        return email


class SignInForm(LoginForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "Username or e-mail"
