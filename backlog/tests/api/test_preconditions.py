"""If-Match on every write to an item: a stale ETag is a 412 carrying the current one, and
nothing changes; the current ETag lets the write through."""

import pytest
from django.core.cache import cache

from backlog.models import Item, ItemEvent
from backlog.services.items import item_create, item_update
from refinement.services.proposals import proposal_ask

pytestmark = pytest.mark.django_db

CASE = {"value_beneficiaries": "Support", "value_risk_removed": "Data loss"}

WRITES = {
    "edit": ("owner", "open", "patch", "", {"title": "mine"}),
    "transition": ("owner", "open", "post", "transition/", {"status": "in_progress"}),
    "archive": ("owner", "open", "post", "archive/", {"reason": "obsolete"}),
    "move": ("owner", "open", "post", "move/", {"to": "bottom"}),
    "split": ("owner", "open", "post", "split/", {"parts": [{"title": "x"}, {"title": "y"}]}),
    "accept": ("owner", "proposal", "post", "accept/", {"to": "top"}),
    "reject": ("owner", "proposal", "post", "reject/", {"reason": "Not now"}),
    "ask": ("owner", "proposal", "post", "questions/", {"question": "Why now?"}),
    "answer": ("developer", "question", "post", "answer/", {"answer": "Support ends"}),
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def target(request, product, owner, developer, items):
    kind = request.param
    if kind == "open":
        return items[0]
    proposal = item_create(product=product, actor=developer, kind="tech_debt", title="Up", interest_hours=3, **CASE)
    if kind == "question":
        proposal_ask(item=proposal, actor=owner, question="Cost?")
    return proposal


def _state(item: Item) -> tuple:
    item.refresh_from_db()
    return item.status, item.rank, item.version, item.title, ItemEvent.objects.filter(item=item).count()


@pytest.mark.parametrize(
    ("role", "target", "method", "path", "body"),
    [pytest.param(*write, id=name) for name, write in WRITES.items()],
    indirect=["target"],
)
def test_every_item_write_honours_if_match(as_role, developer, target, role, method, path, body):
    api = as_role(role)
    url = f"/api/v1/items/{target.key}/{path}"
    read = api.get(f"/api/v1/items/{target.key}/")["ETag"]
    item_update(item=target, actor=developer, changes={"description": "changed meanwhile"})
    before = _state(target)

    stale = getattr(api, method)(url, body, format="json", HTTP_IF_MATCH=read)
    assert stale.status_code == 412, stale.content
    assert stale.json()["error"]["code"] == "version_conflict"
    assert stale["ETag"] == target.etag  # the current one, to reload against
    other = getattr(api, method)(url, body, format="json", HTTP_IF_MATCH='"999999-1"')
    assert other.status_code == 412 and other["ETag"] == target.etag
    assert _state(target) == before

    fresh = getattr(api, method)(url, body, format="json", HTTP_IF_MATCH=stale["ETag"])
    assert fresh.status_code in (200, 201), fresh.content
    assert _state(target) != before


def test_the_schema_documents_if_match_and_412_on_every_item_write(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for method, path, _ in [(write[2], write[3], None) for write in WRITES.values()]:
        operation = paths["/api/v1/items/{ref}/" + path][method]
        assert "If-Match" in [parameter["name"] for parameter in operation["parameters"]], path
        assert "ETag" in operation["responses"]["412"]["headers"], path
