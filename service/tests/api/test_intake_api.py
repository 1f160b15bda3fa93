"""The intake endpoint: tokens limited to one product's intake, idempotency keys, roles."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import MembershipFactory
from backlog.models import Item
from service.models import Occurrence, Ticket
from service.services.tokens import intake_token_create, intake_token_revoke

pytestmark = pytest.mark.django_db

BODY = {"title": "Checkout down", "queue": "database", "urgency": "high", "affected_users": 1500, "fingerprint": "co"}


def url(product) -> str:
    return f"/api/v1/products/{product.key}/intake/"


@pytest.fixture
def intake_client(product, owner, queue):
    _, raw = intake_token_create(product=product, actor=owner, name="alertmanager")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_a_ticket_is_created_then_folded(intake_client, product):
    created = intake_client.post(url(product), BODY, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["priority"], body["impact"], body["folded"], body["occurrence_count"]) == ("P1", "high", False, 1)
    assert body["priority_why"]["formula"] == "impact high × urgency high = P1"
    assert [clock["name"] for clock in body["clocks"]] == ["response", "resolution"]
    assert body["clocks"][0]["state"] == "running" and body["clocks"][0]["target_seconds"] == 15 * 60
    folded = intake_client.post(url(product), {**BODY, "affected_users": 500}, format="json")
    assert folded.status_code == 200
    assert (folded.json()["key"], folded.json()["folded"]) == (body["key"], True)
    assert (folded.json()["occurrence_count"], folded.json()["affected_users"]) == (2, 2000)


def test_the_impact_is_derived_when_not_given_and_used_when_given(intake_client, product):
    derived = intake_client.post(
        url(product), {**BODY, "affected_users": 60, "urgency": "low", "fingerprint": ""}, format="json"
    )
    assert (derived.json()["impact"], derived.json()["priority"]) == ("medium", "P4")
    given = intake_client.post(
        url(product),
        {**BODY, "affected_users": 60, "urgency": "low", "impact": "high", "fingerprint": ""},
        format="json",
    )
    assert (given.json()["impact"], given.json()["priority"]) == ("high", "P3")


def test_an_intake_token_sends_only_to_its_product(intake_client, product, owner):
    other = MembershipFactory(user=owner, role="owner").product
    assert intake_client.post(url(other), BODY, format="json").status_code == 404
    assert intake_client.get(f"/api/v1/products/{product.key}/items/").status_code == 401
    assert intake_client.get(url(product)).status_code == 405


def test_a_revoked_intake_token_is_refused(product, owner, queue):
    token, raw = intake_token_create(product=product, actor=owner, name="old")
    intake_token_revoke(token=token, actor=owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.post(url(product), BODY, format="json").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw[:-2]}xx")
    assert client.post(url(product), BODY, format="json").status_code == 401


def test_only_owners_make_intake_tokens(as_role, product):
    for role, expected in [
        ("owner", 201),
        ("delegate", 403),
        ("developer", 403),
        ("stakeholder", 403),
        ("outsider", 404),
    ]:
        response = as_role(role).post(f"/api/v1/products/{product.key}/intake-tokens/", {"name": "x"}, format="json")
        assert response.status_code == expected, role
    listed = as_role("owner").get(f"/api/v1/products/{product.key}/intake-tokens/").json()
    assert [token["name"] for token in listed] == ["x"] and "token" not in listed[0]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("owner", 201),
        ("delegate", 201),
        ("developer", 201),
        ("stakeholder", 201),
        ("outsider", 404),
        ("anonymous", 401),
        ("read_only_token", 403),
    ],
)
def test_members_send_tickets_others_do_not(as_role, product, queue, role, status):
    response = as_role(role).post(url(product), BODY, format="json")
    assert response.status_code == status, response.content
    assert Ticket.objects.count() == (1 if status == 201 else 0)


def test_invalid_bodies_are_refused_by_field(intake_client, product):
    for body, field in [
        ({**BODY, "queue": "nope"}, "queue"),
        ({**BODY, "urgency": "asap"}, "urgency"),
        ({**BODY, "affected_users": "12"}, "affected_users"),
        ({**BODY, "affected_users": -1}, "affected_users"),
        ({**BODY, "severity": "major"}, "severity"),
        ({key: value for key, value in BODY.items() if key != "title"}, "title"),
    ]:
        response = intake_client.post(url(product), body, format="json")
        assert response.status_code == 400, body
        assert field in response.json()["error"]["fields"], response.json()
    assert Item.objects.count() == 0


def test_the_unknown_queue_error_names_the_queues(intake_client, product):
    message = intake_client.post(url(product), {**BODY, "queue": "nope"}, format="json").json()["error"]["fields"]
    assert message["queue"] == [f"No queue 'nope' in {product.key}. Its queues: database."]


class TestIdempotencyKey:
    def test_the_same_key_and_body_get_the_first_answer_again(self, intake_client, product):
        first = intake_client.post(url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc")
        again = intake_client.post(url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc")
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
        assert Occurrence.objects.count() == 1

    def test_the_same_key_with_another_body_is_a_conflict(self, intake_client, product):
        intake_client.post(url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc")
        other = intake_client.post(
            url(product), {**BODY, "affected_users": 3}, format="json", HTTP_IDEMPOTENCY_KEY="abc"
        )
        assert other.status_code == 409
        assert other.json()["error"]["code"] == "idempotency_conflict"
        assert Occurrence.objects.count() == 1

    def test_another_key_is_another_intake(self, intake_client, product):
        intake_client.post(url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc")
        second = intake_client.post(url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="def")
        assert second.status_code == 200 and second.json()["occurrence_count"] == 2

    def test_keys_are_kept_for_24_hours(self, intake_client, product):
        intake_client.post(url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc")
        with time_machine.travel(timezone.now() + timedelta(hours=23), tick=False):
            assert intake_client.post(url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc")[
                "Idempotent-Replayed"
            ]
        with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
            later = intake_client.post(url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc")
        assert later.status_code == 200 and "Idempotent-Replayed" not in later
        assert Occurrence.objects.count() == 2

    def test_keys_are_per_sender(self, intake_client, as_role, product):
        intake_client.post(url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc")
        mine = as_role("owner").post(
            url(product), {**BODY, "urgency": "low"}, format="json", HTTP_IDEMPOTENCY_KEY="abc"
        )
        assert mine.status_code == 200  # folded, not a conflict with the token's key

    def test_a_failed_intake_stores_no_answer(self, intake_client, product):
        bad = intake_client.post(url(product), {**BODY, "queue": "nope"}, format="json", HTTP_IDEMPOTENCY_KEY="abc")
        assert bad.status_code == 400
        good = intake_client.post(url(product), BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc")
        assert good.status_code == 201


class TestBudgets:
    @pytest.fixture
    def intake_limit_3(self, monkeypatch, one_throttle_window):
        from service.api.authentication import IntakeThrottle

        monkeypatch.setattr(IntakeThrottle, "THROTTLE_RATES", {"intake": "3/min"})

    def test_each_intake_token_has_its_own_budget(self, intake_limit_3, intake_client, product, owner):
        sent = [intake_client.post(url(product), BODY, format="json").status_code for _ in range(4)]
        assert sent == [201, 200, 200, 429]
        _, raw = intake_token_create(product=product, actor=owner, name="second")
        other = APIClient()
        other.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert other.post(url(product), BODY, format="json").status_code == 200

    def test_a_guessed_intake_token_spends_the_address_budget(self, monkeypatch, product, queue, one_throttle_window):
        from accounts.api.throttling import AddressThrottle

        monkeypatch.setattr(AddressThrottle, "THROTTLE_RATES", {"anon": "2/min"})
        guesser = APIClient(REMOTE_ADDR="203.0.113.8")
        guesser.credentials(HTTP_AUTHORIZATION="Bearer obi_abcd1234_guess")
        assert [guesser.post(url(product), BODY, format="json").status_code for _ in range(3)] == [401, 401, 429]
