"""Every refinement endpoint × role (readiness, the review, comments, split, the reports): allowed
or denied, through the real API with real tokens."""

import pytest

# The world is built once per module (config/tests/matrix.py):
from config.tests.matrix import (  # noqa: F401
    MEMBERS,
    ORDERERS,
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
    "readiness settings": (
        "patch",
        "/api/v1/products/{key}/",
        {"definition_of_ready": {"max_estimate": 8}, "debt_target_percent": 25},
        {"owner"},
        200,
        False,
    ),
    "review queue": ("get", "/api/v1/products/{key}/review-queue/", None, ORDERERS, 200, True),
    "my proposals": ("get", "/api/v1/products/{key}/my-proposals/", None, MEMBERS, 200, True),
    "review accept": ("post", "/api/v1/items/{proposal}/accept/", {"to": "top"}, ORDERERS, 200, False),
    "review accept suggested": ("post", "/api/v1/items/{proposal}/accept/", {"to": "suggested"}, ORDERERS, 200, False),
    "review reject": ("post", "/api/v1/items/{proposal}/reject/", {"reason": "Not now"}, ORDERERS, 200, False),
    "review reject duplicate": (
        "post",
        "/api/v1/items/{proposal}/reject/",
        {"reason": "We have it", "duplicate_of": "{a_key}"},
        ORDERERS,
        200,
        False,
    ),
    "review ask": ("post", "/api/v1/items/{proposal}/questions/", {"question": "Who needs it?"}, ORDERERS, 201, False),
    "review questions": ("get", "/api/v1/items/{proposal}/questions/", None, MEMBERS, 200, True),
    "proposer answers": ("post", "/api/v1/items/{asked}/answer/", {"answer": "Support"}, {"developer"}, 200, False),
    "comment list": ("get", "/api/v1/items/{a}/comments/", None, MEMBERS, 200, True),
    "comment create": ("post", "/api/v1/items/{a}/comments/", {"body": "Looks *good*"}, MEMBERS, 201, False),
    # The developer's comment: its author or the owner deletes it.
    "comment delete": ("delete", "/api/v1/comments/{comment}/", None, {"owner", "developer"}, 204, False),
    "item split": (
        "post",
        "/api/v1/items/{a}/split/",
        {"parts": [{"title": "First half"}, {"title": "Second half"}]},
        ORDERERS,
        201,
        False,
    ),
    "refinement agenda": ("get", "/api/v1/products/{key}/refinement-agenda/", None, MEMBERS, 200, True),
    "stale items": ("get", "/api/v1/products/{key}/stale-items/", None, MEMBERS, 200, True),
    "debt report": ("get", "/api/v1/products/{key}/debt-report/", None, MEMBERS, 200, True),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES)
def test_endpoint_by_role(case, role, as_role, matrix_names):
    check(CASES[case], role, as_role(role), matrix_names)
