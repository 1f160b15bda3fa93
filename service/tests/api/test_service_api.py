"""Queues, settings, the queue listing and the work on a ticket through the API (who may call
which endpoint: test_permissions_matrix.py)."""

from datetime import UTC, datetime

import pytest
import time_machine

from service.services.tickets import clocks_check, ticket_wait

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(intake):
    return intake(title="Disk full", affected_users=60, urgency="high", fingerprint="disk").ticket


def test_the_ticket_shows_its_calculation_and_clocks(as_role, ticket):
    body = as_role("stakeholder").get(f"/api/v1/items/{ticket.item.key}/ticket/").json()
    assert (body["priority"], body["impact"], body["urgency"]) == ("P2", "medium", "high")
    assert body["priority_why"]["impact"]["why"] == "60 affected users ≥ 50"
    assert {clock["name"]: clock["target_seconds"] for clock in body["clocks"]} == {
        "response": 3600,
        "resolution": 8 * 3600,
    }


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("acknowledge", {}),
        ("wait", {"note": "asked"}),
        ("resolve", {}),
        ("assign", {"assignee": None}),
        ("cause", {"cause": None}),
        ("hours-lost", {"hours_lost": 2}),
    ],
)
def test_ticket_steps_honour_if_match(as_role, ticket, action, body):
    """A stale If-Match is a 412 with the current ETag and changes nothing; the fresh one passes."""
    api = as_role("owner")
    ref = ticket.item.key
    etag = api.get(f"/api/v1/items/{ref}/").headers["ETag"]
    stale = f'"{ticket.item.pk}-0"'
    refused = api.post(f"/api/v1/items/{ref}/ticket/{action}/", body, format="json", HTTP_IF_MATCH=stale)
    assert refused.status_code == 412 and refused.headers["ETag"] == etag
    ticket.refresh_from_db()
    assert (ticket.responded_at, ticket.waiting_since, ticket.resolved_at) == (None, None, None)
    assert ticket.hours_lost in (None, 0)
    done = api.post(f"/api/v1/items/{ref}/ticket/{action}/", body, format="json", HTTP_IF_MATCH=etag)
    assert done.status_code == 200, done.content


def test_a_story_has_no_ticket(as_role, items):
    assert as_role("owner").get(f"/api/v1/items/{items[0].key}/ticket/").status_code == 404


def test_the_queue_is_worked_in_priority_then_due_order(as_role, product, intake):
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=UTC), tick=False):
        p4 = intake(title="p4", affected_users=1, urgency="medium").ticket
        p2_later = intake(title="p2 later", affected_users=2000, urgency="medium").ticket
    with time_machine.travel(datetime(2026, 3, 2, 8, tzinfo=UTC), tick=False):
        p2_earlier = intake(title="p2 earlier", affected_users=2000, urgency="medium").ticket
        p1 = intake(title="p1", affected_users=2000, urgency="high").ticket
    listed = as_role("owner").get(f"/api/v1/products/{product.key}/service-queue/").json()
    assert [row["key"] for row in listed["results"]] == [t.item.key for t in (p1, p2_earlier, p2_later, p4)]
    assert listed["count"] == 4


def test_the_queue_filters(as_role, product, owner, developer, intake, django_capture_on_commit_callbacks):
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=UTC), tick=False):
        breached = intake(title="old", affected_users=2000, urgency="high").ticket
    waiting = intake(title="waiting", affected_users=1, urgency="low").ticket
    ticket_wait(item=waiting.item, actor=owner)
    clocks_check()
    client = as_role("owner")
    url = f"/api/v1/products/{product.key}/service-queue/"

    def keys(query: str) -> list[str]:
        response = client.get(url + query)
        assert response.status_code == 200, response.content
        return [row["key"] for row in response.json()["results"]]

    assert keys("?breached=true") == [breached.item.key]
    assert keys("?waiting=true") == [waiting.item.key]
    assert keys("?priority=P5") == [waiting.item.key]
    assert keys("?queue=database&priority=1") == [breached.item.key]
    assert keys("?assignee=none") == [breached.item.key, waiting.item.key]
    assert client.get(url + "?priority=P9").status_code == 400
    assert client.get(url + "?breached=maybe").status_code == 400
    assert client.get(url + "?colour=red").status_code == 400
    assert client.get(url + "?limit=0").status_code == 400


def test_a_queue_needs_a_working_owner_and_a_free_slug(as_role, product, stakeholder):
    client = as_role("owner")
    url = f"/api/v1/products/{product.key}/queues/"
    refused = client.post(url, {"slug": "access", "name": "Access", "owner": stakeholder.username}, format="json")
    assert refused.status_code == 400 and "owner" in refused.json()["error"]["fields"]
    taken = client.post(url, {"slug": "database", "name": "Again", "owner": "nobody"}, format="json")
    assert taken.status_code == 400


def test_an_unknown_username_is_a_400_on_the_field_that_names_it(as_role, product, ticket):
    client = as_role("owner")
    refused = {
        "owner": client.post(
            f"/api/v1/products/{product.key}/queues/", {"slug": "new", "name": "New", "owner": "nobody"}, format="json"
        ),
        "assignee": client.post(
            f"/api/v1/items/{ticket.item.key}/ticket/assign/", {"assignee": "nobody"}, format="json"
        ),
    }
    for field, response in refused.items():
        assert response.status_code == 400, response.content
        assert response.json()["error"]["fields"] == {field: ["No user nobody."]}
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_settings_are_validated(as_role, product):
    client = as_role("owner")
    url = f"/api/v1/products/{product.key}/service-settings/"
    assert client.patch(url, {"high_impact_users": 10, "medium_impact_users": 20}, format="json").status_code == 400
    assert client.patch(url, {"response_minutes": {"P1": 5}}, format="json").status_code == 400
    assert client.patch(url, {"business_hours": {"mon": [["18:00", "09:00"]]}}, format="json").status_code == 400
    assert client.patch(url, {"colour": "red"}, format="json").status_code == 400
    ok = client.patch(
        url, {"business_hours": {"mon": [["09:00", "17:00"]]}, "time_zone": "Europe/Berlin"}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["time_zone"] == "Europe/Berlin"


def test_an_incident_names_its_cause_and_the_cause_shows_its_incidents(
    as_role, product, owner, ticket, django_capture_on_commit_callbacks
):
    from backlog.services.items import item_create

    debt = item_create(product=product, actor=owner, kind="tech_debt", title="Old driver", interest_hours=1)
    client = as_role("developer")
    with django_capture_on_commit_callbacks(execute=True):
        linked = client.post(
            f"/api/v1/items/{ticket.item.key}/ticket/cause/", {"cause": debt.key.lower()}, format="json"
        )
        client.post(f"/api/v1/items/{ticket.item.key}/ticket/hours-lost/", {"hours_lost": 30}, format="json")
    assert linked.json()["cause"] == debt.key
    shown = client.get(f"/api/v1/items/{debt.key}/incidents/").json()
    assert shown["hours_lost_per_sprint"] == 5.0 and shown["interest_given"] == 1.0 and shown["interest_hours"] == 5.0
    assert [incident["key"] for incident in shown["incidents"]] == [ticket.item.key]
    assert shown["sprints"][0]["hours"] == 30.0
    missing = client.post(f"/api/v1/items/{ticket.item.key}/ticket/cause/", {"cause": "NOPE-1"}, format="json")
    assert missing.status_code == 400 and "cause" in missing.json()["error"]["fields"]
    assert (
        client.post(
            f"/api/v1/items/{ticket.item.key}/ticket/hours-lost/", {"hours_lost": -1}, format="json"
        ).status_code
        == 400
    )
    assert (
        client.post(f"/api/v1/items/{ticket.item.key}/ticket/cause/", {"cause": None}, format="json").json()["cause"]
        is None
    )


@pytest.mark.parametrize("role", ["owner", "delegate"])
def test_a_split_occurrence_leaves_and_a_merge_brings_the_others_occurrences(as_role, intake, role):
    first = intake(fingerprint="a", reporter="x").ticket
    intake(fingerprint="a", reporter="y")
    other = intake(fingerprint="b").ticket
    client = as_role(role)
    occurrence = first.occurrences.get(reporter="y")
    split = client.post(f"/api/v1/items/{first.item.key}/ticket/occurrences/{occurrence.pk}/split/", {}, format="json")
    assert split.status_code == 201, split.content
    merged = client.post(f"/api/v1/items/{other.item.key}/ticket/merge/", {"into": first.item.key}, format="json")
    assert merged.status_code == 200, merged.content
    assert merged.json()["key"] == first.item.key and merged.json()["occurrence_count"] == 2
    assert [
        row["reporter"] for row in client.get(f"/api/v1/items/{first.item.key}/ticket/occurrences/").json()["results"]
    ] == ["", "x"]


def test_every_step_is_in_the_items_history(as_role, product, owner, developer, intake):
    from service.services.incidents import ticket_link_cause
    from service.services.tickets import clocks_check, ticket_acknowledge, ticket_resolve, ticket_resume

    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=UTC), tick=False):
        ticket = intake(title="Disk full", affected_users=40, urgency="medium", fingerprint="disk").ticket
    intake(fingerprint="disk", affected_users=20)  # 60 users: P4 → P3
    clocks_check()
    ticket_acknowledge(item=ticket.item, actor=developer)
    ticket_wait(item=ticket.item, actor=developer, reason="Which volume?")
    ticket_resume(item=ticket.item, actor=owner, reply="/var")
    ticket_link_cause(item=ticket.item, actor=developer, cause=None)  # no change, no entry
    ticket_resolve(item=ticket.item, actor=developer, resolution="Rotated the logs")
    response = as_role("stakeholder").get(f"/api/v1/items/{ticket.item.key}/history/")
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    changed = [sorted(row["data"]["changes"]) for row in rows if row["type"] == "updated"]
    assert changed == [
        ["impact", "itil_priority", "sla_due_at"],
        ["response_breached_at"],
        ["resolution_breached_at"],
        ["responded_at"],
        ["waiting_since"],
        ["waiting_since"],
        ["resolved_at"],
    ]
    assert [row["type"] for row in rows].count("status_changed") == 2  # started, done
