"""Every notifications endpoint × role: allowed or denied, through the real API with real tokens."""

import pytest

# The world is built once per module (config/tests/matrix.py):
from config.tests.matrix import (  # noqa: F401
    MEMBERS,
    ROLES,
    check,
    delegate,
    developer,
    items,
    matrix_names,
    outsider,
    owner,
    product,
    stakeholder,
    user,
)

pytestmark = pytest.mark.django_db

CASES = {
    # name: (method, url template, body, allowed roles, ok status, read-only?)
    "watch state": ("get", "/api/v1/items/{a}/watch/", None, MEMBERS, 200, True),
    "watch": ("put", "/api/v1/items/{a}/watch/", None, MEMBERS, 200, False),
    "unwatch": ("delete", "/api/v1/items/{a}/watch/", None, MEMBERS, 200, False),
    "watch a proposal": ("put", "/api/v1/items/{proposal}/watch/", None, MEMBERS, 200, False),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES)
def test_endpoint_by_role(case, role, as_role, matrix_names):
    check(CASES[case], role, as_role(role), matrix_names)


@pytest.mark.parametrize("role", ["owner", "developer", "stakeholder", "outsider"])
def test_everyone_signed_in_reads_and_changes_only_their_own_preferences(role, as_role, request):
    from notifications.models import Preferences

    client = as_role(role)
    assert client.patch("/api/v1/notifications/preferences/", {"answer": "none"}, format="json").status_code == 200
    user = request.getfixturevalue(role)
    assert list(Preferences.objects.values_list("user_id", flat=True)) == [user.pk]
