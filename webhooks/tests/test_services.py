"""Deliveries end to end against a real local HTTP receiver: signed, retried with back-off on
non-2xx and timeouts, given up and the endpoint disabled with a notice, redelivered, tested."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from standardwebhooks import Webhook

from accounts.models import Notification
from backlog.models import Item
from backlog.services.items import item_create, item_transition, item_update
from backlog.services.ordering import Placement, item_move
from refinement.services.proposals import proposal_accept
from webhooks.models import ATTEMPTS, RETRY_DELAYS_SECONDS, Delivery, Endpoint, Event
from webhooks.services import (
    _claim,
    deliveries_due_hand_out,
    delivery_attempt,
    delivery_redeliver,
    endpoint_create,
    endpoint_test_send,
    endpoint_update,
)

pytestmark = pytest.mark.django_db


def verified(endpoint: Endpoint, request) -> dict:
    """The body of a received request, verified with the standardwebhooks package."""
    return Webhook(endpoint.secret).verify(request.body, request.headers)


def test_an_item_created_is_delivered_signed_after_the_sweep(endpoint, receiver, make_story):
    item = make_story("Sign me")
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert receiver.requests == []  # nothing is sent on the request's thread in process
    assert deliveries_due_hand_out() == 1
    [request] = receiver.requests
    body = verified(endpoint, request)
    assert body["type"] == "item.created"
    assert body["id"] == delivery.event_id == request.headers["webhook-id"]
    assert body["product"] == item.product.key
    assert body["data"]["item"]["key"] == item.key
    assert body["data"]["item"]["title"] == "Sign me"
    assert body["data"]["change"]["status"] == "open"
    assert request.headers["content-type"] == "application/json"
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DELIVERED
    assert [(a.number, a.status_code) for a in delivery.attempt_log.all()] == [(1, 200)]
    assert delivery.attempt_log.get().response_body == ("ok" * 500)  # read at most 1,024 bytes


def test_a_tampered_body_or_another_secret_fails_verification(endpoint, receiver, make_story):
    from standardwebhooks.webhooks import WebhookVerificationError

    make_story()
    deliveries_due_hand_out()
    [request] = receiver.requests
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(request.body.replace(b"story", b"defect"), request.headers)
    other = Endpoint(secret=Endpoint._meta.get_field("secret").default()).secret
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(request.body, request.headers)


def test_edits_moves_status_changes_and_decisions_have_their_types(product, owner, endpoint, receiver, make_story):
    first, second = make_story("One"), make_story("Two")
    item_update(item=first, actor=owner, changes={"estimate": 5})
    item_move(item=second, actor=owner, to=Placement.top())
    item_transition(item=first, actor=owner, to=Item.Status.IN_PROGRESS)
    proposal = item_create(product=product, actor=owner, kind="story", title="Idea", into_order=False)
    assert proposal.status == Item.Status.PROPOSED

    proposal_accept(item=proposal, actor=owner, placement=Placement.bottom())
    types = list(Delivery.objects.order_by("pk").values_list("event_type", flat=True))
    assert types == [
        "item.created",
        "item.created",
        "item.updated",
        "item.moved",
        "item.status_changed",
        "item.created",
        "proposal.decided",
    ]
    deliveries_due_hand_out()
    bodies = [verified(endpoint, request) for request in receiver.requests]
    assert bodies[2]["data"]["change"]["changes"] == {"estimate": [None, 5]}
    assert bodies[3]["data"]["change"]["to"]["position"] == 1
    assert bodies[6]["data"]["change"]["from"] == "proposed"


def test_only_the_chosen_events_of_enabled_endpoints(product, owner, endpoint, receiver, make_story):
    endpoint_update(endpoint=endpoint, actor=owner, changes={"events": ["item.moved"]})
    make_story()
    assert not Delivery.objects.exists()
    endpoint_update(endpoint=endpoint, actor=owner, changes={"events": ["item.created"], "enabled": False})
    make_story()
    assert not Delivery.objects.exists()


def test_comments_sprints_and_intake_are_reported(product, owner, endpoint, receiver, make_story):
    from datetime import date

    from delivery.services.sprints import sprint_commit, sprint_create, sprint_start
    from refinement.services.comments import comment_create
    from service.services.queues import queue_create
    from service.services.tickets import ticket_intake

    item = make_story()
    comment_create(item=item, actor=owner, body="Looks *good*")
    sprint = sprint_create(product=product, actor=owner, start_date=date(2026, 1, 5), end_date=date(2026, 1, 16))
    sprint_commit(sprint=sprint, actor=owner, item_ids=[item.pk], reason="short")
    sprint_start(sprint=sprint, actor=owner)
    queue = queue_create(product=product, actor=owner, name="Support", slug="support", owner=owner)
    ticket_intake(product=product, sender=owner, queue=queue, title="Login down", urgency="high", fingerprint="x")
    ticket_intake(product=product, sender=owner, queue=queue, title="Login down", urgency="high", fingerprint="x")
    types = list(Delivery.objects.order_by("pk").values_list("event_type", flat=True))
    assert types[:4] == ["item.created", "comment.added", "sprint.committed", "sprint.started"]
    assert types.count("intake.received") == 2
    deliveries_due_hand_out()
    bodies = {verified(endpoint, r)["id"]: verified(endpoint, r) for r in receiver.requests}
    intakes = [b for b in bodies.values() if b["type"] == "intake.received"]
    assert [b["data"]["folded"] for b in intakes] == [False, True]
    assert intakes[1]["data"]["ticket"]["occurrences"] == 2
    [comment] = [b for b in bodies.values() if b["type"] == "comment.added"]
    assert comment["data"]["comment"]["body"] == "Looks *good*"
    assert comment["data"]["actor"] == owner.username


def test_a_500_is_retried_after_the_first_delay_with_the_same_id(endpoint, receiver, make_story):
    receiver.answer(500)
    make_story()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        deliveries_due_hand_out()
        delivery = Delivery.objects.get()
        assert delivery.state == Delivery.State.PENDING
        assert delivery.last_status == 500
        assert delivery.next_attempt_at == start + timedelta(seconds=RETRY_DELAYS_SECONDS[0])
        assert deliveries_due_hand_out() == 0  # not due yet
    with time_machine.travel(start + timedelta(seconds=RETRY_DELAYS_SECONDS[0]), tick=False):
        assert deliveries_due_hand_out() == 1
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DELIVERED
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 200]
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.event_id
    assert first.body == second.body
    assert verified(delivery.endpoint, second)["id"] == delivery.event_id


def test_a_receiver_slower_than_the_read_timeout_is_retried(endpoint, receiver, make_story):
    receiver.answer(200, delay=1.5)  # the read timeout is 0.5 s
    make_story()
    deliveries_due_hand_out()
    delivery = Delivery.objects.get()
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None
    assert "Timed out" in attempt.error
    assert 400 <= attempt.duration_ms < 1400
    assert delivery.state == Delivery.State.PENDING
    with time_machine.travel(delivery.next_attempt_at, tick=False):
        deliveries_due_hand_out()
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DELIVERED


def test_redirects_are_not_followed(endpoint, receiver, make_story):
    receiver.answer(302, headers={"Location": "http://127.0.0.1:1/elsewhere"})
    make_story()
    deliveries_due_hand_out()
    delivery = Delivery.objects.get()
    assert delivery.last_status == 302
    assert delivery.state == Delivery.State.PENDING
    assert len(receiver.requests) == 1


def test_the_back_off_schedule_then_disabled_with_a_notice_to_the_owners(
    product, owner, developer, endpoint, receiver, make_story
):
    receiver.answer(503, times=ATTEMPTS)
    make_story()
    delivery = Delivery.objects.get()
    waits = []
    now = timezone.now()
    for _ in range(ATTEMPTS):
        with time_machine.travel(now, tick=False):
            assert deliveries_due_hand_out() == 1
        delivery.refresh_from_db()
        if delivery.next_attempt_at:
            waits.append((delivery.next_attempt_at - now).total_seconds())
            now = delivery.next_attempt_at
    assert waits == list(RETRY_DELAYS_SECONDS)
    assert sum(waits) >= 24 * 3600
    assert delivery.state == Delivery.State.FAILED
    assert delivery.attempts == ATTEMPTS == len(receiver.requests)
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "failed" in endpoint.disabled_reason
    [notice] = Notification.objects.filter(kind=Notification.Kind.WEBHOOK_DISABLED)
    assert notice.user == owner
    assert notice.link == f"/p/{product.key}/webhooks/{endpoint.pk}/"
    assert not Notification.objects.filter(user=developer).exists()
    # Disabled: new events queue nothing until an owner enables it again.
    make_story()
    assert Delivery.objects.count() == 1
    endpoint_update(endpoint=endpoint, actor=owner, changes={"enabled": True})
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.disabled_reason == ""


def test_pending_deliveries_are_cancelled_when_the_endpoint_is_disabled(endpoint, receiver, make_story):
    receiver.answer(500, times=ATTEMPTS * 2)
    make_story("first")
    now = timezone.now()
    for _ in range(ATTEMPTS):
        with time_machine.travel(now, tick=False):
            deliveries_due_hand_out()
            if _ == 0:
                make_story("second")  # queued a moment later, waits in between
        first = Delivery.objects.order_by("pk").first()
        now = first.next_attempt_at or now
    states = list(Delivery.objects.order_by("pk").values_list("state", flat=True))
    assert states == [Delivery.State.FAILED, Delivery.State.CANCELLED]


def test_not_disabled_when_something_got_through_meanwhile(endpoint, receiver, make_story):
    make_story()
    deliveries_due_hand_out()  # delivered: the endpoint works
    delivery = Delivery.objects.get()
    delivery.refresh_from_db()
    receiver.answer(500)
    Delivery.objects.filter(pk=delivery.pk).update(
        state=Delivery.State.PENDING, attempts=ATTEMPTS - 1, next_attempt_at=timezone.now(), created_at=timezone.now()
    )
    Endpoint.objects.filter(pk=endpoint.pk).update(last_success_at=timezone.now() + timedelta(seconds=1))
    deliveries_due_hand_out()
    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert delivery.state == Delivery.State.FAILED
    assert endpoint.enabled


def test_redeliver_sends_the_same_id_and_body_once_more(owner, endpoint, receiver, make_story):
    make_story()
    deliveries_due_hand_out()
    delivery = Delivery.objects.get()
    delivery.refresh_from_db()
    delivery_redeliver(delivery=delivery, actor=owner)
    deliveries_due_hand_out()
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DELIVERED
    assert delivery.attempts == 2
    Delivery.objects.filter(pk=delivery.pk).update(state=Delivery.State.PENDING, next_attempt_at=timezone.now())
    with pytest.raises(ValidationError):
        delivery_redeliver(delivery=Delivery.objects.get(pk=delivery.pk), actor=owner)


def test_a_failed_redelivery_stays_failed_and_does_not_disable(owner, endpoint, receiver, make_story):
    receiver.answer(500, times=2)
    make_story()
    deliveries_due_hand_out()
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(state=Delivery.State.FAILED, next_attempt_at=None)
    delivery_redeliver(delivery=Delivery.objects.get(pk=delivery.pk), actor=owner)
    deliveries_due_hand_out()
    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert delivery.state == Delivery.State.FAILED and delivery.attempts == 2
    assert endpoint.enabled


def test_the_test_event(owner, endpoint, receiver):
    delivery = endpoint_test_send(endpoint=endpoint, actor=owner)
    assert delivery.max_attempts == 1
    deliveries_due_hand_out()
    [request] = receiver.requests
    body = verified(endpoint, request)
    assert body["type"] == Event.PING
    assert body["data"]["sent_by"] == owner.username


def test_only_owners_manage_endpoints(product, developer, delegate, owner, endpoint, local_receivers):
    for member in (developer, delegate):
        with pytest.raises(PermissionDenied):
            endpoint_create(product=product, actor=member, url=endpoint.url, events=["item.created"])
        with pytest.raises(PermissionDenied):
            endpoint_test_send(endpoint=endpoint, actor=member)
    assert Endpoint.objects.count() == 1


def test_a_worker_killed_mid_delivery_leaves_it_to_the_sweep(settings, endpoint, receiver, make_story):
    make_story()
    delivery = Delivery.objects.get()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert _claim(delivery.pk, 0) is not None  # claimed and committed, then the process died
        assert deliveries_due_hand_out() == 0  # under its lease
    with time_machine.travel(start + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS - 1), tick=False):
        assert deliveries_due_hand_out() == 0
    with time_machine.travel(start + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS), tick=False):
        assert deliveries_due_hand_out() == 1
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DELIVERED
    assert delivery.attempts == 2  # the lost attempt counts
    assert len(receiver.requests) == 1


def test_a_duplicate_message_for_an_attempt_already_made_does_nothing(endpoint, receiver, make_story):
    make_story()
    delivery = Delivery.objects.get()
    assert delivery_attempt(delivery_id=delivery.pk, expected_attempts=0) == Delivery.State.DELIVERED
    assert delivery_attempt(delivery_id=delivery.pk, expected_attempts=0) is None
    assert len(receiver.requests) == 1


def test_delivery_time_refuses_a_host_that_now_points_to_a_private_address(settings, endpoint, receiver, make_story):
    make_story()
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False  # as if DNS now answered 127.0.0.1
    deliveries_due_hand_out()
    delivery = Delivery.objects.get()
    assert receiver.requests == []
    assert "loopback" in delivery.last_error
    assert delivery.state == Delivery.State.PENDING


def test_the_payload_is_the_stored_json(endpoint, receiver, make_story):
    make_story()
    delivery = Delivery.objects.get()
    deliveries_due_hand_out()
    assert json.loads(receiver.requests[0].body) == delivery.payload
