"""Every endpoint × role: allowed or denied, through the real API with real tokens."""

import pytest

from accounts.services import token_create
from backlog.models import Item
from backlog.services.items import item_create
from refinement.services.comments import comment_create
from refinement.services.proposals import proposal_ask

pytestmark = pytest.mark.django_db

MEMBERS = {"owner", "developer", "delegate", "stakeholder"}
ORDERERS = {"owner", "delegate"}
WORKERS = {"owner", "developer", "delegate"}


def expected(role: str, allowed: set[str], ok: int, *, read: bool = False) -> int:
    """The status a role should get: ``ok`` if allowed, else 401 / 404 / 403."""
    if role == "anonymous":
        return 401
    if role == "outsider":
        return 404
    if role == "read_only_token":
        return ok if read else 403
    return ok if role in allowed else 403


def call(client, method: str, url: str, body=None):
    return getattr(client, method)(url, body, format="json") if body is not None else getattr(client, method)(url)


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
    # Refinement
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


def _filled(value, names: dict):
    """``value`` with the {placeholders} of its strings filled in, however deep."""
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, list):
        return [_filled(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, names) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    "role", ["owner", "developer", "delegate", "stakeholder", "outsider", "anonymous", "read_only_token"]
)
@pytest.mark.parametrize("case", CASES)
def test_endpoint_by_role(case, role, as_role, product, items, owner, developer, user):
    method, url, body, allowed, ok, read = CASES[case]
    proposal = item_create(product=product, actor=developer, kind="story", title="Proposal")
    asked = item_create(product=product, actor=developer, kind="story", title="Unclear proposal")
    proposal_ask(item=asked, actor=owner, question="Who asked for it?")
    comment = comment_create(item=items[0], actor=developer, body="Hm")
    names = {
        "key": product.key,
        "a": items[0].pk,
        "a_key": items[0].key,
        "b": items[1].pk,
        "c": items[2].pk,
        "proposal": proposal.pk,
        "asked": asked.pk,
        "comment": comment.pk,
        "developer": developer.username,
        "newcomer": user.username,
    }
    url = url.format(**names)
    if body is not None:
        body = _filled(body, names)
    before = list(Item.objects.order_by("pk").values_list("pk", "rank", "status", "version", "description"))
    response = call(as_role(role), method, url, body)
    want = expected(role, allowed, ok, read=read)
    assert response.status_code == want, response.content
    if want >= 400:
        body = response.json()
        assert set(body["error"]) == {"status", "code", "message", "fields"}
        if not read:
            after = list(Item.objects.order_by("pk").values_list("pk", "rank", "status", "version", "description"))
            assert after == before, "a refused request changed something"
    if role == "outsider" and want == 404:
        assert product.key not in response.content.decode()


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
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/products/").status_code == 401
