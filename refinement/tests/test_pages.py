"""The HTML pages through Django's test client: who sees what, forms, and what they change."""

import re

import pytest
from django.test import Client

from accounts.models import ApiToken
from backlog.models import Item, ItemEvent
from backlog.services.items import item_create
from refinement.models import Comment, Question
from refinement.services.proposals import proposal_ask

pytestmark = pytest.mark.django_db

CASE = {"value_beneficiaries": "Support", "value_risk_removed": "Outage"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def titles(product) -> list[str]:
    return list(Item.objects.filter(product=product).ordered().values_list("title", flat=True))


@pytest.fixture
def proposal(product, developer):
    return item_create(product=product, actor=developer, kind="tech_debt", title="Upgrade", interest_hours=3, **CASE)


def pages(product, item) -> list[str]:
    return [
        f"/p/{product.key}/",
        f"/p/{product.key}/new/",
        f"/p/{product.key}/{item.number}/",
        f"/p/{product.key}/proposals/",
        f"/p/{product.key}/refinement/",
        f"/p/{product.key}/debt/",
        f"/p/{product.key}/suggested/",
    ]


def test_anonymous_visitors_are_sent_to_sign_in(product, items):
    for url in [*pages(product, items[0]), "/", "/me/"]:
        response = Client().get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url


def test_outsiders_get_404_and_see_nothing(product, items, outsider):
    client = client_for(outsider)
    for url in [*pages(product, items[0]), f"/p/{product.key}/review/", f"/p/{product.key}/{items[0].number}/split/"]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert product.name not in response.content.decode()


@pytest.mark.parametrize("role", ["owner", "developer", "delegate", "stakeholder"])
def test_members_see_every_page(product, items, role, request):
    client = client_for(request.getfixturevalue(role))
    for url in pages(product, items[0]):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    ("role", "review", "split", "edit"),
    [
        ("owner", 200, 200, 200),
        ("delegate", 200, 200, 200),
        ("developer", 403, 403, 200),
        ("stakeholder", 403, 403, 403),
    ],
)
def test_review_split_and_edit_pages_follow_the_roles(product, items, role, review, split, edit, request):
    client = client_for(request.getfixturevalue(role))
    assert client.get(f"/p/{product.key}/review/").status_code == review
    assert client.get(f"/p/{product.key}/{items[0].number}/split/").status_code == split
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


def test_review_decisions_on_the_page(product, owner, developer, items, proposal):
    client = client_for(owner)
    url = f"/p/{product.key}/{proposal.number}/review/"
    client.post(url, {"decision": "accept", "place": "after", "anchor": items[0].key})
    assert titles(product) == ["A", "Upgrade", "B", "C"]
    other = item_create(product=product, actor=developer, kind="story", title="Idea")
    client.post(f"/p/{product.key}/{other.number}/review/", {"decision": "ask", "question": "For whom?"})
    assert Question.objects.get(item=other).text == "For whom?"
    client_for(developer).post(f"/p/{product.key}/{other.number}/answer/", {"answer": "Support"})
    assert Question.objects.get(item=other).answer == "Support"
    client.post(f"/p/{product.key}/{other.number}/review/", {"decision": "reject", "reason": "Later"})
    assert Item.objects.get(pk=other.pk).status == "rejected"
    mine = client_for(developer).get(f"/p/{product.key}/proposals/").content.decode()
    assert "Later" in mine


def test_a_bad_place_is_explained_and_nothing_changes(product, owner, items, proposal):
    url = f"/p/{product.key}/{proposal.number}/review/"
    response = client_for(owner).post(url, {"decision": "accept", "place": "before", "anchor": "XX-1"})
    assert f"{proposal.key} was not accepted: No item XX-1 in {product.key}." in response.content.decode()
    response = client_for(owner).post(url, {"decision": "accept", "place": "after", "anchor": ""})
    assert f"Say which item to move after, for example {product.key}-12." in response.content.decode()
    assert Item.objects.get(pk=proposal.pk).status == "proposed"


def test_a_refused_decision_names_the_proposal_and_keeps_the_choices(product, owner, developer, items, proposal):
    other = item_create(product=product, actor=developer, kind="story", title="Other idea")
    url = f"/p/{product.key}/{proposal.number}/review/"
    missing = f"{product.key}-99999"
    response = client_for(owner).post(url, {"decision": "accept", "place": "before", "anchor": missing})
    assert response.status_code == 400  # the queue again, not a redirect that forgets the choices
    page = response.content.decode()
    card = page[page.index(f'id="proposal-{proposal.number}"') : page.index(f'id="proposal-{other.number}"')]
    assert f"{proposal.key} was not accepted: No item {missing} in {product.key}." in card
    assert '<option value="before" selected>' in card and f'value="{missing}"' in card
    assert "not accepted" not in page[page.index(f'id="proposal-{other.number}"') :]
    response = client_for(owner).post(url, {"decision": "reject", "reason": "", "duplicate_of": "C"})
    page = response.content.decode()
    assert f"{proposal.key} was not rejected: No item C in {product.key}." in page
    assert "<details open>" in page and 'value="C"' in page
    assert Item.objects.get(pk=proposal.pk).status == "proposed"


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


def test_the_agenda_says_what_is_missing(product, owner, items):
    page = client_for(owner).get(f"/p/{product.key}/refinement/").content.decode()
    assert "No estimate" in page and "No acceptance criteria" in page
    assert "An estimate is set" not in page


def test_counts_are_in_the_singular_for_one(product, owner, developer, proposal):
    proposal_ask(item=proposal, actor=owner, question="Why?")
    item_create(product=product, actor=developer, kind="story", title="Idea")
    page = client_for(owner).get(f"/p/{product.key}/review/").content.decode()
    assert "1 more waits for its proposer's answer." in page
    item_create(product=product, actor=owner, kind="tech_debt", title="Debt", interest_hours=1, estimate=1)
    page = client_for(owner).get(f"/p/{product.key}/debt/").content.decode()
    assert "It holds 1 item, 1 point, of which 1 point of debt (1 item)." in page


def test_drift_is_written_one_way_everywhere(product, owner, items):
    Item.objects.filter(pk=items[2].pk).update(score=9.0)  # C's score would put it first
    Item.objects.filter(pk=items[0].pk).update(suggested_position=2)
    Item.objects.filter(pk=items[2].pk).update(suggested_position=1)
    client = client_for(owner)
    for url in (f"/p/{product.key}/", f"/p/{product.key}/suggested/"):
        page = client.get(url).content.decode()
        assert re.search(r">▲2<span class=\"sr\"> places up by score<", page), url
        assert re.search(r">▼1<span class=\"sr\"> place down by score<", page), url
        assert not re.search(r"[▲▼] ?[+-]", page), url


def test_the_debt_page_states_how_the_sprint_is_cut(product, owner):
    product.sprint_capacity = 10
    product.save(update_fields=["sprint_capacity"])
    for points in (6, 6, 3):
        item_create(product=product, actor=owner, kind="story", title=f"{points} points", estimate=points)
    page = client_for(owner).get(f"/p/{product.key}/debt/").content.decode()
    assert "the item that reaches the capacity is taken whole, so the sprint may run over it" in page
    assert "It holds 2 items, 12 points (2 over the capacity)" in page


@pytest.mark.parametrize("role", ["developer", "stakeholder"])
def test_members_who_do_not_review_cannot_decide(product, proposal, role, request):
    response = client_for(request.getfixturevalue(role)).post(
        f"/p/{product.key}/{proposal.number}/review/", {"decision": "accept", "place": "top"}
    )
    assert response.status_code == 403
    assert Item.objects.get(pk=proposal.pk).status == "proposed"


def test_only_the_proposer_answers(product, owner, stakeholder, proposal):
    proposal_ask(item=proposal, actor=owner, question="Why?")
    response = client_for(stakeholder).post(f"/p/{product.key}/{proposal.number}/answer/", {"answer": "x"})
    assert response.status_code == 403


def test_comments_and_split_on_the_page(product, owner, stakeholder, items):
    client_for(stakeholder).post(f"/p/{product.key}/{items[1].number}/comment/", {"body": "**Why** not?"})
    page = client_for(owner).get(f"/p/{product.key}/{items[1].number}/").content.decode()
    assert "<strong>Why</strong> not?" in page and Comment.objects.count() == 1
    client_for(owner).post(f"/p/{product.key}/{items[1].number}/split/", {"parts": "B one | 2\nB two"})
    assert titles(product) == ["A", "B one", "B two", "C"]
    bad = client_for(owner).post(f"/p/{product.key}/{items[0].number}/split/", {"parts": "only one"})
    assert bad.status_code == 400


def test_forms_need_the_csrf_token(product, owner, items):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(f"/p/{product.key}/{items[0].number}/comment/", {"body": "hi"})
    assert response.status_code == 403 and not Comment.objects.exists()


def test_personal_tokens_are_shown_once_and_revoked(owner, developer):
    client = client_for(owner)
    created = client.post("/me/", {"name": "laptop", "expires_in_days": "30"})
    raw = created.context["new_token"]
    assert raw.startswith("obk_") and raw in created.content.decode()
    token = ApiToken.objects.get(user=owner)
    assert raw not in client.get("/me/").content.decode()  # never again
    assert client_for(developer).post(f"/me/tokens/{token.pk}/revoke/").status_code == 404
    client.post(f"/me/tokens/{token.pk}/revoke/")
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert client.post("/me/", {"name": "", "expires_in_days": "x"}).status_code == 400


def test_applying_the_suggestion_to_selected_items(product, owner, stakeholder, items):
    Item.objects.filter(pk=items[2].pk).update(score=9.0)
    assert client_for(stakeholder).post(f"/p/{product.key}/suggested/", {"items": [items[2].pk]}).status_code == 403
    client_for(owner).post(f"/p/{product.key}/suggested/", {"items": [items[2].pk]})
    assert titles(product) == ["C", "A", "B"]


def test_the_debt_page_shows_the_policy(product, owner):
    item_create(product=product, actor=owner, kind="tech_debt", title="Debt", interest_hours=8, estimate=5)
    item_create(product=product, actor=owner, kind="story", title="Feature", estimate=5)
    page = client_for(owner).get(f"/p/{product.key}/debt/").content.decode()
    assert "50.0 %" in page and "target 20 %" in page and "8.0 h" in page


def test_odd_numbers_are_refused_not_crashed_on(product, owner, items, proposal):
    client = client_for(owner)
    nines = "9" * 5000
    for url in [
        f"/p/{product.key}/?from=%C2%B2",
        f"/p/{product.key}/?status=done&after=%C2%B2",
        f"/p/{product.key}/?from={nines}",
    ]:
        assert client.get(url).status_code == 200, url
    assert client.post(f"/p/{product.key}/suggested/", {"items": ["²", nines]}).status_code == 302
    assert client.post("/me/", {"name": "x", "expires_in_days": "²"}).status_code == 400
    decided = client.post(
        f"/p/{product.key}/{proposal.number}/review/", {"decision": "accept", "place": "position", "position": "²"}
    )
    assert decided.status_code == 400 and Item.objects.get(pk=proposal.pk).status == "proposed"
    split = client.post(f"/p/{product.key}/{items[0].number}/split/", {"parts": f"A | {nines}\nB"})
    assert split.status_code == 400


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


def test_a_nul_in_a_form_is_refused(product, owner, items):
    response = client_for(owner).post(f"/p/{product.key}/{items[0].number}/comment/", {"body": "a\x00b"})
    assert response.status_code == 400 and not Comment.objects.exists()
