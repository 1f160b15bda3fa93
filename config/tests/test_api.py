"""The API-wide rules of config/api.py, checked over every endpoint the schema lists."""

from datetime import date

import pytest
from django.core.cache import cache
from django.utils import timezone

from backlog.models import Item, Theme
from backlog.services.imports import import_preview
from backlog.services.items import item_create
from backlog.services.saved_views import saved_view_create
from delivery.models import Sprint
from delivery.services.sprints import retro_action_add, sprint_create
from refinement.services.comments import comment_create
from service.services.queues import queue_create
from service.services.tickets import ticket_intake
from webhooks.models import Delivery, Endpoint

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
        if method in ("post", "put", "patch")
        and "requestBody" in operation
        and "application/json" in operation["requestBody"]["content"]  # not a file upload (a CSV import)
    ]


def test_every_write_endpoint_refuses_unknown_fields(api, client, product, owner, items):
    proposal = item_create(product=product, actor=owner, kind="story", title="p")
    Item.objects.filter(pk=proposal.pk).update(status=Item.Status.PROPOSED, rank=None)
    comment = comment_create(item=items[0], actor=owner, body="hi")
    sprint = sprint_create(product=product, actor=owner, start_date=date(2026, 1, 5), end_date=date(2026, 1, 16))
    closed = {"state": Sprint.State.CLOSED, "closed_at": timezone.now()}
    Sprint.objects.filter(pk=sprint.pk).update(**closed)  # retrospectives are of closed sprints
    action = retro_action_add(sprint=Sprint.objects.get(pk=sprint.pk), actor=owner, text="Add a load test")
    queue = queue_create(product=product, actor=owner, name="Access", slug="access", owner=owner)
    ticket = ticket_intake(product=product, sender=owner, queue=queue, title="VPN down", urgency="high")
    ticket = ticket.ticket
    occurrence = ticket.occurrences.get()
    view = saved_view_create(product=product, actor=owner, name="Mine", filters={})
    endpoint = Endpoint.objects.create(product=product, url="https://8.8.8.8/", events=["item.created"])
    delivery = Delivery.objects.create(
        endpoint=endpoint, event_id="msg_1", event_type="item.created", payload={}, state=Delivery.State.DELIVERED
    )
    imported = import_preview(product=product, actor=owner, data=b"title,kind\nx,story\n")
    theme = Theme.objects.create(product=product, title="Checkout")
    values = {
        "{import_id}": str(imported.pk),
        "{theme_id}": str(theme.pk),
        "{key}": product.key,
        "{username}": owner.username,
        "{comment_id}": str(comment.pk),
        "{token_id}": "1",
        "{number}": str(sprint.number),
        "{action_id}": str(action.pk),
        "{slug}": queue.slug,
        "{occurrence_id}": str(occurrence.pk),
        "{view_id}": str(view.pk),
        "{endpoint_id}": str(endpoint.pk),
        "{delivery_id}": str(delivery.pk),
    }
    operations = _write_operations(client)
    assert len(operations) >= 15  # every documented write, not a handful
    for path, method in operations:
        for placeholder, value in values.items():
            path = path.replace(placeholder, value)
        if path.endswith(("/accept/", "/reject/", "/answer/", "/questions/")):
            path = path.replace("{ref}", proposal.key)
        elif "/ticket/" in path:
            path = path.replace("{ref}", ticket.item.key)
        path = path.replace("{ref}", items[0].key)
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
    assert response.json()["error"]["fields"] == {"parts": ["#2 points: Unknown field."]}


def test_product_settings_name_read_only_fields(api, product):
    response = api.patch(f"/api/v1/products/{product.key}/", {"key": "NEW"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"key": ["Read-only field."]}


# One error body for every API error, whoever raises it.


def _is_error_body(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["status"] == status and set(error) == {"status", "code", "message", "fields"}
    return error


def test_deeply_nested_json_is_a_400_not_a_crash(api, items):
    body = "[" * 1000 + "]" * 1000  # 2 KB, past Python's recursion limit when decoded
    response = api.generic("POST", f"/api/v1/items/{items[0].key}/transition/", body, content_type="application/json")
    error = _is_error_body(response, 400)
    assert "nests deeper than" in error["message"]
    nested: object = 1
    for _ in range(40):  # deep enough to refuse, shallow enough to decode
        nested = [nested]
    response = api.post(f"/api/v1/items/{items[0].key}/transition/", {"status": "x", "reason": nested}, format="json")
    response = api.post(f"/api/v1/items/{items[0].key}/transition/", nested, format="json")
    assert "nests deeper than" in _is_error_body(response, 400)["message"]


def test_a_body_over_the_limit_is_a_413_before_anything_reads_it(api, items, settings, caplog):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"title": "' + "x" * 2000 + '"}'
    response = api.generic("PATCH", f"/api/v1/items/{items[0].key}/", body, content_type="application/json")
    assert "over the limit of 1,000 bytes" in _is_error_body(response, 413)["message"]
    assert not [record for record in caplog.records if record.exc_info or record.levelname == "ERROR"]


def test_a_body_without_a_length_is_bounded_by_the_parser(settings):
    from io import BytesIO

    from config.parsers import JsonBodyParser, RequestBodyTooLarge

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    with pytest.raises(RequestBodyTooLarge):
        JsonBodyParser().parse(BytesIO(b'{"title": "long enough"}'), "application/json", {})
    assert JsonBodyParser().parse(BytesIO(b'{"a": 1}'), "application/json", {}) == {"a": 1}


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_urls_and_wrong_methods_answer_the_error_body(api, items, settings, debug):
    settings.DEBUG = debug
    assert _is_error_body(api.get("/api/v1/nothing-here/"), 404)["code"] == "not_found"
    response = api.delete(f"/api/v1/items/{items[0].key}/")
    assert _is_error_body(response, 405)["code"] == "method_not_allowed"
    assert "PATCH" in response["Allow"]


@pytest.mark.parametrize("debug", [False, True])
def test_django_refusals_before_any_view_answer_the_error_body(client, settings, debug):
    settings.DEBUG = debug
    response = client.get("/api/v1/products/", HTTP_HOST="evil.example")  # DisallowedHost, a SuspiciousOperation
    assert _is_error_body(response, 400)["code"] == "invalid"


def test_a_server_error_answers_the_error_body(owner, monkeypatch):
    from rest_framework.test import APIClient

    from accounts.api import views

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "products_for", crash)
    client = APIClient(raise_request_exception=False)
    client.force_login(owner)
    error = _is_error_body(client.get("/api/v1/products/"), 500)
    assert error["code"] == "server_error" and "boom" not in error["message"]


def test_a_session_write_without_csrf_token_answers_the_error_body(owner, items):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(f"/api/v1/items/{items[0].key}/archive/", {}, format="json")
    assert "CSRF" in _is_error_body(response, 403)["message"]
    assert client.get("/p/nothing/").status_code == 404  # pages keep Django's HTML answers


def test_the_schema_is_generated_once_per_process(client, monkeypatch):
    from drf_spectacular.generators import SchemaGenerator

    from config.schema import SchemaView

    monkeypatch.setattr(SchemaView, "generated", {})
    calls = []
    generate = SchemaGenerator.get_schema
    monkeypatch.setattr(SchemaGenerator, "get_schema", lambda self, **kw: calls.append(1) or generate(self, **kw))
    first = client.get("/api/schema/?format=json")
    yaml = client.get("/api/schema/")  # the same schema, in another format
    again = client.get("/api/schema/?format=json")
    assert calls == [1]
    assert first.status_code == yaml.status_code == again.status_code == 200
    assert first.json() == again.json() and first.json()["paths"]
    assert yaml["Content-Type"].startswith("application/vnd.oai.openapi")


# The schema declares the bounds the server enforces.


def _schema(client) -> dict:
    return client.get("/api/schema/?format=json").json()


def _parameter(operation: dict, name: str) -> dict:
    return next(parameter for parameter in operation["parameters"] if parameter["name"] == name)


def test_the_schema_declares_page_size_and_limit_ranges(client):
    paths = _schema(client)["paths"]
    paged = [
        operation for operations in paths.values() for operation in operations.values() if "parameters" in operation
    ]
    page_sizes = [_parameter(op, "page_size")["schema"] for op in paged if "page_size" in str(op["parameters"])]
    assert len(page_sizes) >= 7  # items, history, stale items, review queue, my proposals, questions, comments
    assert all((schema["minimum"], schema["maximum"]) == (1, 200) for schema in page_sizes)
    for path, maximum in (("refinement-agenda", 100), ("suggested-order", 500)):
        limit = _parameter(paths[f"/api/v1/products/{{key}}/{path}/"]["get"], "limit")["schema"]
        assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, maximum)


@pytest.mark.parametrize(
    ("path", "query", "bound"), [("review-queue", "page_size", 200), ("refinement-agenda", "limit", 100)]
)
def test_the_declared_bounds_are_the_enforced_ones(api, product, path, query, bound):
    url = f"/api/v1/products/{product.key}/{path}/?{query}="
    assert api.get(url + str(bound)).status_code == 200
    assert api.get(url + str(bound + 1)).status_code == 400
    assert api.get(url + "0").status_code == 400


def test_the_schema_declares_the_product_settings_structure(client):
    schemas = _schema(client)["components"]["schemas"]
    sla = schemas["Product"]["properties"]["sla_hours"]
    assert sla["required"] == ["P1", "P2", "P3", "P4", "P5"] and sla["additionalProperties"] is False
    assert sla["properties"]["P1"] == {"type": "integer", "minimum": 1, "maximum": 87600}
    ready = schemas["PatchedProductUpdateRequest"]["properties"]["definition_of_ready"]
    assert ready["additionalProperties"] is False and "required" not in ready
    assert ready["properties"]["estimate"] == {"type": "boolean"}
    assert (ready["properties"]["max_estimate"]["maximum"], ready["properties"]["max_estimate"]["nullable"]) == (
        1000,
        True,
    )
    assert schemas["PatchedProductUpdateRequest"]["properties"]["sla_hours"]["required"] == [
        "P1",
        "P2",
        "P3",
        "P4",
        "P5",
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sla_hours", {"P1": 0, "P2": 8, "P3": 24, "P4": 72, "P5": 168}),
        ("sla_hours", {"P1": 4}),
        ("definition_of_ready", {"max_estimate": 1001}),
        ("definition_of_ready", {"estimate": True, "colour": True}),
    ],
)
def test_values_outside_the_declared_structure_are_refused(api, product, field, value):
    response = api.patch(f"/api/v1/products/{product.key}/", {field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_string_over_its_declared_length_is_refused_even_with_white_space_to_trim(api, product):
    """The schema's maxLength holds for the string as sent: 100 characters and a trailing space are
    101, a 400 (DRF trims first, and took it)."""
    url = f"/api/v1/products/{product.key}/intake-tokens/"
    refused = api.post(url, {"name": "x" * 100 + " "}, format="json")
    assert refused.status_code == 400, refused.content
    assert "name" in str(refused.json())
    assert api.post(url, {"name": "x" * 100}, format="json").status_code == 201
