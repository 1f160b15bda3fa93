"""accounts.access: a product (or token) fetched and checked in one call; outsiders get the 404 of a missing one."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.access import access_product, access_token
from accounts.permissions import Action, actions_for
from accounts.services import token_create

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
