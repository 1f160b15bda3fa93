"""The webhook API as an owner: create (the secret shown once), change, the log, redeliver, test."""

import pytest
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from webhooks.models import Delivery, Endpoint
from webhooks.services import deliveries_due_hand_out

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(owner):
    client = APIClient()
    client.force_authenticate(owner)
    return client


def test_create_shows_the_secret_once_then_the_log_and_redelivery(api, product, receiver, local_receivers, make_story):
    base = f"/api/v1/products/{product.key.lower()}/webhooks/"
    made = api.post(base, {"url": receiver.url, "events": ["item.created"], "description": "CI"}, format="json")
    assert made.status_code == 201, made.content
    secret = made.json()["secret"]
    assert secret.startswith("whsec_")
    detail = api.get(f"{base}{made.json()['id']}/")
    assert detail.status_code == 200 and "secret" not in detail.json()
    assert api.get(base).json()[0]["events"] == ["item.created"]

    make_story()
    deliveries_due_hand_out()
    Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    log = api.get(f"{base}{made.json()['id']}/deliveries/").json()
    [delivery] = log["results"]
    assert delivery["state"] == "delivered"
    assert delivery["attempt_log"][0]["status_code"] == 200
    assert delivery["attempt_log"][0]["duration_ms"] >= 0

    again = api.post(f"{base}{made.json()['id']}/deliveries/{delivery['id']}/redeliver/", {}, format="json")
    assert again.status_code == 202 and again.json()["state"] == "pending"
    deliveries_due_hand_out()
    assert receiver.requests[0].body == receiver.requests[1].body

    rotated = api.post(f"{base}{made.json()['id']}/secret/", {}, format="json").json()["secret"]
    assert rotated != secret
    test = api.post(f"{base}{made.json()['id']}/test/", {}, format="json")
    assert test.status_code == 202 and test.json()["event_type"] == "webhook.test"
    deliveries_due_hand_out()
    Webhook(rotated).verify(receiver.requests[2].body, receiver.requests[2].headers)


def test_bad_input_is_refused_with_the_error_body(api, product, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    base = f"/api/v1/products/{product.key}/webhooks/"
    cases = [
        ({"url": "http://[::1]/", "events": ["item.created"]}, "url"),
        ({"url": "http://2130706433/", "events": ["item.created"]}, "url"),
        ({"url": "https://8.8.8.8/", "events": ["item.nothing"]}, "events"),
        ({"url": "https://8.8.8.8/", "events": []}, "events"),
        ({"url": "https://8.8.8.8/", "events": "item.created"}, "events"),
        ({"url": "https://8.8.8.8/", "events": ["item.created"], "secret": "mine"}, "secret"),
        ({"url": "https://8.8.8.8/", "events": ["item.created"], "enabled": "yes"}, "enabled"),
    ]
    for body, field in cases:
        response = api.post(base, body, format="json")
        assert response.status_code == 400, body
        assert field in response.json()["error"]["fields"], (body, response.json())
    assert not Endpoint.objects.exists()
    assert api.get(base + "?page=2").status_code == 400


def test_change_and_enable_again(api, product, owner):
    base = f"/api/v1/products/{product.key}/webhooks/"
    made = api.post(base, {"url": "https://8.8.8.8/", "events": ["item.created"], "enabled": False}, format="json")
    assert made.json()["enabled"] is False
    url = f"{base}{made.json()['id']}/"
    changed = api.patch(url, {"events": ["item.moved", "comment.added"], "enabled": True}, format="json")
    assert changed.status_code == 200
    assert changed.json()["events"] == ["item.moved", "comment.added"]
    assert changed.json()["enabled"] is True
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert not Delivery.objects.exists()
