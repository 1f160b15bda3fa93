"""The search endpoint × role: members search their product, outsiders get 404, through real tokens."""

import pytest

from config.tests.matrix import MEMBERS, ROLES, check

pytestmark = pytest.mark.django_db

CASES = {
    # name: (method, url template, body, allowed roles, ok status, read-only?)
    "search a product": ("get", "/api/v1/search/?q=A&product={key}", None, MEMBERS, 200, True),
    "search a product by key": ("get", "/api/v1/search/?q={a_key}&product={key}", None, MEMBERS, 200, True),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES)
def test_endpoint_by_role(case, role, as_role, matrix_names):
    check(CASES[case], role, as_role(role), matrix_names)
