"""service.access: tickets and queues fetched and checked in one call; outsiders get 404 on every
service page and API URL (and change nothing); every URL takes keys in any case."""

import pytest
import time_machine
from django.http import Http404
from django.test import Client
from django.utils import timezone

from accounts.tests.routes import assert_any_case, assert_hidden, routes_of
from backlog.models import Item
from backlog.services.items import item_create
from service.access import access_queue, access_ticket
from service.models import Occurrence, Ticket
from service.services.tokens import intake_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(product, owner, intake):
    ticket = intake(fingerprint="f").ticket
    intake(fingerprint="f")
    token, _ = intake_token_create(product=product, actor=owner, name="monitor")
    return {
        "key": product.key,
        "number": ticket.item.number,
        "ref": ticket.item.key,
        "slug": "database",
        "token_id": token.pk,
        "occurrence_id": ticket.occurrences.last().pk,
        "action": "acknowledge",
    }


def test_outsiders_get_404_on_every_service_page_and_api_url(world, outsider, as_role):
    before = (list(Ticket.objects.values_list("pk", "occurrence_count", "responded_at")), Occurrence.objects.count())
    urls = routes_of("service", **world)
    page = Client()
    page.force_login(outsider)
    assert_hidden(page, as_role("outsider"), urls)
    assert (
        list(Ticket.objects.values_list("pk", "occurrence_count", "responded_at")),
        Occurrence.objects.count(),
    ) == before
    assert Item.objects.count() == 1


def test_every_service_url_takes_keys_in_any_case(world, owner, as_role):
    page = Client()
    page.force_login(owner)
    with time_machine.travel(timezone.now(), tick=False):  # the clocks' time left is the same for both
        assert_any_case(page, as_role("owner"), routes_of("service", **world), world["key"])


def test_outsiders_get_the_404_of_missing_tickets_and_queues(product, owner, outsider, world):
    with pytest.raises(Http404) as foreign:
        access_ticket(outsider, world["ref"])
    with pytest.raises(Http404) as missing:
        access_ticket(owner, f"{product.key}-999")
    assert str(foreign.value) == str(missing.value) == "No such item."
    story = item_create(product=product, actor=owner, kind="story", title="Not a ticket")
    with pytest.raises(Http404):
        access_ticket(owner, story.key)
    with pytest.raises(Http404):
        access_queue(outsider, product.key, "database")
    with pytest.raises(Http404):
        access_queue(owner, product.key, "nope")
    queue, _ = access_queue(owner, product.key.lower(), "database")
    assert queue.slug == "database"
