"""Every webhook endpoint × role: owners only (outsiders 404), through the real API with real tokens."""

import pytest
from django.utils import timezone

# The world is built once per module (config/tests/matrix.py):
from config.tests.matrix import (  # noqa: F401
    ROLES,
    check,
    delegate,
    developer,
    outsider,
    owner,
    product,
    stakeholder,
)
from webhooks.models import Delivery, Endpoint
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db

OWNER = {"owner"}
HOOK = "https://8.8.8.8/hook"  # public: saving checks the address (nothing is sent in these tests)


@pytest.fixture(scope="module")
def world(product, owner):
    endpoint = endpoint_create(product=product, actor=owner, url=HOOK, events=["item.created"])
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event_id="msg_1",
        event_type="item.created",
        payload={},
        state=Delivery.State.DELIVERED,
        attempts=1,
        finished_at=timezone.now(),
    )
    return {"key": product.key, "endpoint": endpoint.pk, "delivery": delivery.pk}


BASE = "/api/v1/products/{key}/webhooks/"
CASES = {
    "list": ("get", BASE, None, OWNER, 200, True),
    "create": ("post", BASE, {"url": HOOK, "events": ["item.moved"]}, OWNER, 201, False),
    "detail": ("get", BASE + "{endpoint}/", None, OWNER, 200, True),
    "change": ("patch", BASE + "{endpoint}/", {"enabled": False}, OWNER, 200, False),
    "remove": ("delete", BASE + "{endpoint}/", None, OWNER, 204, False),
    "rotate secret": ("post", BASE + "{endpoint}/secret/", {}, OWNER, 200, False),
    "test event": ("post", BASE + "{endpoint}/test/", {}, OWNER, 202, False),
    "deliveries": ("get", BASE + "{endpoint}/deliveries/", None, OWNER, 200, True),
    "redeliver": ("post", BASE + "{endpoint}/deliveries/{delivery}/redeliver/", {}, OWNER, 202, False),
}


def _state() -> list:
    endpoints = list(Endpoint.objects.order_by("pk").values_list("pk", "url", "events", "enabled", "secret"))
    deliveries = list(Delivery.objects.order_by("pk").values_list("pk", "state", "attempts"))
    return [endpoints, deliveries]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES)
def test_every_endpoint_for_every_role(as_role, world, role, case):
    before = _state()
    check(CASES[case], role, as_role(role), world)
    if role != "owner":
        assert _state() == before, "a refused request changed a webhook"
    elif not CASES[case][5]:
        assert _state() != before, "the owner's request changed nothing"
