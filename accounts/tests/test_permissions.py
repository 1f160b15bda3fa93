"""Every row of the roles table in DESIGN.md, allowed and denied."""

import pytest
from django.core.exceptions import PermissionDenied

from accounts.permissions import Action, can, require

pytestmark = pytest.mark.django_db

ROLES = ["owner", "developer", "delegate", "stakeholder", "outsider", "anonymous"]

# action -> the roles that may do it (everyone else may not).
TABLE = {
    Action.VIEW: {"owner", "developer", "delegate", "stakeholder"},
    Action.COMMENT: {"owner", "developer", "delegate", "stakeholder"},
    Action.PROPOSE: {"owner", "developer", "delegate", "stakeholder"},
    Action.ADD_DIRECTLY: {"owner", "delegate"},
    Action.EDIT_WORK: {"owner", "developer", "delegate"},
    Action.EDIT_VALUE: {"owner", "delegate"},
    Action.REORDER: {"owner", "delegate"},
    Action.REVIEW: {"owner", "delegate"},
    Action.MANAGE: {"owner"},
}

CASES = [(action, role, role in allowed) for action, allowed in TABLE.items() for role in ROLES]


def test_the_table_covers_every_action():
    assert set(TABLE) == set(Action)


@pytest.mark.parametrize(("action", "role", "expected"), CASES, ids=[f"{a}-{r}" for a, r, _ in CASES])
def test_roles_table(product, action, role, expected, request):
    user = request.getfixturevalue(role)
    assert can(user, action, product) is expected
    if expected:
        require(user, action, product)
    else:
        with pytest.raises(PermissionDenied):
            require(user, action, product)


def test_inactive_members_may_do_nothing(product, owner):
    owner.is_active = False
    owner.save()
    assert not can(owner, Action.VIEW, product)


def test_an_object_of_a_product_has_the_products_rules(product, owner, stakeholder):
    class Thing:
        product_id = product.pk

    assert can(owner, Action.REORDER, Thing())
    assert not can(stakeholder, Action.REORDER, Thing())
