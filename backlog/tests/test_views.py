"""The backlog pages (backlog.views) through Django's test client: the ordered list and its
filters, adding and editing items, the suggestion, the item page and its panels."""

import re

import pytest
from django.test import Client

from backlog.models import Item, ItemEvent
from backlog.services.items import item_create
from backlog.services.suggestion import suggested_positions_refresh

pytestmark = pytest.mark.django_db

CASE = {"value_beneficiaries": "Support", "value_risk_removed": "Outage"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def titles(product) -> list[str]:
    return list(Item.objects.filter(product=product).ordered().values_list("title", flat=True))


@pytest.mark.parametrize(
    ("role", "edit"), [("owner", 200), ("delegate", 200), ("developer", 200), ("stakeholder", 403)]
)
def test_the_edit_page_follows_the_roles(product, items, role, edit, request):
    client = client_for(request.getfixturevalue(role))
    assert client.get(f"/p/{product.key}/{items[0].number}/edit/").status_code == edit


@pytest.mark.parametrize(("role", "controls"), [("owner", True), ("delegate", True), ("developer", False)])
def test_only_those_who_reorder_get_reorder_controls(product, items, role, controls, request):
    html = client_for(request.getfixturevalue(role)).get(f"/p/{product.key}/").content.decode()
    assert ('class="handle"' in html) is controls
    assert ("row-menu" in html) is controls


def test_the_backlog_page_pages_through_the_order(product, owner, settings, monkeypatch):
    monkeypatch.setattr("backlog.views.PAGE_SIZE", 2)
    for title in "ABCDE":
        item_create(product=product, actor=owner, kind="story", title=title)
    client = client_for(owner)
    first = client.get(f"/p/{product.key}/")
    assert [row.title for row in first.context["rows"]] == ["A", "B"]
    params = first.context["next_params"]
    assert params["from"] == "3"
    more = client.get(f"/p/{product.key}/", params, headers={"HX-Request": "true", "HX-Target": "more"})
    assert "<html" not in more.content.decode()
    assert [(row.title, row.position) for row in more.context["rows"]] == [("C", 3), ("D", 4)]


def test_filters_are_whitelisted_and_partial_for_htmx(product, owner):
    item_create(product=product, actor=owner, kind="story", title="Checkout story")
    item_create(product=product, actor=owner, kind="defect", title="Checkout crash", severity="major")
    client = client_for(owner)
    response = client.get(
        f"/p/{product.key}/?kind=defect&q=checkout", headers={"HX-Request": "true", "HX-Target": "backlog"}
    )
    assert [row.title for row in response.context["rows"]] == ["Checkout crash"]
    assert "<html" not in response.content.decode()
    assert all(row.position is None for row in response.context["rows"])  # positions only unfiltered
    odd = client.get(f"/p/{product.key}/?kind=epic&status=nonsense&ready=maybe&from=-4&after=")
    assert odd.status_code == 200 and len(odd.context["rows"]) == 2


def test_proposing_on_the_page_asks_for_the_value_case(product, developer):
    client = client_for(developer)
    form = {"kind": "tech_debt", "title": "Replace the ORM layer", "interest_hours": "4"}
    refused = client.post(f"/p/{product.key}/new/", form)
    assert refused.status_code == 400
    assert "Say who benefits" in refused.content.decode()
    assert not Item.objects.exists()
    accepted = client.post(f"/p/{product.key}/new/", {**form, **CASE})
    item = Item.objects.get()
    assert accepted.status_code == 302 and item.status == "proposed" and item.created_by == developer


def test_owners_add_directly_with_labels(product, owner):
    client_for(owner).post(f"/p/{product.key}/new/", {"kind": "story", "title": "Direct", "labels": "ux, payments"})
    item = Item.objects.get()
    assert item.status == "open" and sorted(item.labels.values_list("name", flat=True)) == ["payments", "ux"]


def test_an_edit_from_a_stale_page_is_refused(product, owner, items):
    client = client_for(owner)
    item = items[0]
    client.post(
        f"/p/{product.key}/{item.number}/edit/", {"kind": "story", "title": "First edit", "version": item.version}
    )
    stale = client.post(
        f"/p/{product.key}/{item.number}/edit/", {"kind": "story", "title": "Second", "version": item.version}
    )
    assert stale.status_code == 400
    assert Item.objects.get(pk=item.pk).title == "First edit"


def test_a_refused_stale_edit_stays_refused_when_saved_again(product, owner, developer, items):
    item = items[0]
    url = f"/p/{product.key}/{item.number}/edit/"
    client_for(developer).post(url, {"kind": "story", "title": "A", "description": "careful", "version": item.version})
    owner_client = client_for(owner)
    stale = owner_client.post(url, {"kind": "story", "title": "A", "description": "", "version": item.version})
    assert stale.status_code == 400
    again = owner_client.post(
        url, {"kind": "story", "title": "A", "description": "", "version": stale.context["version"]}
    )
    assert again.status_code == 400
    assert Item.objects.get(pk=item.pk).description == "careful"


def test_an_edit_from_a_browser_stores_lf_and_records_only_what_changed(product, owner):
    item = item_create(
        product=product,
        actor=owner,
        kind="story",
        title="Export",
        description="Line one\nLine two\n",
        acceptance_criteria="Given a file\nThen it downloads",
    )
    url = f"/p/{product.key}/{item.number}/edit/"
    form = {"kind": "story", "title": "Export", "version": item.version}
    # What a browser sends back for untouched textareas: CR LF line ends, no trailing newline.
    untouched = {"description": "Line one\r\nLine two", "acceptance_criteria": "Given a file\r\nThen it downloads"}
    assert client_for(owner).post(url, {**form, **untouched}).status_code == 302
    assert not ItemEvent.objects.filter(item=item, type=ItemEvent.Type.UPDATED).exists()
    client_for(owner).post(url, {**form, **untouched, "title": "Export as CSV"})
    edit = ItemEvent.objects.get(item=item, type=ItemEvent.Type.UPDATED)
    assert list(edit.data["changes"]) == ["title"]
    client_for(owner).post(url, {**form, "version": item.version + 1, "description": "One\r\nTwo\rThree"})
    assert Item.objects.get(pk=item.pk).description == "One\nTwo\nThree"


def test_drift_is_written_one_way_everywhere(product, owner, items):
    Item.objects.filter(pk=items[2].pk).update(score=9.0)  # C's score would put it first
    suggested_positions_refresh(product_id=product.pk)  # the job: C 1, A 2, B 3
    client = client_for(owner)
    for url in (f"/p/{product.key}/", f"/p/{product.key}/suggested/"):
        page = client.get(url).content.decode()
        assert re.search(r">▲2<span class=\"sr\"> places up by score<", page), url
        assert re.search(r">▼1<span class=\"sr\"> place down by score<", page), url
        assert not re.search(r"[▲▼] ?[+-]", page), url


def test_applying_the_suggestion_to_selected_items(product, owner, stakeholder, items):
    Item.objects.filter(pk=items[2].pk).update(score=9.0)
    suggested_positions_refresh(product_id=product.pk)
    assert client_for(stakeholder).post(f"/p/{product.key}/suggested/", {"items": [items[2].pk]}).status_code == 403
    client_for(owner).post(f"/p/{product.key}/suggested/", {"items": [items[2].pk]})
    assert titles(product) == ["C", "A", "B"]


def test_odd_numbers_are_refused_not_crashed_on(product, owner, items):
    client = client_for(owner)
    nines = "9" * 5000
    for url in [
        f"/p/{product.key}/?from=%C2%B2",
        f"/p/{product.key}/?status=done&after=%C2%B2",
        f"/p/{product.key}/?from={nines}",
    ]:
        assert client.get(url).status_code == 200, url
    assert client.post(f"/p/{product.key}/suggested/", {"items": ["²", nines]}).status_code == 302


def test_the_item_page_includes_the_panels_of_the_apps_above(product, owner, developer, items):
    """Refinement's questions, comments and Split button and delivery's panel, in their places."""
    proposal = item_create(product=product, actor=developer, kind="story", title="Idea", **CASE)
    page = client_for(owner).get(f"/p/{product.key}/{items[0].number}/").content.decode()
    actions, main, side = page.index('class="actions above"'), page.index("comments-title"), page.index("facts-title")
    split = page.index(f'href="/p/{product.key}/{items[0].number}/split/"')
    assert actions < split < main and page.index("description-title") < main < side
    assert side < page.index(f'hx-get="/p/{product.key}/{items[0].number}/delivery/"') < page.index("score-title")
    assert "questions-title" not in page  # only on proposals, or once asked
    proposal_page = client_for(owner).get(f"/p/{product.key}/{proposal.number}/").content.decode()
    assert "questions-title" in proposal_page and "/split/" not in proposal_page


def test_saving_the_current_filters_as_a_view_and_applying_it(product, owner, developer):
    item_create(product=product, actor=owner, kind="defect", title="Crash", severity="major")
    item_create(product=product, actor=owner, kind="story", title="Plain story")
    client = client_for(developer)
    response = client.post(
        f"/p/{product.key}/views/",
        {"name": "Defects", "filters": "kind=defect", "hide": ["score", "age"], "shared": "on"},
    )
    from backlog.models import SavedView

    view = SavedView.objects.get()
    assert (view.filters, view.columns, view.shared) == ({"kind": "defect"}, ["estimate", "ready"], True)
    assert response.status_code == 302 and response["Location"] == view.get_absolute_url()
    html = client.get(response["Location"]).content.decode()
    assert "Crash" in html and "Plain story" not in html
    assert 'class="columns hide-score hide-age"' in html
    assert 'aria-current="true"' in html  # the view applied is marked in the menu
    # Every member sees the shared view in the menu; only its author and the owners may change it.
    assert "Defects" in client_for(owner).get(f"/p/{product.key}/").content.decode()


def test_a_refused_view_says_why_and_keeps_the_filters(product, developer):
    client = client_for(developer)
    response = client.post(f"/p/{product.key}/views/", {"name": " ", "filters": "kind=defect"}, follow=True)
    assert "Give the view a name" in response.content.decode()
    assert response.redirect_chain[-1][0] == f"/p/{product.key}/?kind=defect"


def test_renaming_and_deleting_views_from_the_menu(product, owner, developer, stakeholder):
    from backlog.models import SavedView
    from backlog.services.saved_views import saved_view_create

    private = saved_view_create(product=product, actor=developer, name="Mine", filters={})
    shared = saved_view_create(product=product, actor=developer, name="Ours", filters={}, shared=True)
    assert client_for(owner).post(f"/p/{product.key}/views/{private.pk}/", {"name": "X"}).status_code == 404
    assert client_for(stakeholder).post(f"/p/{product.key}/views/{shared.pk}/", {"name": "X"}).status_code == 403
    client_for(owner).post(f"/p/{product.key}/views/{shared.pk}/", {"name": "Team view"})
    client_for(developer).post(f"/p/{product.key}/views/{private.pk}/", {"action": "delete"})
    assert list(SavedView.objects.values_list("name", flat=True)) == ["Team view"]
    html = client_for(stakeholder).get(f"/p/{product.key}/").content.decode()
    assert "Team view" in html and "Rename or delete Team view" not in html
