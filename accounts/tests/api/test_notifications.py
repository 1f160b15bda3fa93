"""The inbox in the API: your notifications only, the unread filter, marking read."""

import pytest

from accounts.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(product, owner, developer):
    def note(user, key: str) -> Notification:
        return Notification.objects.create(user=user, product=product, kind="question", key=key, text=key, link="/")

    return [note(owner, "first"), note(owner, "second"), note(developer, "theirs")]


def test_you_list_your_own_notifications_newest_first(inbox, as_role):
    listed = as_role("owner").get("/api/v1/notifications/").json()["results"]
    assert [n["text"] for n in listed] == ["second", "first"]
    assert listed[0]["product"] == inbox[0].product.key and listed[0]["read_at"] is None


def test_mark_some_read_then_all_and_filter_the_unread(inbox, as_role):
    api = as_role("owner")
    theirs = inbox[2]
    marked = api.post("/api/v1/notifications/read/", {"ids": [inbox[0].pk, theirs.pk]}, format="json")
    assert marked.json() == {"marked": 1}  # another's notification is not touched
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    unread = api.get("/api/v1/notifications/?unread=true").json()["results"]
    assert [n["text"] for n in unread] == ["second"]
    assert api.post("/api/v1/notifications/read/", {}, format="json").json() == {"marked": 1}
    assert api.get("/api/v1/notifications/?unread=true").json()["results"] == []


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/v1/notifications/?unread=yes", None),
        ("get", "/api/v1/notifications/?sort=x", None),
        ("post", "/api/v1/notifications/read/", {"ids": ["1"]}),
        ("post", "/api/v1/notifications/read/", {"ids": [2**63]}),  # past any id the database holds
        ("post", "/api/v1/notifications/read/", {"all": True}),
    ],
)
def test_bad_requests_are_refused(inbox, as_role, method, url, body):
    api = as_role("owner")
    response = api.get(url) if method == "get" else api.post(url, body, format="json")
    assert response.status_code == 400
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_a_read_only_token_lists_but_does_not_mark(inbox, as_role):
    api = as_role("read_only_token")
    assert api.get("/api/v1/notifications/").status_code == 200
    assert api.post("/api/v1/notifications/read/", {}, format="json").status_code == 403
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_anonymous_callers_are_refused(inbox, as_role):
    assert as_role("anonymous").get("/api/v1/notifications/").status_code in (401, 403)
