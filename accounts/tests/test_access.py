"""accounts.access: a product (or token) fetched and checked in one call; outsiders get the 404 of a missing one."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client

from accounts.access import access_product, access_token
from accounts.models import ApiToken, Invitation, Notification
from accounts.permissions import Action, actions_for
from accounts.services import invitation_create, token_create
from accounts.tests.routes import assert_hidden, routes_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["owner", "developer", "delegate", "stakeholder"])
def test_members_load_their_product_with_their_actions(product, role, request):
    user = request.getfixturevalue(role)
    found, actions = access_product(user, product.key)
    assert found == product
    assert actions == actions_for(product.memberships.get(user=user))


def test_the_product_key_is_read_in_any_case(product, owner):
    assert access_product(owner, product.key.lower())[0] == product


@pytest.mark.parametrize("role", ["outsider", "anonymous"])
def test_outsiders_get_404_whatever_they_ask(product, role, request):
    user = request.getfixturevalue(role)
    for action in Action:
        with pytest.raises(Http404):
            access_product(user, product.key, action)


def test_outsiders_cannot_tell_a_missing_product_from_a_foreign_one(product, outsider):
    with pytest.raises(Http404) as foreign:
        access_product(outsider, product.key)
    with pytest.raises(Http404) as missing:
        access_product(outsider, "NOPE")
    assert str(foreign.value) == str(missing.value)


def test_members_lacking_the_action_get_403(product, stakeholder):
    with pytest.raises(PermissionDenied):
        access_product(stakeholder, product.key, Action.REORDER)


def test_a_token_is_reached_only_by_its_owner(owner, developer, anonymous):
    token, _ = token_create(user=owner, name="ci")
    assert access_token(owner, token.pk) == token
    for other in (developer, anonymous):
        with pytest.raises(Http404) as foreign:
            access_token(other, token.pk)
        with pytest.raises(Http404) as missing:
            access_token(other, token.pk + 1000)
        assert str(foreign.value) == str(missing.value)


def test_outsiders_get_404_on_every_accounts_url(product, owner, outsider, as_role):
    token, _ = token_create(user=owner, name="theirs")
    invitation, _ = invitation_create(
        product=product, actor=owner, invitee="new@example.com", role="developer", site_url="http://testserver"
    )
    notification = Notification.objects.create(
        user=owner, product=product, kind="question", key="question:1", text="Why?", link="/"
    )
    # An invitation link is for whoever holds it (see test_invitations); a forged one is a 404.
    urls = routes_of(
        "accounts",
        key=product.key,
        token_id=token.pk,
        username=owner.username,
        invitation_id=invitation.pk,
        token="forged",
        notification_id=notification.pk,
    )
    page = Client()
    page.force_login(outsider)
    assert_hidden(page, as_role("outsider"), urls)
    assert ApiToken.objects.filter(pk=token.pk, revoked_at=None).exists()
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None
    assert product.memberships.filter(user=owner).exists()
    assert Notification.objects.get(pk=notification.pk).read_at is None


def test_product_urls_take_the_key_in_any_case(product, owner, as_role):
    api = as_role("owner")
    for url in (f"/api/v1/products/{product.key}/", f"/api/v1/products/{product.key}/members/"):
        upper, lower = api.get(url), api.get(url.replace(product.key, product.key.lower()))
        assert upper.status_code == lower.status_code == 200
        assert upper.json() == lower.json()
