"""``Idempotency-Key`` on every creating POST (accounts.api.idempotency): replay, conflict,
expiry, one client's keys never answering another's, secrets never stored."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.models import ApiToken, IdempotencyKey
from accounts.tasks import purge_idempotency_keys
from backlog.models import Import, Item
from delivery.models import Sprint
from refinement.models import Comment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def items_url(product) -> str:
    return f"/api/v1/products/{product.key}/items/"


BODY = {"kind": "story", "title": "Export the invoices"}


def test_the_same_key_and_body_get_the_first_answer_again(as_role, product):
    client = as_role("owner")
    first = client.post(items_url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(items_url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["ETag"] == first["ETag"]
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Item.objects.filter(product=product, title=BODY["title"]).count() == 1
    # Key order and spacing do not make another body; the key in the URL may be in any case.
    reordered = client.post(
        items_url(product).lower(), {"title": BODY["title"], "kind": "story"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert reordered.status_code == 201 and reordered["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_or_endpoint_is_a_conflict(as_role, product, items):
    client = as_role("owner")
    client.post(items_url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other = client.post(items_url(product), {**BODY, "title": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_conflict"
    elsewhere = client.post(
        f"/api/v1/items/{items[0].key}/comments/", {"body": "hi"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert elsewhere.status_code == 409 and "another request" in elsewhere.json()["error"]["message"]
    assert not Item.objects.filter(title="Other").exists() and not Comment.objects.exists()


def test_keys_are_kept_for_24_hours_then_purged(as_role, product):
    client = as_role("owner")
    client.post(items_url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    with time_machine.travel(timezone.now() + timedelta(hours=23, minutes=59), tick=False):
        assert client.post(items_url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")["Idempotent-Replayed"]
        assert purge_idempotency_keys() == 0
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1), tick=False):
        assert purge_idempotency_keys() == 1
        later = client.post(items_url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert later.status_code == 201 and "Idempotent-Replayed" not in later
    assert Item.objects.filter(title=BODY["title"]).count() == 2


def test_an_expired_key_is_free_even_before_the_purge(as_role, product):
    client = as_role("owner")
    client.post(items_url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        other = client.post(items_url(product), {**BODY, "title": "New"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 201 and other.json()["title"] == "New"


def test_the_purge_runs_on_both_schedules():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "accounts.tasks.purge_idempotency_keys" in tasks  # beat, and config/scheduler.py runs the same table


def test_one_clients_key_never_answers_another(as_role, product):
    owner, delegate = as_role("owner"), as_role("delegate")
    mine = owner.post(items_url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    theirs = delegate.post(items_url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs and theirs.json()["id"] != mine.json()["id"]
    # Nor with another body: the key is the delegate's own.
    again = delegate.post(items_url(product), {**BODY, "title": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="other")
    assert again.status_code == 201
    assert IdempotencyKey.objects.filter(key="shared").count() == 2


def test_refusals_are_not_stored(as_role, product):
    client = as_role("owner")
    refused = client.post(items_url(product), {"kind": "story"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert refused.status_code == 400
    fixed = client.post(items_url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert fixed.status_code == 201 and not IdempotencyKey.objects.filter(status_code=400).exists()


@pytest.mark.parametrize("key", ["", " ", "x" * 256])
def test_a_key_is_1_to_255_characters(as_role, product, key):
    response = as_role("owner").post(items_url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["error"]["fields"]
    assert not Item.objects.filter(title=BODY["title"]).exists()


def test_every_creating_endpoint_honours_it(as_role, product, items):
    client = as_role("owner")
    cases = [
        (f"/api/v1/items/{items[0].key}/comments/", {"body": "Looks good"}, lambda: Comment.objects.count()),
        (
            f"/api/v1/products/{product.key}/sprints/",
            {"start_date": "2026-01-05", "end_date": "2026-01-16"},
            lambda: Sprint.objects.count(),
        ),
        (
            f"/api/v1/items/{items[1].key}/split/",
            {"parts": [{"title": "first half"}, {"title": "second half"}]},
            lambda: Item.objects.count(),
        ),
    ]
    for url, body, count in cases:
        first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=url)
        assert first.status_code == 201, (url, first.content)
        before = count()
        again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=url)
        assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (201, first.json(), "true")
        assert count() == before, url


def test_a_replayed_token_never_shows_its_secret_again(as_role):
    client = as_role("owner")
    first = client.post("/api/v1/tokens/", {"name": "ci"}, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    again = client.post("/api/v1/tokens/", {"name": "ci"}, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    assert first.json()["token"].startswith("obk_") and again.json()["token"] is None
    assert again.json()["id"] == first.json()["id"]
    assert ApiToken.objects.filter(name="ci").count() == 1
    assert first.json()["token"] not in str(IdempotencyKey.objects.values_list("body", flat=True)[0])


def test_an_upload_is_keyed_by_its_content(as_role, product):
    client = as_role("owner")
    url = f"/api/v1/products/{product.key}/imports/"
    csv_file = b"kind,title\nstory,Imported once\n"
    first = client.post(url, data=csv_file, content_type="text/csv", HTTP_IDEMPOTENCY_KEY="up-1")
    again = client.post(url, data=csv_file, content_type="text/csv", HTTP_IDEMPOTENCY_KEY="up-1")
    other = client.post(url, data=csv_file + b"story,Another\n", content_type="text/csv", HTTP_IDEMPOTENCY_KEY="up-1")
    assert first.status_code == 201, first.content
    assert (again.status_code, again.json()["id"], again["Idempotent-Replayed"]) == (201, first.json()["id"], "true")
    assert other.status_code == 409
    assert Import.objects.filter(product=product).count() == 1
