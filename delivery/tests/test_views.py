"""The delivery pages through HTTP: planning with the diff and commit, the board, done with waivers,
closing, the settings, the item's forecast."""

import pytest
from django.test import Client

from backlog.models import Item
from backlog.services.items import item_transition
from delivery.models import DodWaiver, Sprint, SprintEvent
from delivery.services.done import item_done
from delivery.services.settings import delivery_settings_update
from delivery.services.sprints import sprint_commit, sprint_start

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def short_of_debt(product, owner, sprint, make_item, allocation):
    """Capacity 10, debt 20 %: S1 S2 S3 (9) at the top, S4, then T1 (2)."""
    allocation(debt_share=20)
    items = {name: make_item("story", 3, title=name) for name in ("S1", "S2", "S3", "S4")}
    items["T1"] = make_item("tech_debt", 2, title="T1")
    return items


def test_the_planning_page_shows_the_diff_and_why(owner, sprint, short_of_debt):
    page = client_for(owner).get(f"/p/{sprint.product.key}/sprints/1/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "debt share 0 % → 20 %, target 20 %" in html
    t1, s3 = short_of_debt["T1"], short_of_debt["S3"]
    assert f"<strong>{t1.key}</strong>" in html.split('id="plan-in"')[1].split('id="plan-out"')[0]
    assert f"<strong>{s3.key}</strong>" in html.split('id="plan-out"')[1].split("</div>")[0]


def test_committing_a_short_plan_from_the_page_needs_a_reason(owner, sprint, short_of_debt):
    client = client_for(owner)
    url = f"/p/{sprint.product.key}/sprints/1/commit/"
    stories = [str(short_of_debt[name].pk) for name in ("S1", "S2", "S3")]
    refused = client.post(url, {"items": stories}, follow=True)
    assert "say why it is kept" in refused.content.decode()
    assert "Misses a target" in refused.content.decode()  # the edited selection is shown again
    assert not Sprint.objects.get().committed_at
    client.post(url, {"items": stories, "reason": "Demo first"})
    sprint.refresh_from_db()
    assert sprint.plan_reason == "Demo first" and sprint.committed_at
    assert SprintEvent.objects.get(type="committed").data["classes"]["debt"]["met"] is False


@pytest.mark.parametrize("role", ["developer", "stakeholder"])
def test_only_planners_commit_from_the_page(request, role, sprint, short_of_debt):
    client = client_for(request.getfixturevalue(role))
    body = {"items": [short_of_debt["S1"].pk], "reason": "x"}
    response = client.post(f"/p/{sprint.product.key}/sprints/1/commit/", body)
    assert response.status_code == 403
    page = client.get(f"/p/{sprint.product.key}/sprints/1/")
    assert page.status_code == 200 and "Commit this plan" not in page.content.decode()


@pytest.fixture
def active(product, owner, sprint, make_item):
    delivery_settings_update(product=product, actor=owner, changes={"definition_of_done": ["Tests pass", "Docs"]})
    items = [make_item("story", 3, title=f"Card {n}") for n in range(3)]
    sprint_commit(sprint=sprint, actor=owner, item_ids=[item.pk for item in items], reason="r")
    sprint_start(sprint=sprint, actor=owner)
    return items


def test_the_board_shows_columns_in_rank_order_and_capacity_by_class(owner, product, active):
    item_transition(item=active[1], actor=owner, to=Item.Status.IN_PROGRESS)
    html = client_for(owner).get(f"/p/{product.key}/board/").content.decode()
    open_column = html.split('id="col-open"')[1].split('id="col-in_progress"')[0]
    assert open_column.index(active[0].key) < open_column.index(active[2].key)
    assert active[1].key in html.split('id="col-in_progress"')[1].split('id="col-done"')[0]
    assert "9 pt committed" in html


def test_starting_from_the_board_takes_the_version_it_showed(developer, product, active):
    client = client_for(developer)
    item = active[0]
    stale = client.post(f"/p/{product.key}/{item.number}/start/", {"version": item.version + 1}, follow=True)
    assert "has changed" in stale.content.decode()
    assert Item.objects.get(pk=item.pk).status == Item.Status.OPEN
    client.post(f"/p/{product.key}/{item.number}/start/", {"version": item.version})
    assert Item.objects.get(pk=item.pk).status == Item.Status.IN_PROGRESS


def test_stakeholders_do_not_move_cards(stakeholder, product, active):
    item = active[0]
    response = client_for(stakeholder).post(f"/p/{product.key}/{item.number}/start/", {"version": item.version})
    assert response.status_code == 403
    assert client_for(stakeholder).get(f"/p/{product.key}/{item.number}/done/").status_code == 403


def test_done_from_the_page_with_one_waiver_creates_the_linked_debt(developer, owner, product, active):
    item = item_transition(item=active[0], actor=owner, to=Item.Status.IN_PROGRESS)
    client = client_for(developer)
    url = f"/p/{product.key}/{item.number}/done/"
    form = client.get(url).content.decode()
    assert "Tests pass" in form and "Docs" in form
    missing = client.post(url, {"version": item.version, "check-0": "1"})
    assert "&#x27;Docs&#x27; is not checked" in missing.content.decode()
    done = client.post(url, {"version": item.version, "check-0": "1", "waive-1": "Writer away"}, follow=True)
    waiver = DodWaiver.objects.get(item=item)
    assert f"Debt taken on knowingly: {waiver.debt_item.key} (proposed)" in done.content.decode()
    assert waiver.entry == "Docs" and waiver.debt_item.value_cost_of_delay == "Waived: Writer away"
    assert Item.objects.get(pk=item.pk).status == Item.Status.DONE
    fragment = client.get(f"/p/{product.key}/{item.number}/delivery/").content.decode()
    assert waiver.debt_item.key in fragment


def test_closing_from_the_page_sends_unfinished_items_to_the_top(owner, product, active, make_item):
    top = make_item()
    client_for(owner).post(f"/p/{product.key}/sprints/1/close/", {"carry_over": "top"})
    order = list(Item.objects.filter(product=product).ordered().values_list("pk", flat=True))
    assert order[:3] == [item.pk for item in active] and order[3] == top.pk
    html = client_for(owner).get(f"/p/{product.key}/sprints/1/").content.decode()
    assert 'id="sprint-policy"' in html and 'id="retro"' in html


def test_the_owner_edits_the_allocation_and_the_definition_of_done(owner, developer, product):
    client = client_for(owner)
    url = f"/p/{product.key}/delivery/"
    body = {"debt_share": "25", "operational_share": "10", "definition_of_done": "Tests pass\r\n\r\nDocs\r\n"}
    client.post(url, {**body, "waiver_debt": "placed", "wip_in_progress": "3"})
    settings = product.delivery
    assert settings.definition_of_done == ["Tests pass", "Docs"]
    assert (settings.debt_share, settings.operational_share, settings.feature_share) == (25, 10, None)
    assert settings.wip_limits == {"in_progress": 3} and settings.waiver_debt == "placed"
    over = client.post(url, {**body, "feature_share": "70"}, follow=True)
    assert "at most 100 %" in over.content.decode()
    assert client_for(developer).post(url, body).status_code == 403
    assert client_for(developer).get(url).status_code == 200


def test_the_item_page_loads_its_forecast(owner, product, make_item):
    item = make_item("story", 3)
    page = client_for(owner).get(f"/p/{product.key}/{item.number}/").content.decode()
    assert f"/p/{product.key}/{item.number}/delivery/" in page
    fragment = client_for(owner).get(f"/p/{product.key}/{item.number}/delivery/").content.decode()
    assert "Likely in sprint 1" in fragment


def test_the_sprints_and_forecast_pages_render(owner, product, make_item, sprint):
    make_item("story", None, title="Mystery")
    assert "Sprint 1" in client_for(owner).get(f"/p/{product.key}/sprints/").content.decode()
    forecast = client_for(owner).get(f"/p/{product.key}/forecast/").content.decode()
    assert 'id="unestimated"' in forecast and "Mystery" in forecast


def test_the_burn_up_shows_done_work_against_the_remaining_scope(owner, product, active):
    item = item_transition(item=active[0], actor=owner, to=Item.Status.IN_PROGRESS)
    item_done(item=item, actor=owner, checked=["Tests pass", "Docs"], waivers={})
    client_for(owner).post(f"/p/{product.key}/sprints/1/close/", {"carry_over": "stay"})
    html = client_for(owner).get(f"/p/{product.key}/forecast/").content.decode()
    table = html.split('id="burnup-table"')[1]
    # Sprint 1: 3 points done; 6 feature points left in the order.
    assert "<td>Sprint 1</td><td>3 pt</td><td>6 pt</td><td>0 pt</td><td>0 pt</td><td>0 pt</td>" in table
    assert 'class="line-done"' in html


def test_the_item_pages_mark_done_opens_the_definition_of_done(owner, product, make_item):
    item = item_transition(item=make_item(), actor=owner, to=Item.Status.IN_PROGRESS)
    page = client_for(owner).get(f"/p/{product.key}/{item.number}/").content.decode()
    assert f'href="/p/{product.key}/{item.number}/done/">Mark done</a>' in page
    # With no Definition of Done written, the page just confirms.
    done = client_for(owner).post(f"/p/{product.key}/{item.number}/done/", {"version": item.version})
    assert done.status_code == 302 and Item.objects.get(pk=item.pk).status == Item.Status.DONE


def test_the_forecast_page_title_is_plain(owner, product):
    html = client_for(owner).get(f"/p/{product.key}/forecast/").content.decode()
    assert f"<title>Forecast · {product.key} · OneBacklog</title>" in html
    assert html.count('id="burnup-title"') == 1
