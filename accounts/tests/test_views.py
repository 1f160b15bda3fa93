"""The account pages (accounts.views) through Django's test client: personal tokens; starting a
product, its settings, members, invitations and audit trail."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, AuditEvent, Invitation, Membership, Product
from accounts.services import invitation_create
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_personal_tokens_are_shown_once_and_revoked(owner, developer):
    client = client_for(owner)
    created = client.post("/me/", {"name": "laptop", "expires_in_days": "30"})
    raw = created.context["new_token"]
    assert raw.startswith("obk_") and raw in created.content.decode()
    token = ApiToken.objects.get(user=owner)
    assert raw not in client.get("/me/").content.decode()  # never again
    assert client_for(developer).post(f"/me/tokens/{token.pk}/revoke/").status_code == 404
    client.post(f"/me/tokens/{token.pk}/revoke/")
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert client.post("/me/", {"name": "", "expires_in_days": "x"}).status_code == 400


def test_an_odd_expiry_is_refused_not_crashed_on(owner):
    assert client_for(owner).post("/me/", {"name": "x", "expires_in_days": "²"}).status_code == 400


NON_OWNERS = ["developer", "delegate", "stakeholder"]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def events(product, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(product=product, action=action).order_by("pk"))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


# Starting a product


def test_any_signed_in_user_starts_a_product_and_owns_it(user):
    response = signed_in(user).post("/products/new/", {"name": "Mobile app", "key": "app"})
    product = Product.objects.get(key="APP")
    assert response.status_code == 302 and response["Location"] == "/p/APP/"
    assert product.memberships.get().user == user and product.memberships.get().role == Membership.Role.OWNER
    [created] = events(product, AuditEvent.Action.PRODUCT_CREATED)
    assert created.actor == user and created.data["new"] == {"name": "Mobile app", "key": "APP"}


def test_a_taken_or_malformed_key_is_refused_with_a_message_saying_what_to_do(user, product):
    client = signed_in(user)
    taken = client.post("/products/new/", {"name": "Again", "key": product.key}, follow=True)
    assert "is taken: choose another" in " ".join(messages_of(taken))
    malformed = client.post("/products/new/", {"name": "Bad", "key": "1X"}, follow=True)
    assert "Use 2 to 10 capital letters or digits" in " ".join(messages_of(malformed))
    assert not Product.objects.filter(name__in=["Again", "Bad"]).exists()


def test_product_creation_can_be_kept_to_staff(settings, user):
    settings.PRODUCT_CREATION = "staff"
    client = signed_in(user)
    assert client.get("/products/new/").status_code == 403
    assert client.post("/products/new/", {"name": "Mine", "key": "MINE"}).status_code == 403
    assert not Product.objects.filter(key="MINE").exists()
    staff = UserFactory(is_staff=True)
    assert signed_in(staff).post("/products/new/", {"name": "Ours", "key": "OURS"}).status_code == 302
    assert Product.objects.get(key="OURS").memberships.get().user == staff


def test_the_home_page_offers_to_start_a_product_only_to_those_who_may(settings, user):
    assert "Start a product" in signed_in(user).get("/").content.decode()
    settings.PRODUCT_CREATION = "staff"
    assert "Start a product" not in signed_in(user).get("/").content.decode()


def test_signed_out_visitors_are_sent_to_sign_in():
    response = Client().get("/products/new/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# The product's settings: rename, archive


def test_the_owner_renames_the_product_and_the_trail_says_old_and_new(product, owner):
    old_name = product.name
    signed_in(owner).post(f"/p/{product.key}/settings/", {"action": "rename", "name": "Renamed"})
    product.refresh_from_db()
    assert product.name == "Renamed"
    [renamed] = events(product, AuditEvent.Action.PRODUCT_RENAMED)
    assert (renamed.actor, renamed.data["old"], renamed.data["new"]) == (owner, old_name, "Renamed")


def test_an_empty_name_is_refused(product, owner):
    response = signed_in(owner).post(f"/p/{product.key}/settings/", {"name": " "})
    assert response.status_code == 400 and "This field cannot be blank." in response.context["errors"]
    assert not events(product, AuditEvent.Action.PRODUCT_RENAMED)


def test_the_owner_archives_and_restores_the_product(product, owner, developer):
    client = signed_in(owner)
    client.post(f"/p/{product.key}/settings/", {"action": "archive"})
    product.refresh_from_db()
    assert product.archived_at is not None
    # It leaves the switcher but stays reachable.
    page = signed_in(developer).get("/")
    assert product.name not in [p.name for p in page.context["my_products"]]
    assert product in page.context["archived"]
    assert signed_in(developer).get(f"/p/{product.key}/").status_code == 200
    client.post(f"/p/{product.key}/settings/", {"action": "restore"})
    product.refresh_from_db()
    assert product.archived_at is None
    actions = list(AuditEvent.objects.filter(product=product).order_by("pk").values_list("action", flat=True))
    assert actions == [AuditEvent.Action.PRODUCT_ARCHIVED, AuditEvent.Action.PRODUCT_RESTORED]


@pytest.mark.parametrize("role", NON_OWNERS)
def test_only_owners_reach_settings_members_and_audit(product, owner, role, request):
    user = request.getfixturevalue(role)
    client = signed_in(user)
    name = product.name
    for url in ("settings", "members", "audit"):
        assert client.get(f"/p/{product.key}/{url}/").status_code == 403, url
    assert client.post(f"/p/{product.key}/settings/", {"action": "rename", "name": "Taken over"}).status_code == 403
    assert client.post(f"/p/{product.key}/settings/", {"action": "archive"}).status_code == 403
    product.refresh_from_db()
    assert (product.name, product.archived_at) == (name, None)
    owner_client = signed_in(owner)
    for url in ("settings", "members", "audit"):
        assert owner_client.get(f"/p/{product.key}/{url}/").status_code == 200, url
    assert "Team &amp; settings" in owner_client.get(f"/p/{product.key}/").content.decode()
    assert "Team &amp; settings" not in client.get(f"/p/{product.key}/").content.decode()


# The audit trail in the API


def test_setting_changes_through_the_api_are_in_the_audit_trail(product, owner, as_role):
    api = as_role("owner")
    old_capacity = product.sprint_capacity
    assert api.patch(f"/api/v1/products/{product.key}/", {"sprint_capacity": 55}, format="json").status_code == 200
    [change] = events(product, AuditEvent.Action.SETTINGS_CHANGED)
    assert change.data["old"] == {"sprint_capacity": old_capacity}
    assert change.data["new"] == {"sprint_capacity": 55}
    trail = api.get(f"/api/v1/products/{product.key}/audit/")
    assert trail.status_code == 200
    [first] = trail.json()["results"]
    assert first["action"] == "settings.changed" and first["actor"] == owner.username
    assert first["data"]["new"] == {"sprint_capacity": 55}


def test_an_unchanged_setting_records_nothing(product, as_role):
    as_role("owner").patch(
        f"/api/v1/products/{product.key}/", {"sprint_capacity": product.sprint_capacity}, format="json"
    )
    assert not AuditEvent.objects.filter(product=product).exists()


@pytest.mark.parametrize("role", [*NON_OWNERS, "read_only_token"])
def test_only_owners_read_the_audit_trail_through_the_api(product, as_role, role):
    expected = 200 if role == "read_only_token" else 403  # a read-only token of the owner reads it
    assert as_role(role).get(f"/api/v1/products/{product.key}/audit/").status_code == expected


def test_the_audit_api_refuses_bad_parameters(product, as_role):
    api = as_role("owner")
    assert api.get(f"/api/v1/products/{product.key}/audit/?page_size=0").status_code == 400
    assert api.get(f"/api/v1/products/{product.key}/audit/?order=at").status_code == 400


# Members


def test_the_members_page_lists_members_and_open_invitations(product, owner, developer):
    invitation_create(product=product, actor=owner, invitee="new@example.com", role="developer", site_url="http://x")
    page = signed_in(owner).get(f"/p/{product.key}/members/").content.decode()
    assert developer.username in page and owner.username in page and "new@example.com" in page


def test_the_owner_changes_a_role_and_the_trail_records_it(product, owner, developer):
    signed_in(owner).post(
        f"/p/{product.key}/members/{developer.username}/", {"role": "developer", "ordering_delegated": "on"}
    )
    membership = product.memberships.get(user=developer)
    assert membership.ordering_delegated
    [changed] = events(product, AuditEvent.Action.MEMBER_CHANGED)
    assert changed.data == {
        "old": {"role": "developer", "ordering_delegated": False},
        "new": {"role": "developer", "ordering_delegated": True},
        "member": developer.username,
    }


def test_delegating_the_ordering_to_a_stakeholder_is_refused_with_a_reason(product, owner, stakeholder):
    response = signed_in(owner).post(
        f"/p/{product.key}/members/{stakeholder.username}/",
        {"role": "stakeholder", "ordering_delegated": "on"},
        follow=True,
    )
    assert "Only a developer can be delegated the ordering." in " ".join(messages_of(response))
    assert not product.memberships.get(user=stakeholder).ordering_delegated


def test_the_owner_removes_a_member_but_never_the_last_owner(product, owner, developer):
    client = signed_in(owner)
    client.post(f"/p/{product.key}/members/{developer.username}/remove/")
    assert not product.memberships.filter(user=developer).exists()
    [removed] = events(product, AuditEvent.Action.MEMBER_REMOVED)
    assert removed.data["member"] == developer.username and removed.data["old"]["role"] == "developer"
    refused = client.post(f"/p/{product.key}/members/{owner.username}/remove/", follow=True)
    assert "at least one product owner" in " ".join(messages_of(refused))
    demoted = client.post(f"/p/{product.key}/members/{owner.username}/", {"role": "developer"}, follow=True)
    assert "at least one product owner" in " ".join(messages_of(demoted))
    assert product.memberships.get(user=owner).role == Membership.Role.OWNER


@pytest.mark.parametrize("role", NON_OWNERS)
def test_non_owners_cannot_invite_change_or_remove(product, owner, developer, role, request):
    user = request.getfixturevalue(role)
    client = signed_in(user)
    invitation, _ = invitation_create(
        product=product, actor=owner, invitee="new@example.com", role="developer", site_url="http://x"
    )
    key = product.key
    assert client.post(f"/p/{key}/invite/", {"invitee": "x@example.com", "role": "owner"}).status_code == 403
    assert client.post(f"/p/{key}/members/{user.username}/", {"role": "owner"}).status_code == 403
    assert client.post(f"/p/{key}/members/{owner.username}/remove/").status_code == 403
    assert client.post(f"/p/{key}/invitations/{invitation.pk}/revoke/").status_code == 403
    assert product.memberships.get(user=user).role != Membership.Role.OWNER
    assert product.memberships.filter(user=owner).exists()
    assert Invitation.objects.filter(product=product).count() == 1
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None


# Invitations


def invite(client, product, invitee: str, role: str = "developer", **extra):
    return client.post(f"/p/{product.key}/invite/", {"invitee": invitee, "role": role, **extra}, follow=True)


def link_in(message) -> str:
    return re.search(r"http://testserver(/invitations/[^/\s]+/)", message.body).group(1)


def test_an_invitation_by_e_mail_is_mailed_after_commit_and_joins_the_invitee(
    product, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invite(signed_in(owner), product, "colleague@example.com", "developer", ordering_delegated="on")
        assert not mail.outbox  # nothing is sent before the invitation is committed
    for callback in callbacks:
        callback()
    [message] = mail.outbox
    assert message.to == ["colleague@example.com"] and product.name in message.subject
    colleague = UserFactory(email="colleague@example.com")
    client = signed_in(colleague)
    url = link_in(message)
    assert f"Join {product.name}" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == f"/p/{product.key}/"
    membership = product.memberships.get(user=colleague)
    assert (membership.role, membership.ordering_delegated) == ("developer", True)
    [sent] = events(product, AuditEvent.Action.INVITATION_SENT)
    [accepted] = events(product, AuditEvent.Action.INVITATION_ACCEPTED)
    assert sent.actor == owner and sent.data["email"] == "colleague@example.com"
    assert accepted.actor == colleague and accepted.data["member"] == colleague.username


def test_an_invitation_link_works_once(product, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(signed_in(owner), product, "colleague@example.com")
    url = link_in(mail.outbox[0])
    first, second = UserFactory(), UserFactory()
    signed_in(first).post(url)
    again = signed_in(second).post(url, follow=True)
    assert "already been used" in " ".join(messages_of(again))
    assert signed_in(second).get(url).status_code == 410
    assert not product.memberships.filter(user=second).exists()


def test_a_forged_link_is_not_found(product, owner, user):
    invitation_create(product=product, actor=owner, invitee="a@example.com", role="owner", site_url="http://x")
    client = signed_in(user)
    assert client.get("/invitations/not-a-real-token/").status_code == 404
    assert client.post("/invitations/not-a-real-token/").status_code == 404
    assert not product.memberships.filter(user=user).exists()


def test_an_expired_or_withdrawn_link_is_refused(product, owner, user):
    expired, expired_raw = invitation_create(
        product=product, actor=owner, invitee="a@example.com", role="owner", site_url="http://x"
    )
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    withdrawn, withdrawn_raw = invitation_create(
        product=product, actor=owner, invitee="b@example.com", role="owner", site_url="http://x"
    )
    owner_client = signed_in(owner)
    owner_client.post(f"/p/{product.key}/invitations/{withdrawn.pk}/revoke/")
    assert events(product, AuditEvent.Action.INVITATION_REVOKED)[0].data["email"] == "b@example.com"
    client = signed_in(user)
    for raw, reason in ((expired_raw, "has expired"), (withdrawn_raw, "was withdrawn")):
        assert client.get(f"/invitations/{raw}/").status_code == 410
        refused = client.post(f"/invitations/{raw}/", follow=True)
        assert reason in " ".join(messages_of(refused))
    assert not product.memberships.filter(user=user).exists()


def test_an_invitation_by_username_is_for_that_user_only(product, owner):
    invited, other = UserFactory(), UserFactory()
    _, raw = invitation_create(
        product=product, actor=owner, invitee=invited.username, role="stakeholder", site_url="http://x"
    )
    refused = signed_in(other).post(f"/invitations/{raw}/", follow=True)
    assert "for someone else" in " ".join(messages_of(refused))
    assert not product.memberships.filter(user=other).exists()
    signed_in(invited).post(f"/invitations/{raw}/")
    assert product.memberships.get(user=invited).role == "stakeholder"


def test_signed_out_invitees_are_offered_to_sign_in_or_up_and_come_back(product, owner):
    _, raw = invitation_create(product=product, actor=owner, invitee="a@example.com", role="owner", site_url="http://x")
    page = Client().get(f"/invitations/{raw}/").content.decode()
    assert f'href="/accounts/login/?next=/invitations/{raw}/"' in page
    assert f'href="/invitations/{raw}/signup/"' in page
    signing_up = Client().get(f"/invitations/{raw}/signup/")
    assert signing_up.status_code == 302
    assert signing_up["Location"] == f"/accounts/signup/?email=a%40example.com&next=%2Finvitations%2F{raw}%2F"
    joining = Client().post(f"/invitations/{raw}/")
    assert joining.status_code == 302 and f"next=/invitations/{raw}/" in joining["Location"]
    assert product.memberships.count() == 1


def test_an_invitation_by_username_offers_no_sign_up(product, owner):
    invited = UserFactory()
    _, raw = invitation_create(
        product=product, actor=owner, invitee=invited.username, role="developer", site_url="http://x"
    )
    page = Client().get(f"/invitations/{raw}/").content.decode()
    assert "Sign in to join" in page and f"/invitations/{raw}/signup/" not in page


def test_sign_up_from_a_forged_used_or_expired_link_is_refused(product, owner, user):
    assert Client().get("/invitations/forged/signup/").status_code == 404
    _, used_raw = invitation_create(
        product=product, actor=owner, invitee="a@example.com", role="owner", site_url="http://x"
    )
    signed_in(user).post(f"/invitations/{used_raw}/")
    expired, expired_raw = invitation_create(
        product=product, actor=owner, invitee="b@example.com", role="owner", site_url="http://x"
    )
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    for raw in (used_raw, expired_raw):
        client = Client()
        response = client.get(f"/invitations/{raw}/signup/")
        assert response.status_code == 302 and response["Location"] == f"/invitations/{raw}/"
        assert "invitation" not in client.session


@pytest.mark.parametrize(
    ("invitee", "role", "says"),
    [
        ("not-an-address@", "developer", "not an e-mail address"),
        ("nobody-by-this-name", "developer", "No one has the username"),
        ("someone@example.com", "admin", "is not a valid choice"),
        ("someone@example.com", "stakeholder", "Only a developer can be delegated"),
    ],
)
def test_a_bad_invitation_is_refused_with_a_reason(product, owner, invitee, role, says):
    response = invite(signed_in(owner), product, invitee, role, ordering_delegated="on")
    assert says in " ".join(messages_of(response))
    assert not Invitation.objects.exists() and not mail.outbox


def test_members_are_not_invited_again(product, owner, developer):
    for invitee in (developer.username, developer.email.upper()):
        response = invite(signed_in(owner), product, invitee)
        assert "already a member" in " ".join(messages_of(response))
    assert not Invitation.objects.exists()
