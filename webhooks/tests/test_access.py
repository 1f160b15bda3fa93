"""webhooks.access, and every webhook page and API URL: outsiders get the 404 of a missing thing."""

import pytest
from django.http import Http404
from django.test import Client
from django.utils import timezone

from accounts.tests.routes import assert_any_case, assert_hidden, routes_of
from webhooks.access import access_delivery, access_endpoint
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(product):
    endpoint = Endpoint.objects.create(product=product, url="https://8.8.8.8/", events=["item.created"])
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event_id="msg_1",
        event_type="item.created",
        payload={},
        state=Delivery.State.DELIVERED,
        finished_at=timezone.now(),
    )
    return {
        "key": product.key,
        "endpoint_id": endpoint.pk,
        "delivery_id": delivery.pk,
        "action": "test",
    }


def test_the_owner_reaches_endpoints_and_deliveries_with_the_key_in_any_case(world, owner):
    endpoint = access_endpoint(owner, world["key"].lower(), world["endpoint_id"])
    assert endpoint.pk == world["endpoint_id"]
    assert access_delivery(owner, world["key"], world["endpoint_id"], world["delivery_id"]).endpoint == endpoint


@pytest.mark.parametrize("role", ["outsider", "anonymous"])
def test_outsiders_cannot_tell_a_foreign_endpoint_from_a_missing_one(world, role, request):
    user = request.getfixturevalue(role)
    with pytest.raises(Http404) as foreign:
        access_endpoint(user, world["key"], world["endpoint_id"])
    with pytest.raises(Http404) as missing:
        access_endpoint(user, world["key"], world["endpoint_id"] + 1)
    assert str(foreign.value) == str(missing.value)


def test_another_products_endpoint_is_missing_for_its_owner(world, outsider):
    foreign = Endpoint.objects.get(pk=world["endpoint_id"])
    own = outsider.memberships.get().product
    with pytest.raises(Http404):
        access_endpoint(outsider, own.key, foreign.pk)


def test_outsiders_get_404_on_every_webhook_page_and_api_url(world, outsider, as_role):
    urls = routes_of("webhooks", **world)
    page = Client()
    page.force_login(outsider)
    assert_hidden(page, as_role("outsider"), urls)
    assert Endpoint.objects.get().enabled
    assert Delivery.objects.count() == 1


def test_every_webhook_url_takes_keys_in_any_case(world, owner, as_role):
    page = Client()
    page.force_login(owner)
    assert_any_case(page, as_role("owner"), routes_of("webhooks", **world), world["key"])
