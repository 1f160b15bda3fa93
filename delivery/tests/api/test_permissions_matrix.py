"""Every delivery endpoint × role: allowed or denied, through the real API with real tokens."""

from datetime import date

import pytest

from backlog.models import Item
from backlog.services.items import item_create, item_transition

# The world is built once per module (config/tests/matrix.py):
from config.tests.matrix import (  # noqa: F401
    MEMBERS,
    ORDERERS,
    ROLES,
    WORKERS,
    check,
    delegate,
    developer,
    outsider,
    owner,
    product,
    stakeholder,
    user,
)
from delivery.services.settings import delivery_settings_update
from delivery.services.sprints import retro_action_add, sprint_close, sprint_commit, sprint_create, sprint_start

pytestmark = pytest.mark.django_db

DOD = ["Tests pass"]


@pytest.fixture(scope="module")
def world(product, owner):
    """Sprint 1 closed (one retrospective action), sprint 2 active, sprint 3 planned and committed;
    a Definition of Done; an in-progress item."""
    delivery_settings_update(product=product, actor=owner, changes={"definition_of_done": DOD})
    sprints = [
        sprint_create(product=product, actor=owner, start_date=date(2026, 1, d), end_date=date(2026, 1, d + 4))
        for d in (5, 12, 19)
    ]
    items = [item_create(product=product, actor=owner, kind="story", title="story 3", estimate=3) for _ in range(4)]
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
