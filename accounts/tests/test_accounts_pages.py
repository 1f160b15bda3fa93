"""Accounts through django-allauth: sign-up (open, by invitation, off; e-mail domains), sign-in by
username or e-mail (also for accounts allauth never recorded), e-mail confirmation, password change
and reset by e-mail, rate limits, and the profile."""

import re
from datetime import UTC, datetime

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.test import Client

from accounts.audit import audit_record
from accounts.models import AuditEvent, Membership, User
from accounts.services import invitation_create
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase 42"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth counts attempts in the cache: each test starts with none."""
    cache.clear()


def sign_up(client: Client, **fields):
    form = {"username": "newbie", "email": "newbie@example.com", "password1": PASSWORD, "password2": PASSWORD}
    return client.post("/accounts/signup/", {**form, **fields})


def sign_in(client: Client, login: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"login": login, "password": password})


def signed_in_as(client: Client) -> User | None:
    user = client.get("/me/").context.get("user") if client.session.get("_auth_user_id") else None
    return user if user is not None and user.is_authenticated else None


def test_open_sign_up_makes_an_account_signs_in_and_mails_a_confirmation_link():
    client = Client()
    assert client.get("/accounts/signup/").status_code == 200
    response = sign_up(client)
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get(username="newbie")
    assert user.email == "newbie@example.com" and user.check_password(PASSWORD)
    assert signed_in_as(client) == user
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.primary, address.verified) == ("newbie@example.com", True, False)
    [message] = mail.outbox
    assert message.to == ["newbie@example.com"] and message.subject.startswith("[OneBacklog] ")
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", message.body).group(1)
    assert client.post(link).status_code == 302
    address.refresh_from_db()
    assert address.verified


def test_sign_up_refuses_a_weak_password_or_a_taken_address(user):
    weak = sign_up(Client(), password1="123", password2="123")
    assert weak.status_code == 200 and "This password is too short" in weak.content.decode()
    taken = sign_up(Client(), email=user.email.upper())
    assert taken.status_code == 200 and "A user is already registered with this email address" in taken.content.decode()
    assert not User.objects.filter(username="newbie").exists()


def test_sign_up_can_be_limited_to_e_mail_domains(settings):
    settings.SIGNUP_EMAIL_DOMAINS = ["example.org"]
    refused = sign_up(Client(), email="someone@gmail.com")
    assert refused.status_code == 200 and "Sign up with an address at example.org" in refused.content.decode()
    assert not User.objects.filter(username="newbie").exists()
    assert sign_up(Client(), email="someone@EXAMPLE.org").status_code == 302
    assert User.objects.get(username="newbie").email == "someone@example.org"


def test_sign_up_can_be_turned_off(settings):
    settings.SIGNUP = "off"
    closed = Client().get("/accounts/signup/")
    assert closed.status_code == 403 and "Sign-up is closed here" in closed.content.decode()
    assert sign_up(Client()).status_code == 403
    assert not User.objects.filter(username="newbie").exists()
    assert "/accounts/signup/" not in Client().get("/accounts/login/").content.decode()


def test_sign_up_is_offered_on_the_sign_in_page_when_open(settings):
    assert 'href="/accounts/signup/"' in Client().get("/accounts/login/").content.decode()


@pytest.mark.parametrize("confirming", ["optional", "mandatory"])
def test_invitation_only_sign_up_needs_an_open_invitation_and_joins_it(settings, product, owner, confirming):
    settings.EMAIL_VERIFICATION = settings.ACCOUNT_EMAIL_VERIFICATION = confirming
    settings.SIGNUP = "invitation"
    settings.SIGNUP_EMAIL_DOMAINS = ["example.org"]  # the invited address passes anyway
    refused = sign_up(Client())
    assert refused.status_code == 403 and "Sign-up is by invitation only" in refused.content.decode()
    assert Client().get("/invitations/forged/signup/").status_code == 404
    _, raw = invitation_create(
        product=product, actor=owner, invitee="guest@outside.com", role="developer", site_url="http://x"
    )
    mail.outbox.clear()
    client = Client()
    form = client.get(f"/invitations/{raw}/signup/", follow=True)
    assert form.status_code == 200 and 'value="guest@outside.com"' in form.content.decode()
    response = sign_up(client, email="guest@outside.com", next=f"/invitations/{raw}/")
    assert response.status_code == 302 and response["Location"] == f"/invitations/{raw}/"
    user = User.objects.get(username="newbie")
    assert EmailAddress.objects.get(user=user).verified  # the invitation's link proved the address
    assert not mail.outbox  # so no confirmation link is mailed
    client.post(response["Location"])
    assert product.memberships.get(user=user).role == "developer"
    # The invitation is used up: it opens sign-up no more, in that session or any other.
    client.post("/accounts/logout/")
    assert sign_up(client, username="second", email="second@example.org").status_code == 403
    assert Client().get(f"/invitations/{raw}/signup/")["Location"] == f"/invitations/{raw}/"


def test_an_invitee_with_an_account_signs_in_from_the_link_and_comes_back_to_join(product, owner, user):
    _, raw = invitation_create(
        product=product, actor=owner, invitee=user.email, role="stakeholder", site_url="http://x"
    )
    client = Client()
    form = client.get(f"/accounts/login/?next=/invitations/{raw}/")
    assert f'name="next" value="/invitations/{raw}/"' in form.content.decode()
    signed_in = client.post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD, "next": f"/invitations/{raw}/"}
    )
    assert signed_in["Location"] == f"/invitations/{raw}/"
    assert client.post(signed_in["Location"])["Location"] == f"/p/{product.key}/"
    assert product.memberships.get(user=user).role == "stakeholder"


def test_an_invitee_who_signs_up_with_another_address_must_confirm_it(settings, product, owner):
    settings.EMAIL_VERIFICATION = settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    _, raw = invitation_create(
        product=product, actor=owner, invitee="guest@example.com", role="developer", site_url="x"
    )
    mail.outbox.clear()
    client = Client()
    client.get(f"/invitations/{raw}/signup/")
    response = sign_up(client, email="other@example.com", next=f"/invitations/{raw}/")
    assert response["Location"] == "/accounts/confirm-email/"
    [address] = EmailAddress.objects.filter(user__username="newbie")
    assert (address.email, address.verified) == ("other@example.com", False)
    assert signed_in_as(client) is None
    [message] = mail.outbox
    assert message.to == ["other@example.com"]


def test_mandatory_confirmation_keeps_a_new_account_out_until_the_link_is_followed(settings):
    settings.EMAIL_VERIFICATION = settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    client = Client()
    response = sign_up(client)
    assert response.status_code == 302 and response["Location"] == "/accounts/confirm-email/"
    assert signed_in_as(client) is None
    refused = sign_in(Client(), "newbie")
    assert refused["Location"] == "/accounts/confirm-email/"
    assert len(mail.outbox) == 1  # not mailed again within the 3-minute cool-down
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", mail.outbox[0].body).group(1)
    client.post(link)
    assert EmailAddress.objects.get(email="newbie@example.com").verified
    signing_in = Client()
    assert sign_in(signing_in, "newbie@example.com")["Location"] == "/"
    assert signed_in_as(signing_in).username == "newbie"


def test_signing_in_with_a_username_or_an_e_mail_address():
    """A user allauth never recorded (made by a factory, ``seed_demo`` or the admin: no
    ``EmailAddress`` row, capitals in the address) signs in by username or by address."""
    user = UserFactory(username="ada", email="Ada@Example.com")
    assert not EmailAddress.objects.filter(user=user).exists()
    for name in ("ada", "ada@example.com", " ADA@example.com"):
        client = Client()
        response = sign_in(client, name)
        assert response.status_code == 302 and response["Location"] == "/", name
        assert signed_in_as(client) == user
    wrong = sign_in(Client(), "ada@example.com", "wrong")
    assert wrong.status_code == 200 and "you specified are not correct" in wrong.content.decode()


def test_a_signed_up_user_signs_in_by_address():
    sign_up(Client())
    client = Client()
    assert sign_in(client, "NEWBIE@example.com")["Location"] == "/"
    assert signed_in_as(client).username == "newbie"


def test_an_address_two_accounts_share_signs_in_neither():
    UserFactory(username="one", email="shared@example.com")
    UserFactory(username="two", email="shared@example.com")
    response = sign_in(Client(), "shared@example.com")
    assert response.status_code == 200 and "you specified are not correct" in response.content.decode()
    assert sign_in(Client(), "one").status_code == 302  # the username still works


def test_signing_out_takes_a_post(user):
    client = Client()
    client.force_login(user)
    page = client.get("/accounts/logout/")
    assert page.status_code == 200 and signed_in_as(client) == user  # a GET only asks
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert signed_in_as(client) is None


def test_password_change_needs_the_old_password(user):
    client = Client()
    client.force_login(user)
    form = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    refused = client.post("/accounts/password/change/", {"oldpassword": "wrong", **form})
    assert refused.status_code == 200 and not User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    done = client.post("/accounts/password/change/", {"oldpassword": PASSWORD, **form})
    assert done.status_code == 302 and User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert signed_in_as(client) == user  # still signed in
    [told] = mail.outbox
    assert (
        told.to == [user.email] and "Password Changed" in told.subject and "Your password has been changed" in told.body
    )
    assert Client().get("/accounts/password/change/")["Location"].startswith("/accounts/login/")


def test_password_reset_by_e_mail_works_once(user):
    client = Client()
    assert client.post("/accounts/password/reset/", {"email": user.email.upper()}).status_code == 302
    [message] = mail.outbox
    assert message.to == [user.email] and "Reset your OneBacklog password" in message.subject
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    response = client.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert mail.outbox[-1].to == [user.email] and "Password Reset" in mail.outbox[-1].subject  # the owner is told
    assert "This link no longer works" in Client().get(link, follow=True).content.decode()
    assert sign_in(Client(), user.username, NEW_PASSWORD).status_code == 302


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same():
    response = Client().post("/accounts/password/reset/", {"email": "nobody@example.com"}, follow=True)
    assert "If an account has that address" in response.content.decode() and not mail.outbox


def test_sign_in_is_rate_limited(user):
    """Five failed attempts at one account lock it for five minutes (even with the right password);
    30 attempts a minute from one address, then 429."""
    for _ in range(5):
        assert sign_in(Client(), user.username, "wrong").status_code == 200
    locked = sign_in(Client(), user.username)
    assert locked.status_code == 200 and "Too many failed login attempts" in locked.content.decode()
    other = UserFactory()
    assert sign_in(Client(), other.username).status_code == 302  # another account is not locked
    for _ in range(30 - 7):
        assert sign_in(Client(), "nobody", "wrong").status_code == 200
    refused = sign_in(Client(), other.username)
    assert refused.status_code == 429 and "Too many attempts" in refused.content.decode()


def test_sign_up_is_rate_limited():
    for n in range(20):
        assert sign_up(Client(), username=f"u{n}", email=f"u{n}@example.com").status_code == 302
    refused = sign_up(Client())
    assert refused.status_code == 429 and not User.objects.filter(username="newbie").exists()


def test_password_reset_is_rate_limited(user):
    for _ in range(5):
        assert Client().post("/accounts/password/reset/", {"email": user.email}).status_code == 302
    assert Client().post("/accounts/password/reset/", {"email": user.email}).status_code == 429
    assert len(mail.outbox) == 5


def test_the_account_pages_keep_to_the_house_layout_and_csrf(user):
    client = Client()
    for url in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        page = client.get(url).content.decode()
        assert 'class="card sign-in"' in page and 'name="csrfmiddlewaretoken"' in page, url
        assert "<script>" not in page and "style=" not in page, url
    client.force_login(user)
    for url in ("/accounts/password/change/", "/accounts/email/", "/accounts/logout/"):
        page = client.get(url).content.decode()
        assert 'class="card sign-in"' in page and 'name="csrfmiddlewaretoken"' in page, url
        assert "<script>" not in page and "style=" not in page, url


def test_the_profile_sets_the_display_name_address_and_time_zone(user, product, owner):
    client = Client()
    client.force_login(user)
    response = client.post(
        "/me/profile/",
        {"display_name": "Ada L.", "email": "Ada@Example.org", "time_zone": "Europe/Berlin"},
        follow=True,
    )
    user.refresh_from_db()
    assert (user.display_name, user.email, user.time_zone) == ("Ada L.", "ada@example.org", "Europe/Berlin")
    assert "Ada L." in client.get("/me/").content.decode()
    # allauth's record follows the new address, unconfirmed, and a link to confirm it is mailed.
    [address] = EmailAddress.objects.filter(user=user)
    assert (address.email, address.primary, address.verified) == ("ada@example.org", True, False)
    assert "We sent a link to ada@example.org" in " ".join(str(m) for m in response.context["messages"])
    [message] = mail.outbox
    assert message.to == ["ada@example.org"]
    assert sign_in(Client(), "ada@example.org")["Location"] == "/"
    # Times are shown in the user's zone: an audit entry at 12:00 UTC reads 13:00 in Berlin (winter).
    Membership.objects.create(user=user, product=product, role="owner")
    event = audit_record(product=product, actor=owner, action=AuditEvent.Action.PRODUCT_RENAMED, old="a", new="b")
    AuditEvent.objects.filter(pk=event.pk).update(at=datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    assert "2026-01-15 13:00" in client.get(f"/p/{product.key}/audit/").content.decode()


def test_saving_the_profile_keeps_a_confirmed_address_confirmed(user):
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    client = Client()
    client.force_login(user)
    client.post("/me/profile/", {"display_name": "Ada", "email": user.email.upper(), "time_zone": "UTC"})
    assert EmailAddress.objects.get(user=user).verified and not mail.outbox


def test_the_e_mail_page_sends_the_confirmation_link_again(user):
    client = Client()
    client.force_login(user)
    page = client.get("/accounts/email/").content.decode()
    assert f"Not confirmed yet: <strong>{user.email}</strong>" in page  # recorded on the first visit
    client.post("/accounts/email/", {"action_send": "", "email": user.email})
    [message] = mail.outbox
    assert message.to == [user.email]
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", message.body).group(1)
    client.post(link)
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")) == [
        (user.email, True, True)
    ]
    assert f"Confirmed: <strong>{user.email}</strong>" in client.get("/accounts/email/").content.decode()


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
    assert not EmailAddress.objects.filter(user=user).exists()


def test_the_profile_refuses_another_accounts_address(user):
    other = UserFactory()
    signed_up = Client()
    sign_up(signed_up)
    client = Client()
    client.force_login(user)
    for taken in (other.email, "NEWBIE@example.com"):
        response = client.post("/me/profile/", {"email": taken, "time_zone": "UTC"}, follow=True)
        assert "Another account has this address." in " ".join(str(m) for m in response.context["messages"])
    user.refresh_from_db()
    assert user.email not in (other.email, "newbie@example.com")
