"""The API: your preferences (GET, PATCH: strict), watching an item (GET, PUT, DELETE)."""

import pytest

from notifications.models import Preferences, Watch

pytestmark = pytest.mark.django_db


def test_preferences_start_at_the_defaults_and_patch_changes_only_what_is_sent(as_role, developer):
    client = as_role("developer")
    defaults = client.get("/api/v1/notifications/preferences/").json()
    assert defaults == {
        "question": "both",
        "answer": "both",
        "decision": "both",
        "mention": "both",
        "watched": "in_app",
        "sla_breach": "both",
        "digest": "immediate",
    }
    changed = client.patch("/api/v1/notifications/preferences/", {"watched": "none", "digest": "daily"}, format="json")
    assert changed.status_code == 200
    assert changed.json() == {**defaults, "watched": "none", "digest": "daily"}
    assert Preferences.objects.get(user=developer).watched == "none"


@pytest.mark.parametrize(
    "body",
    [{"watched": "loudly"}, {"webhooks": "both"}, {"digest": "weekly"}, {"mention": True}, {"mention": ["both"]}],
)
def test_preferences_input_is_strict(as_role, developer, body):
    response = as_role("developer").patch("/api/v1/notifications/preferences/", body, format="json")
    assert response.status_code == 400 and set(response.json()["error"]["fields"]) == set(body)
    assert not Preferences.objects.filter(user=developer).exists()


def test_preferences_need_authentication_and_a_writable_token(as_role):
    assert as_role("anonymous").get("/api/v1/notifications/preferences/").status_code == 401
    assert as_role("read_only_token").get("/api/v1/notifications/preferences/").status_code == 200
    refused = as_role("read_only_token").patch("/api/v1/notifications/preferences/", {"watched": "none"}, format="json")
    assert refused.status_code == 403 and not Preferences.objects.exists()


def test_watch_unwatch_and_read_it(as_role, story, developer):
    client = as_role("developer")
    url = f"/api/v1/items/{story.key}/watch/"
    assert client.get(url).json() == {"watching": False, "watchers": 0}
    assert client.put(url).json() == {"watching": True, "watchers": 1}
    assert client.put(url).json() == {"watching": True, "watchers": 1}  # idempotent
    assert Watch.objects.filter(item=story, user=developer).exists()
    assert client.delete(url).json() == {"watching": False, "watchers": 0}


def test_watch_takes_no_body(as_role, story):
    response = as_role("developer").put(f"/api/v1/items/{story.key}/watch/", {"watching": True}, format="json")
    assert response.status_code == 400 and "watching" in response.json()["error"]["fields"]
