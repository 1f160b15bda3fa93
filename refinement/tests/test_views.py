"""The refinement pages (refinement.views) through Django's test client: the review queue and its
decisions, questions and answers, comments and split, the agenda, the debt page."""

import pytest
from django.test import Client

from backlog.models import Item
from backlog.services.items import item_create
from refinement.models import Comment, Question
from refinement.services.proposals import proposal_ask

pytestmark = pytest.mark.django_db

CASE = {"value_beneficiaries": "Support", "value_risk_removed": "Outage"}


@pytest.fixture
def proposal(product, developer):
    return item_create(product=product, actor=developer, kind="tech_debt", title="Upgrade", interest_hours=3, **CASE)


@pytest.mark.parametrize(
    ("role", "review", "split"),
    [("owner", 200, 200), ("delegate", 200, 200), ("developer", 403, 403), ("stakeholder", 403, 403)],
)
def test_review_and_split_pages_follow_the_roles(product, items, role, review, split, request):
    client = client_for(request.getfixturevalue(role))
    assert client.get(f"/p/{product.key}/review/").status_code == review
    assert client.get(f"/p/{product.key}/{items[0].number}/split/").status_code == split


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def titles(product) -> list[str]:
    return list(Item.objects.filter(product=product).ordered().values_list("title", flat=True))


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


def test_the_debt_page_shows_the_policy(product, owner):
    item_create(product=product, actor=owner, kind="tech_debt", title="Debt", interest_hours=8, estimate=5)
    item_create(product=product, actor=owner, kind="story", title="Feature", estimate=5)
    page = client_for(owner).get(f"/p/{product.key}/debt/").content.decode()
    assert "50.0 %" in page and "target 20 %" in page and "8.0 h" in page


def test_a_nul_in_a_form_is_refused(product, owner, items):
    response = client_for(owner).post(f"/p/{product.key}/{items[0].number}/comment/", {"body": "a\x00b"})
    assert response.status_code == 400 and not Comment.objects.exists()


def test_odd_numbers_are_refused_not_crashed_on(product, owner, items, proposal):
    client = client_for(owner)
    decided = client.post(
        f"/p/{product.key}/{proposal.number}/review/", {"decision": "accept", "place": "position", "position": "²"}
    )
    assert decided.status_code == 400 and Item.objects.get(pk=proposal.pk).status == "proposed"
    split = client.post(f"/p/{product.key}/{items[0].number}/split/", {"parts": f"A | {'9' * 5000}\nB"})
    assert split.status_code == 400
