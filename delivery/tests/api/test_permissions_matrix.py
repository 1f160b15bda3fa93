"""Every delivery endpoint × role: allowed or denied, through the real API with real tokens."""

from datetime import date

import pytest

from backlog.models import Item
from backlog.services.items import item_transition
from config.tests.matrix import MEMBERS, ORDERERS, ROLES, WORKERS, check
from delivery.services.settings import delivery_settings_update
from delivery.services.sprints import retro_action_add, sprint_close, sprint_commit, sprint_create, sprint_start

pytestmark = pytest.mark.django_db

DOD = ["Tests pass"]


@pytest.fixture
def world(product, owner, make_item):
    """Sprint 1 closed (one retrospective action), sprint 2 active, sprint 3 planned and committed;
    a Definition of Done; an in-progress item."""
    delivery_settings_update(product=product, actor=owner, changes={"definition_of_done": DOD})
    sprints = [
        sprint_create(product=product, actor=owner, start_date=date(2026, 1, d), end_date=date(2026, 1, d + 4))
        for d in (5, 12, 19)
    ]
    items = [make_item("story", 3) for _ in range(4)]
    sprint_commit(sprint=sprints[0], actor=owner, item_ids=[items[0].pk], reason="r")
    sprint_start(sprint=sprints[0], actor=owner)
    sprint_close(sprint=sprints[0], actor=owner)
    action = retro_action_add(sprint=sprints[0], actor=owner, text="Pair more")
    sprint_commit(sprint=sprints[1], actor=owner, item_ids=[items[1].pk], reason="r")
    sprint_start(sprint=sprints[1], actor=owner)
    sprint_commit(sprint=sprints[2], actor=owner, item_ids=[items[2].pk], reason="r")
    started = item_transition(item=items[3], actor=owner, to=Item.Status.IN_PROGRESS)
    return {"key": product.key, "action": action.pk, "item": started.key, "free": items[3].key}


CASES = {
    "settings": ("get", "/api/v1/products/{key}/delivery/", None, MEMBERS, 200, True),
    "settings change": ("patch", "/api/v1/products/{key}/delivery/", {"debt_share": 25}, {"owner"}, 200, False),
    "sprint list": ("get", "/api/v1/products/{key}/sprints/", None, MEMBERS, 200, True),
    "sprint create": (
        "post",
        "/api/v1/products/{key}/sprints/",
        {"start_date": "2026-02-02", "end_date": "2026-02-13"},
        ORDERERS,
        201,
        False,
    ),
    "sprint detail": ("get", "/api/v1/products/{key}/sprints/3/", None, MEMBERS, 200, True),
    "plan": ("get", "/api/v1/products/{key}/sprints/3/plan/", None, MEMBERS, 200, True),
    "plan preview": ("post", "/api/v1/products/{key}/sprints/3/plan/", {"items": ["{free}"]}, MEMBERS, 200, False),
    "commit": (
        "post",
        "/api/v1/products/{key}/sprints/3/commit/",
        {"items": ["{free}"], "reason": "Catch-up sprint"},
        ORDERERS,
        200,
        False,
    ),
    "close": ("post", "/api/v1/products/{key}/sprints/2/close/", {"carry_over": "top"}, ORDERERS, 200, False),
    "retro actions": ("get", "/api/v1/products/{key}/sprints/1/actions/", None, MEMBERS, 200, True),
    "retro add": ("post", "/api/v1/products/{key}/sprints/1/actions/", {"text": "Fix CI"}, WORKERS, 201, False),
    "retro to debt": ("post", "/api/v1/products/{key}/sprints/1/actions/{action}/debt/", {}, MEMBERS, 201, False),
    "done": ("post", "/api/v1/items/{item}/done/", {"checked": DOD}, WORKERS, 200, False),
    "policy report": ("get", "/api/v1/products/{key}/policy-report/", None, MEMBERS, 200, True),
    "velocity": ("get", "/api/v1/products/{key}/velocity/", None, MEMBERS, 200, True),
    "forecast": ("get", "/api/v1/products/{key}/forecast/", None, MEMBERS, 200, True),
    "item forecast": ("get", "/api/v1/items/{item}/forecast/", None, MEMBERS, 200, True),
    "roadmap": ("get", "/api/v1/products/{key}/roadmap/", None, MEMBERS, 200, True),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES)
def test_every_endpoint_for_every_role(as_role, world, role, case):
    check(CASES[case], role, as_role(role), world)


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
