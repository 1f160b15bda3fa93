"""refinement.api.views: the whole proposal flow through the API (on PostgreSQL in CI): propose, ask,
answer, accept, reject; and the lists in constant queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backlog.services.items import item_create
from refinement.services.proposals import proposal_answer, proposal_ask, proposal_reject

pytestmark = pytest.mark.django_db  # and on PostgreSQL in CI

VALUE_CASE = {
    "value_beneficiaries": "Every developer: builds take 4 minutes less",
    "value_risk_removed": "The build server's unsupported OS",
}


def keys(response) -> list[str]:
    return [item["key"] for item in response.json()["results"]]


def test_a_debt_proposal_from_proposal_to_its_place_in_the_order(as_role, product, items, owner, developer):
    developer_name, owner_name = developer.username, owner.username
    developer, owner, stakeholder = as_role("developer"), as_role("owner"), as_role("stakeholder")
    url = f"/api/v1/products/{product.key}/items/"
    debt = {"kind": "tech_debt", "title": "Upgrade the build server", "interest_hours": 6}

    # Without a value case: refused, naming what is missing; nothing is created.
    refused = developer.post(url, debt, format="json")
    assert refused.status_code == 400
    assert set(refused.json()["error"]["fields"]) == {"value_beneficiaries", "value_risk_removed"}
    assert developer.get(f"/api/v1/products/{product.key}/my-proposals/").json()["results"] == []

    # With one: a proposal, in the review queue.
    created = developer.post(url, {**debt, **VALUE_CASE}, format="json")
    assert created.status_code == 201, created.content
    proposal = created.json()["key"]
    assert created.json()["status"] == "proposed" and created.json()["rank"] is None
    queue = owner.get(f"/api/v1/products/{product.key}/review-queue/")
    assert keys(queue) == [proposal]
    assert queue.json()["results"][0]["suggested_position"] == 4  # unscored in the test: the bottom of A, B, C

    # A stakeholder can neither see the queue nor decide.
    assert stakeholder.get(f"/api/v1/products/{product.key}/review-queue/").status_code == 403
    assert stakeholder.post(f"/api/v1/items/{proposal}/accept/", {"to": "top"}, format="json").status_code == 403
    assert developer.post(f"/api/v1/items/{proposal}/accept/", {"to": "top"}, format="json").status_code == 403

    # The owner asks; the proposal waits for the answer, out of the queue.
    asked = owner.post(f"/api/v1/items/{proposal}/questions/", {"question": "How often does it fail?"}, format="json")
    assert asked.status_code == 201
    assert keys(owner.get(f"/api/v1/products/{product.key}/review-queue/")) == []
    mine = developer.get(f"/api/v1/products/{product.key}/my-proposals/").json()["results"]
    assert mine[0]["state"] == "needs_info"
    assert mine[0]["questions"][0]["question"] == "How often does it fail?"
    assert stakeholder.post(f"/api/v1/items/{proposal}/answer/", {"answer": "?"}, format="json").status_code == 403

    # The proposer answers: back in the queue.
    answered = developer.post(f"/api/v1/items/{proposal}/answer/", {"answer": "Twice a week"}, format="json")
    assert answered.status_code == 200 and answered.json()["answered_by"] is not None
    assert keys(owner.get(f"/api/v1/products/{product.key}/review-queue/")) == [proposal]

    # Accepted before B: exactly there.
    accepted = owner.post(f"/api/v1/items/{proposal}/accept/", {"to": "before", "anchor": items[1].key}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "open"
    assert keys(owner.get(url)) == [items[0].key, proposal, items[1].key, items[2].key]
    assert developer.get(f"/api/v1/products/{product.key}/my-proposals/").json()["results"][0]["state"] == "accepted"

    # Another proposal is rejected with a reason the proposer reads.
    other = developer.post(url, {"kind": "story", "title": "Dark mode"}, format="json").json()["key"]
    assert owner.post(f"/api/v1/items/{other}/reject/", {"reason": ""}, format="json").status_code == 400
    rejected = owner.post(f"/api/v1/items/{other}/reject/", {"reason": "Not this quarter"}, format="json")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    mine = {p["key"]: p for p in developer.get(f"/api/v1/products/{product.key}/my-proposals/").json()["results"]}
    assert mine[other]["state"] == "rejected" and mine[other]["rejection_reason"] == "Not this quarter"

    # The history shows every step, with who and why.
    history = developer.get(f"/api/v1/items/{proposal}/history/").json()["results"]
    steps = [(event["type"], event["actor"], event["reason"]) for event in history]
    assert [step[0] for step in steps] == ["created", "question_asked", "question_answered", "status_changed"]
    assert steps[1][2] == "How often does it fail?" and steps[2][2] == "Twice a week"
    assert history[0]["data"]["status"] == "proposed"
    assert history[3]["data"]["from"] == "proposed" and history[3]["data"]["to"] == "open"
    assert history[3]["data"]["placed"]["before_id"] == items[1].pk
    assert [step[1] for step in steps] == [developer_name, owner_name, developer_name, owner_name]


def test_my_proposals_constant_queries(product, owner, developer, as_role, items):
    client = as_role("developer")

    def make(n):
        for i in range(n):
            p = item_create(product=product, actor=developer, kind="story", title=f"p{i}")
            proposal_ask(item=p, actor=owner, question="why?")
            proposal_answer(item=p, actor=developer, answer="because")
            proposal_reject(item=p, actor=owner, reason="dup", duplicate_of=items[0])

    client.get(f"/api/v1/products/{product.key}/my-proposals/")  # the token's first use is recorded once
    make(2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/api/v1/products/{product.key}/my-proposals/").status_code == 200
    make(10)
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/api/v1/products/{product.key}/my-proposals/").status_code == 200
    assert len(many) == len(few), (len(few), len(many))
