"""delivery.access, and every delivery page and API URL: outsiders get the 404 of a missing thing."""

import pytest
from django.http import Http404
from django.test import Client

from accounts.tests.routes import assert_any_case, assert_hidden, routes_of
from delivery.access import access_sprint
from delivery.models import RetroAction, Sprint
from delivery.services.sprints import sprint_close, sprint_commit, sprint_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(sprint, owner, make_item):
    """Sprint 1 (closed, with an action) and item 1 (closed sprints leave their items in the order)."""
    item = make_item()
    sprint_commit(sprint=sprint, actor=owner, item_ids=[item.pk], reason="r")
    sprint_start(sprint=sprint, actor=owner)
    sprint_close(sprint=sprint, actor=owner)
    action = RetroAction.objects.create(sprint=sprint, text="Pair more")
    return {"key": sprint.product.key, "number": 1, "ref": item.key, "action_id": action.pk}


@pytest.mark.parametrize("role", ["owner", "developer", "stakeholder"])
def test_members_reach_a_sprint(sprint, role, request):
    assert access_sprint(request.getfixturevalue(role), sprint.product.key.lower(), 1)[0] == sprint


@pytest.mark.parametrize("role", ["outsider", "anonymous"])
def test_outsiders_cannot_tell_a_foreign_sprint_from_a_missing_one(sprint, role, request):
    user = request.getfixturevalue(role)
    with pytest.raises(Http404) as foreign:
        access_sprint(user, sprint.product.key, 1)
    with pytest.raises(Http404) as missing:
        access_sprint(user, sprint.product.key, 2)
    assert str(foreign.value) == str(missing.value)


def test_outsiders_get_404_on_every_delivery_page_and_api_url(closed, outsider, as_role):
    urls = routes_of("delivery", **closed)
    page = Client()
    page.force_login(outsider)
    assert_hidden(page, as_role("outsider"), urls)
    assert Sprint.objects.get().state == Sprint.State.CLOSED
    assert RetroAction.objects.get().debt_item is None


def test_every_delivery_url_takes_keys_in_any_case(closed, owner, as_role):
    page = Client()
    page.force_login(owner)
    assert_any_case(page, as_role("owner"), routes_of("delivery", **closed), closed["key"])
