import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from accounts.models import Membership
from accounts.permissions import Action, can
from accounts.services import membership_remove, membership_set, product_create
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_product_create_makes_the_creator_its_owner():
    user = UserFactory()
    product = product_create(name="OneBacklog", key="OB", owner=user)
    assert can(user, Action.MANAGE, product)


@pytest.mark.parametrize("key", ["ob", "O", "1B", "TOOLONGKEY1", "O-B"])
def test_product_keys_are_validated(key):
    with pytest.raises(ValidationError) as error:
        product_create(name="x", key=key, owner=UserFactory())
    assert "key" in error.value.message_dict


def test_owner_manages_members(product, owner, user):
    membership_set(
        product=product,
        actor=owner,
        user=user,
        role="developer",
        ordering_delegated=True,
    )
    assert can(user, Action.REORDER, product)
    membership_set(product=product, actor=owner, user=user, role="stakeholder")
    assert not can(user, Action.EDIT_WORK, product)
    membership_remove(product=product, actor=owner, user=user)
    assert not can(user, Action.VIEW, product)


@pytest.mark.parametrize("role", ["developer", "delegate", "stakeholder", "outsider"])
def test_only_owners_manage_members(product, role, user, request):
    with pytest.raises(PermissionDenied):
        membership_set(
            product=product,
            actor=request.getfixturevalue(role),
            user=user,
            role="owner",
        )


def test_a_product_keeps_an_owner(product, owner):
    with pytest.raises(ValidationError):
        membership_set(product=product, actor=owner, user=owner, role="developer")
    with pytest.raises(ValidationError):
        membership_remove(product=product, actor=owner, user=owner)
    second = UserFactory()
    membership_set(product=product, actor=owner, user=second, role="owner")
    membership_remove(product=product, actor=owner, user=owner)
    assert not Membership.objects.filter(user=owner).exists()


def test_only_developers_can_be_delegated_the_ordering(product, owner, user):
    with pytest.raises(ValidationError):
        membership_set(
            product=product,
            actor=owner,
            user=user,
            role="stakeholder",
            ordering_delegated=True,
        )
    with pytest.raises(IntegrityError):
        Membership.objects.create(product=product, user=user, role="stakeholder", ordering_delegated=True)


def test_admin_creates_a_token_once_and_revokes_it(admin_client, user):
    from accounts.models import ApiToken

    response = admin_client.post(
        "/admin/accounts/apitoken/add/", {"user": user.pk, "name": "support", "read_only": "on"}, follow=True
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    token = ApiToken.objects.get(user=user)
    assert token.read_only
    assert any(m.startswith(f"Token for {user}: obk_{token.prefix}_") for m in shown)
    raw = shown[0].split(": ", 1)[1].split(" ")[0]
    assert raw not in token.key_hash
    admin_client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_sla_targets_are_bounded(product, owner):
    from accounts.services import product_update

    with pytest.raises(ValidationError):
        product_update(product=product, actor=owner, changes={"sla_hours": {f"P{n}": 10**9 for n in range(1, 6)}})


def test_changing_a_role_keeps_what_is_not_mentioned(product, owner, delegate):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(owner)
    url = f"/api/v1/products/{product.key}/members/{delegate.username}/"
    assert client.patch(url, {}, format="json").json()["ordering_delegated"] is True
    assert client.patch(url, {"ordering_delegated": False}, format="json").json()["role"] == "developer"
