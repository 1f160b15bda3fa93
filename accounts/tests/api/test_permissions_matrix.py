"""Every accounts endpoint × role (products, members, tokens): allowed or denied, through the real
API with real tokens."""

import pytest
from rest_framework.test import APIClient

from accounts.services import token_create

# The world is built once per module (config/tests/matrix.py):
from config.tests.matrix import (  # noqa: F401
    MEMBERS,
    ROLES,
    call,
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
    "product detail": ("get", "/api/v1/products/{key}/", None, MEMBERS, 200, True),
    "product update": ("patch", "/api/v1/products/{key}/", {"stale_after_days": 14}, {"owner"}, 200, False),
    "member list": ("get", "/api/v1/products/{key}/members/", None, MEMBERS, 200, True),
    "member add": (
        "post",
        "/api/v1/products/{key}/members/",
        {"username": "{newcomer}", "role": "stakeholder"},
        {"owner"},
        201,
        False,
    ),
    "member detail": ("get", "/api/v1/products/{key}/members/{developer}/", None, MEMBERS, 200, True),
    "member change": (
        "patch",
        "/api/v1/products/{key}/members/{developer}/",
        {"role": "developer", "ordering_delegated": True},
        {"owner"},
        200,
        False,
    ),
    "member remove": ("delete", "/api/v1/products/{key}/members/{developer}/", None, {"owner"}, 204, False),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES)
def test_endpoint_by_role(case, role, as_role, matrix_names):
    check(CASES[case], role, as_role(role), matrix_names)


@pytest.mark.parametrize("role", ["owner", "developer", "stakeholder", "outsider", "read_only_token"])
def test_product_list_shows_only_ones_own_products(role, as_role, product):
    response = as_role(role).get("/api/v1/products/")
    assert response.status_code == 200
    keys = [p["key"] for p in response.json()]
    assert (product.key in keys) is (role != "outsider")


def test_product_list_needs_authentication(as_role):
    assert as_role("anonymous").get("/api/v1/products/").status_code == 401


@pytest.mark.parametrize(
    ("role", "method", "status"),
    [
        ("owner", "get", 200),
        ("owner", "post", 201),
        ("stakeholder", "post", 201),
        ("read_only_token", "get", 200),
        ("read_only_token", "post", 403),
        ("anonymous", "get", 401),
        ("anonymous", "post", 401),
    ],
)
def test_token_endpoints(role, method, status, as_role):
    response = call(as_role(role), method, "/api/v1/tokens/", {"name": "ci"} if method == "post" else None)
    assert response.status_code == status


def test_tokens_are_revoked_by_their_owner_only(as_role, owner, developer):
    token, raw = token_create(user=owner, name="mine")
    assert as_role("developer").delete(f"/api/v1/tokens/{token.pk}/").status_code == 404
    assert as_role("owner").delete(f"/api/v1/tokens/{token.pk}/").status_code == 204
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/products/").status_code == 401
