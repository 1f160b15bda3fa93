"""The delivery API's bodies: the plan's diff, commit with a reason, done with waivers and If-Match."""

from datetime import date

import pytest
from django.test import Client

from backlog.models import Item
from backlog.services.items import item_transition
from delivery.models import DodWaiver
from delivery.services.settings import delivery_settings_update
from delivery.services.sprints import sprint_close, sprint_commit, sprint_create, sprint_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_api(as_role):
    return as_role("owner")


def test_plan_shows_the_diff_and_why_then_commit_needs_a_reason_when_short(owner_api, product, owner, make_item):
    delivery_settings_update(product=product, actor=owner, changes={"debt_share": 20})
    sprint_create(product=product, actor=owner, start_date=date(2026, 1, 5), end_date=date(2026, 1, 16), capacity=10)
    s1, s2, s3, _ = (make_item("story", 3) for _ in range(4))
    t1 = make_item("tech_debt", 2)
    plan = owner_api.get(f"/api/v1/products/{product.key}/sprints/1/plan/").json()
    assert [row["key"] for row in plan["items"]] == [s1.key, s2.key, t1.key]
    assert plan["in"] == [
        {
            "key": t1.key,
            "title": t1.title,
            "kind": "tech_debt",
            "class": "debt",
            "estimate": 2,
            "reason": "highest-ordered debt item below the slice: debt share 0 % → 20 %, target 20 %",
        }
    ]
    assert [row["key"] for row in plan["out"]] == [s3.key]
    assert "debt share 0 % → 20 %, target 20 %" in plan["why"] and plan["missed"] == []

    edited = [s1.key.lower(), s2.key, s3.key]  # the owner keeps the stories: short of debt
    preview = owner_api.post(f"/api/v1/products/{product.key}/sprints/1/plan/", {"items": edited}, format="json")
    assert preview.json()["missed"] == ["debt share 0 % → 0 %, target 20 %"]
    url = f"/api/v1/products/{product.key}/sprints/1/commit/"
    refused = owner_api.post(url, {"items": edited}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()["error"]["fields"]
    committed = owner_api.post(url, {"items": edited, "reason": "Demo on Friday"}, format="json")
    assert committed.status_code == 200
    body = committed.json()
    assert body["plan_reason"] == "Demo on Friday"
    assert [row["key"] for row in body["items"]] == [s1.key, s2.key, s3.key]
    assert body["policy"]["classes"]["debt"]["met"] is False


def test_unknown_items_and_fields_are_named(owner_api, product, owner):
    sprint_create(product=product, actor=owner, start_date=date(2026, 1, 5), end_date=date(2026, 1, 16))
    url = f"/api/v1/products/{product.key}/sprints/1/commit/"
    missing = owner_api.post(url, {"items": [f"{product.key}-99"]}, format="json")
    assert missing.status_code == 400 and missing.json()["error"]["fields"]["items"] == [
        f"No item {product.key}-99 in {product.key}."
    ]
    unknown = owner_api.post(url, {"items": [], "why": "x"}, format="json")
    assert unknown.json()["error"]["fields"] == {"why": ["Unknown field."]}


def test_shares_over_100_and_bad_checklists_are_refused(owner_api, product):
    url = f"/api/v1/products/{product.key}/delivery/"
    over = owner_api.patch(url, {"feature_share": 60, "debt_share": 41}, format="json")
    assert over.status_code == 400 and "100" in over.json()["error"]["message"]
    twice = owner_api.patch(url, {"definition_of_done": ["Tests", "Tests"]}, format="json")
    assert twice.status_code == 400
    typed = owner_api.patch(url, {"debt_share": "20"}, format="json")
    assert typed.status_code == 400
    ok = owner_api.patch(url, {"definition_of_done": ["Tests pass", "Docs"], "operational_share": 10}, format="json")
    assert ok.json()["definition_of_done"] == ["Tests pass", "Docs"] and ok.json()["operational"] == 10


def test_done_with_a_waiver_through_the_api_honours_if_match(as_role, product, owner, make_item):
    delivery_settings_update(product=product, actor=owner, changes={"definition_of_done": ["Tests pass", "Docs"]})
    item = item_transition(item=make_item(), actor=owner, to=Item.Status.IN_PROGRESS)
    developer = as_role("developer")
    url = f"/api/v1/items/{item.key}/done/"
    plain = developer.post(f"/api/v1/items/{item.key}/transition/", {"status": "done"}, format="json")
    assert plain.status_code == 400 and "Definition of Done" in plain.json()["error"]["fields"]["status"][0]
    waiver = {"entry": "Docs", "reason": "Docs sprint next", "interest_hours": 1}
    body = {"checked": ["Tests pass"], "waivers": [waiver]}
    stale = developer.post(url, body, format="json", HTTP_IF_MATCH=f'"{item.pk}-{item.version - 1}"')
    assert stale.status_code == 412
    unwaived = developer.post(url, {"checked": ["Tests pass"]}, format="json")
    assert unwaived.status_code == 400
    done = developer.post(url, body, format="json", HTTP_IF_MATCH=f'"{item.pk}-{item.version}"')
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "done"
    (debt_key,) = done.json()["debt_items"]
    waiver = DodWaiver.objects.get(item=item)
    assert waiver.debt_item.key == debt_key and waiver.debt_item.status == "proposed"
    listed = developer.get(f"/api/v1/products/{product.key}/items/?status=proposed&kind=tech_debt").json()
    assert debt_key in [row["key"] for row in listed["results"]]


def test_the_policy_report_keeps_the_reason_of_a_short_plan(owner_api, product, owner, make_item):
    sprint = sprint_create(product=product, actor=owner, start_date=date(2026, 1, 5), end_date=date(2026, 1, 16))
    item = make_item("story", 3)
    sprint_commit(sprint=sprint, actor=owner, item_ids=[item.pk], reason="Launch week")
    sprint_start(sprint=sprint, actor=owner)
    sprint_close(sprint=sprint, actor=owner)
    report = owner_api.get(f"/api/v1/products/{product.key}/policy-report/").json()
    assert report["summary"] == "honoured in 0 of the last 1 sprint"
    (row,) = report["sprints"]
    assert row["plan_reason"] == "Launch week" and row["honoured"] is False
    assert row["classes"]["debt"] == {
        "label": "debt",
        "target": 20,
        "committed": 0,
        "done": 0,
        "planned_percent": 0.0,
        "done_percent": 0.0,
        "met": False,
    }
    page = Client()
    page.force_login(owner)
    assert "Launch week" in page.get(f"/p/{product.key}/sprints/").content.decode()


# Not a matrix row: starting needs a planned sprint of a product of its own (the matrix's world has an active one).
def test_start_is_for_planners_only(as_role, product, owner, make_item):
    sprint = sprint_create(product=product, actor=owner, start_date=date(2026, 1, 5), end_date=date(2026, 1, 9))
    sprint_commit(sprint=sprint, actor=owner, item_ids=[make_item().pk], reason="r")
    url = f"/api/v1/products/{product.key}/sprints/1/start/"
    for role in ("developer", "stakeholder"):
        assert as_role(role).post(url).status_code == 403
    assert as_role("outsider").post(url).status_code == 404
    response = as_role("delegate").post(url)
    assert response.status_code == 200 and response.json()["state"] == "active"
    again = as_role("owner").post(url)
    assert again.status_code == 400 and again.json()["error"]["fields"]["state"]
