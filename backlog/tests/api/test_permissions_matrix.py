"""Every backlog endpoint × role (items, ordering, scoring, the suggestion): allowed or denied,
through the real API with real tokens."""

import pytest

# The world is built once per module (config/tests/matrix.py):
from config.tests.matrix import (  # noqa: F401
    MEMBERS,
    ORDERERS,
    ROLES,
    WORKERS,
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
    "item list": ("get", "/api/v1/products/{key}/items/", None, MEMBERS, 200, True),
    "item create": ("post", "/api/v1/products/{key}/items/", {"kind": "story", "title": "New"}, MEMBERS, 201, False),
    "item create placed": (
        "post",
        "/api/v1/products/{key}/items/",
        {"kind": "story", "title": "New", "placement": {"to": "top"}},
        ORDERERS,
        201,
        False,
    ),
    "item detail": ("get", "/api/v1/items/{a}/", None, MEMBERS, 200, True),
    "item detail by key": ("get", "/api/v1/items/{a_key}/", None, MEMBERS, 200, True),
    "item edit work": ("patch", "/api/v1/items/{a}/", {"description": "More detail"}, WORKERS, 200, False),
    "item edit value": ("patch", "/api/v1/items/{a}/", {"business_value": 8}, ORDERERS, 200, False),
    "item start": ("post", "/api/v1/items/{a}/transition/", {"status": "in_progress"}, WORKERS, 200, False),
    "item archive": ("post", "/api/v1/items/{a}/archive/", {"reason": "obsolete"}, ORDERERS, 200, False),
    "item move": ("post", "/api/v1/items/{c}/move/", {"to": "top"}, ORDERERS, 200, False),
    "block move": (
        "post",
        "/api/v1/products/{key}/items/move/",
        {"items": ["{b}", "{c}"], "to": "top"},
        ORDERERS,
        200,
        False,
    ),
    "item history": ("get", "/api/v1/items/{a}/history/", None, MEMBERS, 200, True),
    "item pin": ("patch", "/api/v1/items/{a}/", {"pinned": True}, ORDERERS, 200, False),
    "scoring settings": ("get", "/api/v1/products/{key}/scoring/", None, MEMBERS, 200, True),
    "scoring change": ("patch", "/api/v1/products/{key}/scoring/", {"scoring_model": "rice"}, {"owner"}, 200, False),
    "suggested order": ("get", "/api/v1/products/{key}/suggested-order/", None, MEMBERS, 200, True),
    "apply suggestion": ("post", "/api/v1/products/{key}/suggested-order/apply/", {}, ORDERERS, 200, False),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES)
def test_endpoint_by_role(case, role, as_role, matrix_names):
    check(CASES[case], role, as_role(role), matrix_names)
