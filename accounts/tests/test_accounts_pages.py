"""Accounts: sign-up (open, by invitation, off; e-mail domains), sign-in by username or e-mail,
password change and reset by e-mail, the profile."""

import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.test import Client

from accounts.audit import audit_record
from accounts.models import AuditEvent, Membership, User
from accounts.services import invitation_create
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase 42"


def sign_up(client: Client, query: str = "", **fields):
    form = {"username": "newbie", "email": "newbie@example.com", "password1": PASSWORD, "password2": PASSWORD}
    return client.post(f"/accounts/signup/{query}", {**form, **fields})


def test_open_sign_up_makes_an_account_and_signs_in():
    client = Client()
    assert client.get("/accounts/signup/").status_code == 200
    response = sign_up(client)
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert user.email == "newbie@example.com" and user.check_password(PASSWORD)
    assert client.get("/me/").status_code == 200  # signed in


def test_sign_up_refuses_a_weak_password_or_a_taken_address(user):
    weak = sign_up(Client(), password1="123", password2="123")
    assert weak.status_code == 400 and "This password is too short" in weak.content.decode()
    taken = sign_up(Client(), email=user.email.upper())
    assert taken.status_code == 400 and "An account has this address" in taken.content.decode()
    assert not User.objects.filter(username="newbie").exists()


def test_sign_up_can_be_limited_to_e_mail_domains(settings):
    settings.SIGNUP_EMAIL_DOMAINS = ["example.org"]
    refused = sign_up(Client(), email="someone@gmail.com")
    assert refused.status_code == 400 and "Sign up with an address at example.org" in refused.content.decode()
    assert sign_up(Client(), email="someone@EXAMPLE.org").status_code == 302


def test_sign_up_can_be_turned_off(settings):
    settings.SIGNUP = "off"
    assert Client().get("/accounts/signup/").status_code == 403
    assert sign_up(Client()).status_code == 403
    assert not User.objects.filter(username="newbie").exists()
    assert "Sign up" not in Client().get("/accounts/login/").content.decode()


def test_invitation_only_sign_up_needs_an_open_invitation_and_joins_it(settings, product, owner):
    settings.SIGNUP = "invitation"
    settings.SIGNUP_EMAIL_DOMAINS = ["example.org"]  # the invited address passes anyway
    assert sign_up(Client()).status_code == 403
    assert sign_up(Client(), "?invitation=forged").status_code == 403
    _, raw = invitation_create(
        product=product, actor=owner, invitee="guest@outside.com", role="developer", site_url="http://x"
    )
    client = Client()
    form = client.get(f"/accounts/signup/?invitation={raw}")
    assert form.status_code == 200 and 'value="guest@outside.com"' in form.content.decode()
    response = sign_up(client, email="guest@outside.com", invitation=raw)
    assert response.status_code == 302 and response["Location"] == f"/invitations/{raw}/"
    client.post(response["Location"])
    assert product.memberships.get(user__username="newbie").role == "developer"


def test_signing_in_with_a_username_or_an_e_mail_address():
    user = UserFactory(username="ada", email="Ada@Example.com")
    for name in ("ada", "ada@example.com", " ADA@example.com"):
        client = Client()
        response = client.post("/accounts/login/", {"username": name, "password": PASSWORD})
        assert response.status_code == 302, name
        assert client.get("/me/").context["user"] == user
    wrong = Client().post("/accounts/login/", {"username": "ada@example.com", "password": "wrong"})
    assert wrong.status_code == 200 and "did not match" in wrong.content.decode()


def test_an_address_two_accounts_share_signs_in_neither():
    UserFactory(username="one", email="shared@example.com")
    UserFactory(username="two", email="shared@example.com")
    response = Client().post("/accounts/login/", {"username": "shared@example.com", "password": PASSWORD})
    assert response.status_code == 200 and "did not match" in response.content.decode()


def test_password_change_needs_the_old_password(user):
    client = Client()
    client.force_login(user)
    form = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    refused = client.post("/accounts/password/change/", {"old_password": "wrong", **form})
    assert refused.status_code == 200 and not User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    done = client.post("/accounts/password/change/", {"old_password": PASSWORD, **form})
    assert done.status_code == 302 and User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert Client().get("/accounts/password/change/").status_code == 302  # signed out: sign in first


def test_password_reset_by_e_mail_works_once(user):
    client = Client()
    assert client.post("/accounts/password/reset/", {"email": user.email}).status_code == 302
    [message] = mail.outbox
    assert message.to == [user.email] and "Reset your OneBacklog password" in message.subject
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert "This link no longer works" in Client().get(link, follow=True).content.decode()


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same():
    response = Client().post("/accounts/password/reset/", {"email": "nobody@example.com"}, follow=True)
    assert "If an account has that address" in response.content.decode() and not mail.outbox


def test_the_profile_sets_the_display_name_address_and_time_zone(user, product, owner):
    client = Client()
    client.force_login(user)
    client.post("/me/profile/", {"display_name": "Ada L.", "email": "ada@example.org", "time_zone": "Europe/Berlin"})
    user.refresh_from_db()
    assert (user.display_name, user.email, user.time_zone) == ("Ada L.", "ada@example.org", "Europe/Berlin")
    assert "Ada L." in client.get("/me/").content.decode()
    # Times are shown in the user's zone: an audit entry at 12:00 UTC reads 13:00 in Berlin (winter).
    Membership.objects.create(user=user, product=product, role="owner")
    event = audit_record(product=product, actor=owner, action=AuditEvent.Action.PRODUCT_RENAMED, old="a", new="b")
    AuditEvent.objects.filter(pk=event.pk).update(at=datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    assert "2026-01-15 13:00" in client.get(f"/p/{product.key}/audit/").content.decode()


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ({"display_name": "", "email": "", "time_zone": "Mars/Olympus"}, "Choose a time zone from the list"),
        ({"display_name": "", "email": "not-an-address", "time_zone": "UTC"}, "Enter a valid email address."),
    ],
)
def test_a_bad_profile_is_refused_with_a_reason(user, form, says):
    client = Client()
    client.force_login(user)
    response = client.post("/me/profile/", form, follow=True)
    assert says in " ".join(str(m) for m in response.context["messages"])
    user.refresh_from_db()
    assert user.time_zone == "UTC" and "@" in user.email


def test_the_profile_refuses_another_accounts_address(user):
    other = UserFactory()
    client = Client()
    client.force_login(user)
    response = client.post("/me/profile/", {"email": other.email, "time_zone": "UTC"}, follow=True)
    assert "Another account has this address." in " ".join(str(m) for m in response.context["messages"])
