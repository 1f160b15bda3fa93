"""The API-wide rules of config/api.py, checked over every endpoint the schema lists."""

import pytest
from django.core.cache import cache

from backlog.models import Item
from backlog.services.items import item_create
from refinement.services.comments import comment_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def api(as_role):
    return as_role("owner")


def _write_operations(client) -> list[tuple[str, str]]:
    schema = client.get("/api/schema/?format=json").json()
    return [
        (path, method)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in ("post", "put", "patch") and "requestBody" in operation
    ]


def test_every_write_endpoint_refuses_unknown_fields(api, client, product, owner, items):
    proposal = item_create(product=product, actor=owner, kind="story", title="p")
    Item.objects.filter(pk=proposal.pk).update(status=Item.Status.PROPOSED, rank=None)
    comment = comment_create(item=items[0], actor=owner, body="hi")
    values = {
        "{key}": product.key,
        "{ref}": items[0].key,
        "{username}": owner.username,
        "{comment_id}": str(comment.pk),
        "{token_id}": "1",
    }
    operations = _write_operations(client)
    assert len(operations) >= 15  # every documented write, not a handful
    for path, method in operations:
        for placeholder, value in values.items():
            path = path.replace(placeholder, value)
        if path.endswith(("/accept/", "/reject/", "/answer/", "/questions/")):
            path = path.replace(items[0].key, proposal.key)
        response = getattr(api, method)(path, {"acceptance_critera": "typo", "zz": 1}, format="json")
        assert response.status_code == 400, (method, path, response.content)
        assert response.json()["error"]["fields"] == {
            "acceptance_critera": ["Unknown field."],
            "zz": ["Unknown field."],
        }, (method, path)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"status": "done"}, "status", "Read-only field: change the status through /transition/"),
        ({"rank": "a0"}, "rank", "Read-only field: move the item through /move/."),
        ({"score": 5}, "score", "Read-only field: the score is computed"),
        ({"key": "OB-9"}, "key", "Read-only field."),
        ({"title": "New", "acceptance_critera": "- x"}, "acceptance_critera", "Unknown field."),
    ],
)
def test_item_patch_names_read_only_and_unknown_fields(api, items, body, field, message):
    response = api.patch(f"/api/v1/items/{items[0].key}/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"][field][0].startswith(message)
    items[0].refresh_from_db()
    assert (items[0].title, items[0].status, items[0].version) == ("A", "open", 1)


def test_scoring_settings_refuse_a_wrong_field_name(api, product):
    response = api.patch(f"/api/v1/products/{product.key}/scoring/", {"model": "rice"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"model": ["Unknown field."]}
    product.refresh_from_db()
    assert product.scoring_model == "wsjf"


def test_nested_parts_refuse_unknown_fields(api, items):
    body = {"parts": [{"title": "a"}, {"title": "b", "points": 3}]}
    response = api.post(f"/api/v1/items/{items[0].key}/split/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"parts": ["Unknown field."]}


def test_product_settings_name_read_only_fields(api, product):
    response = api.patch(f"/api/v1/products/{product.key}/", {"key": "NEW"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"key": ["Read-only field."]}
