"""The export and import endpoints: streamed files, uploads with previews, confirm, status."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.http import StreamingHttpResponse

from backlog.models import Import, Item
from backlog.services.items import item_create

pytestmark = pytest.mark.django_db

JIRA_SAMPLE = Path(__file__).resolve().parent.parent / "data" / "jira_sample.csv"


def upload(client, key: str, data: bytes, query: str = ""):
    return client.post(f"/api/v1/products/{key}/imports/{query}", data=data, content_type="text/csv")


def test_export_streams_csv_with_the_filters(as_role, product, items, owner):
    item_create(product=product, actor=owner, kind="defect", title="A bug", severity="minor", external_ref="JIRA-7")
    response = as_role("stakeholder").get(f"/api/v1/products/{product.key}/export/?format=csv&kind=defect")
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [(row["title"], row["external_ref"]) for row in rows] == [("A bug", "JIRA-7")]


def test_export_json_is_the_backlog_in_order(as_role, product, items):
    response = as_role("developer").get(f"/api/v1/products/{product.key}/export/?format=json")
    assert isinstance(response, StreamingHttpResponse)
    records = json.loads(b"".join(response.streaming_content))
    assert [record["title"] for record in records] == ["A", "B", "C"]
    assert [record["position"] for record in records] == [1, 2, 3]


@pytest.mark.parametrize(
    ("query", "field"),
    [("?format=xml", "format"), ("?format=csv&colour=red", "colour"), ("?format=csv&kind=rocket", "kind")],
)
def test_export_refuses_bad_parameters(as_role, product, items, query, field):
    response = as_role("owner").get(f"/api/v1/products/{product.key}/export/{query}")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_external_ref_is_set_filtered_and_unique_through_the_api(as_role, product, items):
    client = as_role("owner")
    response = client.patch(f"/api/v1/items/{items[0].pk}/", {"external_ref": "SHOP-1"}, format="json")
    assert response.status_code == 200 and response.json()["external_ref"] == "SHOP-1"
    found = client.get(f"/api/v1/products/{product.key}/items/?external_ref=SHOP-1").json()["results"]
    assert [item["key"] for item in found] == [items[0].key]
    clash = client.post(
        f"/api/v1/products/{product.key}/items/",
        {"kind": "story", "title": "x", "external_ref": "SHOP-1"},
        format="json",
    )
    assert clash.status_code == 400
    assert "external_ref" in clash.json()["error"]["fields"]


def test_upload_preview_confirm_and_status(as_role, product, django_capture_on_commit_callbacks):
    client = as_role("owner")
    response = upload(client, product.key, JIRA_SAMPLE.read_bytes(), "?placing=top&file_name=jira.csv")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["state"], body["source"], body["total"], body["errors"]) == ("previewed", "jira", 11, [])
    assert body["preview"]["create"] == 10
    assert not Item.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):  # the job runs after the commit
        confirmed = client.post(f"/api/v1/products/{product.key}/imports/{body['id']}/confirm/", {}, format="json")
    assert confirmed.status_code == 202
    assert confirmed.json()["state"] == "queued"
    status = client.get(f"/api/v1/products/{product.key}/imports/{body['id']}/").json()
    assert (status["state"], status["created"], status["processed"]) == ("done", 10, 11)
    assert status["skipped"][0]["external_ref"] == "SHOP-1"
    listed = client.get(f"/api/v1/products/{product.key}/imports/").json()["results"]
    assert [one["id"] for one in listed] == [body["id"]]
    again = client.post(f"/api/v1/products/{product.key}/imports/{body['id']}/confirm/", {}, format="json")
    assert again.status_code == 400


def test_upload_with_row_errors_cannot_be_confirmed(as_role, product):
    client = as_role("owner")
    body = upload(client, product.key, b"title,kind\nFine,story\nBroken,defect\n").json()
    assert body["errors"] == [
        {
            "row": 3,
            "external_ref": "",
            "errors": {"severity": "A defect needs a severity: critical, major, minor or trivial."},
        }
    ]
    response = client.post(f"/api/v1/products/{product.key}/imports/{body['id']}/confirm/", {}, format="json")
    assert response.status_code == 400
    assert not Item.objects.exists()


def test_upload_limits_and_bad_files(as_role, product, settings):
    client = as_role("owner")
    assert upload(client, product.key, "title,kind\nZürich,story\n".encode("latin-1")).status_code == 400
    assert upload(client, product.key, b"").status_code == 400
    assert upload(client, product.key, b"title,kind\nx,story\n", "?source=trello").status_code == 400
    assert upload(client, product.key, b"title,kind\nx,story\n", "?placing=middle").status_code == 400
    settings.IMPORT_MAX_BYTES = 30
    too_big = upload(client, product.key, b"title,kind\n" + b"x,story\n" * 10)
    assert too_big.status_code == 413
    assert "30 bytes" in too_big.json()["error"]["message"]
    assert not Import.objects.exists()


def test_a_csv_over_the_json_limit_but_within_the_import_limit_is_taken(as_role, product, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    data = b"title,kind\n" + b"".join(f"Item {n},story\n".encode() for n in range(50))
    response = upload(as_role("owner"), product.key, data)
    assert response.status_code == 201
    assert response.json()["total"] == 50


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("owner", 201),
        ("delegate", 201),
        ("developer", 403),
        ("stakeholder", 403),
        ("outsider", 404),
        ("anonymous", 401),
        ("read_only_token", 403),
    ],
)
def test_who_may_upload(as_role, product, role, status):
    response = upload(as_role(role), product.key, b"title,kind\nx,story\n")
    assert response.status_code == status
    assert Import.objects.count() == (1 if status == 201 else 0)
    if role == "outsider":
        assert product.key not in response.content.decode()
