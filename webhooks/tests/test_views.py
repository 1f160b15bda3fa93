"""The webhook pages: owners manage endpoints, see the secret once and the delivery log; members
who are not owners get 403, outsiders 404."""

import pytest
from django.test import Client

from webhooks.models import Delivery, Endpoint
from webhooks.services import deliveries_due_hand_out

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_owner_adds_an_endpoint_sees_its_secret_once_and_its_log(
    product, owner, receiver, local_receivers, make_story
):
    web = client_for(owner)
    page = web.get(f"/p/{product.key}/webhooks/")
    assert page.status_code == 200
    assert b"Add an endpoint" in page.content
    added = web.post(
        f"/p/{product.key}/webhooks/", {"url": receiver.url, "events": ["item.created", "item.moved"]}, follow=True
    )
    endpoint = Endpoint.objects.get()
    assert added.status_code == 200
    assert endpoint.secret.encode() in added.content
    assert endpoint.events == ["item.created", "item.moved"]
    again = web.get(f"/p/{product.key}/webhooks/{endpoint.pk}/")
    assert endpoint.secret.encode() not in again.content  # shown once

    make_story("Logged")
    deliveries_due_hand_out()
    log = web.get(f"/p/{product.key}/webhooks/{endpoint.pk}/")
    assert b"item.created" in log.content and b"HTTP 200" in log.content

    delivery = Delivery.objects.get()
    web.post(f"/p/{product.key}/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")
    web.post(f"/p/{product.key}/webhooks/{endpoint.pk}/test/")
    deliveries_due_hand_out()
    assert len(receiver.requests) == 3
    assert Delivery.objects.filter(event_type="webhook.test", state="delivered").exists()

    rotated = web.post(f"/p/{product.key}/webhooks/{endpoint.pk}/rotate/", follow=True)
    endpoint.refresh_from_db()
    assert endpoint.secret.encode() in rotated.content

    edited = web.post(f"/p/{product.key}/webhooks/{endpoint.pk}/", {"url": receiver.url, "events": ["comment.added"]})
    assert edited.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.events == ["comment.added"] and not endpoint.enabled  # the box was left unticked

    web.post(f"/p/{product.key}/webhooks/{endpoint.pk}/remove/")
    assert not Endpoint.objects.exists()


def test_a_private_url_is_refused_on_the_page(settings, product, owner):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    page = client_for(owner).post(
        f"/p/{product.key}/webhooks/", {"url": "http://192.168.0.1/", "events": ["item.created"]}
    )
    assert page.status_code == 400
    assert b"private networks" in page.content
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), [("developer", 403), ("delegate", 403), ("stakeholder", 403), ("outsider", 404)]
)
def test_others_get_nothing(request, product, owner, who, status):
    endpoint = Endpoint.objects.create(product=product, url="https://8.8.8.8/", events=["item.created"])
    web = client_for(request.getfixturevalue(who))
    base = f"/p/{product.key}/webhooks/"
    assert web.get(base).status_code == status
    assert web.get(f"{base}{endpoint.pk}/").status_code == status
    assert web.post(base, {"url": "https://8.8.8.8/x", "events": ["item.created"]}).status_code == status
    for action in ("test", "rotate", "remove"):
        assert web.post(f"{base}{endpoint.pk}/{action}/").status_code == status
    endpoint.refresh_from_db()
    assert Endpoint.objects.count() == 1
    assert not Delivery.objects.exists()
    if status == 404:
        assert product.key.encode() not in web.get(base).content
