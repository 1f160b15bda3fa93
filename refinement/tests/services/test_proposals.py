"""Proposals and their review, through the services: value case, ask, answer, accept, reject."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backlog.models import Item, ItemEvent
from backlog.services.items import item_create, item_update
from backlog.services.ordering import Placement
from backlog.services.suggestion import suggested_order
from refinement.services.proposals import proposal_accept, proposal_answer, proposal_ask, proposal_reject

pytestmark = pytest.mark.django_db

CASE = {"value_beneficiaries": "Support", "value_risk_removed": "Data loss"}


@pytest.mark.parametrize(
    ("kind", "fields", "missing"),
    [
        ("tech_debt", {"interest_hours": 4}, {"value_beneficiaries", "value_risk_removed"}),
        ("tech_debt", {"interest_hours": 4, **CASE}, set()),
        ("spike", {"timebox_days": 2, "question": "Which queue?", **CASE}, {"value_cost_of_delay"}),
        ("spike", {"timebox_days": 2, "question": "Which queue?", **CASE, "value_cost_of_delay": "Guessing"}, set()),
        (
            "operational",
            {"impact": "high", "urgency": "low"},
            {"value_beneficiaries", "value_cost_of_delay", "value_risk_removed"},
        ),
        ("story", {}, set()),
        ("defect", {"severity": "minor"}, set()),
    ],
)
def test_technical_proposals_need_a_value_case(product, developer, kind, fields, missing):
    if missing:
        with pytest.raises(ValidationError) as refused:
            item_create(product=product, actor=developer, kind=kind, title="x", **fields)
        assert set(refused.value.message_dict) == missing
        assert not Item.objects.exists()
    else:
        assert item_create(product=product, actor=developer, kind=kind, title="x", **fields).status == "proposed"


def test_kind_errors_and_value_case_errors_come_together(product, stakeholder):
    with pytest.raises(ValidationError) as refused:
        item_create(product=product, actor=stakeholder, kind="tech_debt", title="x")
    assert {"interest_hours", "value_beneficiaries", "value_risk_removed"} <= set(refused.value.message_dict)


def test_owners_add_technical_items_directly_without_a_value_case(product, owner):
    assert item_create(product=product, actor=owner, kind="tech_debt", title="x", interest_hours=2).status == "open"


def test_a_proposal_keeps_its_value_case_while_reviewed(product, developer):
    proposal = item_create(product=product, actor=developer, kind="tech_debt", title="x", interest_hours=2, **CASE)
    with pytest.raises(ValidationError):
        item_update(item=proposal, actor=developer, changes={"value_risk_removed": ""})


@pytest.fixture
def proposal(product, developer):
    return item_create(product=product, actor=developer, kind="tech_debt", title="Upgrade", interest_hours=3, **CASE)


def test_one_open_question_at_a_time_and_only_the_proposer_answers(proposal, owner, developer, delegate):
    proposal_ask(item=proposal, actor=delegate, question="Why now?")
    with pytest.raises(ValidationError):
        proposal_ask(item=proposal, actor=owner, question="And?")
    with pytest.raises(PermissionDenied):
        proposal_answer(item=proposal, actor=owner, answer="Because")
    answered = proposal_answer(item=proposal, actor=developer, answer="Support ends in May")
    assert answered.answered_by == developer
    with pytest.raises(ValidationError):
        proposal_answer(item=proposal, actor=developer, answer="again")
    proposal_ask(item=proposal, actor=owner, question="Cost?")  # a new one after the answer


@pytest.mark.parametrize("role", ["developer", "stakeholder"])
def test_only_owners_and_delegates_decide(proposal, role, request):
    member = request.getfixturevalue(role)
    for decide in (
        lambda: proposal_accept(item=proposal, actor=member),
        lambda: proposal_reject(item=proposal, actor=member, reason="no"),
        lambda: proposal_ask(item=proposal, actor=member, question="?"),
    ):
        with pytest.raises(PermissionDenied):
            decide()
    assert Item.objects.get(pk=proposal.pk).status == "proposed"


def test_accepting_at_the_suggested_position_follows_the_score(product, owner, developer):
    scored = [item_create(product=product, actor=owner, kind="story", title=t) for t in "ABCD"]
    for item, score in zip(scored, [9.0, 7.0, 5.0, None], strict=True):
        Item.objects.filter(pk=item.pk).update(score=score)
    proposal = item_create(product=product, actor=developer, kind="story", title="P")
    Item.objects.filter(pk=proposal.pk).update(score=6.0)  # below 9 and 7, above 5: third
    proposal_accept(item=proposal, actor=owner, at_suggested_position=True)
    order = list(Item.objects.ordered().values_list("title", flat=True))
    assert order == ["A", "B", "P", "C", "D"]


def test_an_unscored_proposal_is_suggested_at_the_bottom(product, owner, developer, items):
    proposal = item_create(product=product, actor=developer, kind="story", title="P")
    proposal_accept(item=proposal, actor=owner, at_suggested_position=True)
    assert list(Item.objects.ordered().values_list("title", flat=True)) == ["A", "B", "C", "P"]


def test_a_duplicate_is_rejected_and_linked(product, owner, developer, items):
    proposal = item_create(product=product, actor=developer, kind="story", title="A again")
    proposal_reject(item=proposal, actor=owner, reason="We have it", duplicate_of=items[0])
    proposal.refresh_from_db()
    assert proposal.status == "rejected" and proposal.duplicate_of == items[0]
    event = ItemEvent.objects.filter(item=proposal, type="status_changed").get()
    assert event.reason == "We have it" and event.data["duplicate_of"] == items[0].pk


def test_a_duplicate_of_another_product_or_of_itself_is_refused(product, owner, developer, other_product_item):
    proposal = item_create(product=product, actor=developer, kind="story", title="x")
    for original in (proposal, other_product_item):
        with pytest.raises(ValidationError):
            proposal_reject(item=proposal, actor=owner, reason="dup", duplicate_of=original)
    assert Item.objects.get(pk=proposal.pk).status == "proposed"


@pytest.fixture
def other_product_item(db):
    from accounts.tests.factories import MembershipFactory, ProductFactory

    other = ProductFactory()
    owner = MembershipFactory(product=other, role="owner").user
    return item_create(product=other, actor=owner, kind="story", title="elsewhere")


def test_only_proposals_are_reviewed(owner, items):
    with pytest.raises(ValidationError):
        proposal_accept(item=items[0], actor=owner, placement=Placement.top())
    with pytest.raises(ValidationError):
        proposal_reject(item=items[0], actor=owner, reason="no")


def test_a_rejection_needs_a_reason(proposal, owner):
    with pytest.raises(ValidationError) as refused:
        proposal_reject(item=proposal, actor=owner, reason="   ")
    assert "reason" in refused.value.message_dict


@pytest.mark.parametrize("suggested", [False, True])
def test_an_accept_locks_the_product_once_in_a_few_queries(
    product, owner, developer, items, suggested, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    proposal = item_create(product=product, actor=developer, kind="story", title="P")
    # The lock and permission, the item, (the first item its score outranks, or the order's size:
    # one or two look-ups, and the item at that position: the order blocks,) the gap, the write, the history
    # (its change-feed number and its row); plus the savepoint pair of the test's transaction, and
    # the webhooks' look-up of the product's endpoints (one per history batch). It was 11 and 12
    # with the lock taken twice.
    with django_assert_max_num_queries(12 if suggested else 9), CaptureQueriesContext(connection) as queries:
        proposal_accept(item=proposal, actor=owner, at_suggested_position=suggested)
    product_locks = [q for q in queries.captured_queries if "JOIN accounts_membership" in q["sql"]]
    assert len(product_locks) == 1
    assert Item.objects.get(pk=proposal.pk).status == "open"


def test_suggested_position_respects_pinned_items(product, owner, developer):
    p = item_create(product=product, actor=owner, kind="story", title="Pinned", pinned=True)
    a = item_create(product=product, actor=owner, kind="story", title="A")
    Item.objects.filter(pk=p.pk).update(score=1.0)
    Item.objects.filter(pk=a.pk).update(score=10.0)
    proposal = item_create(product=product, actor=developer, kind="story", title="X")
    Item.objects.filter(pk=proposal.pk).update(score=5.0)
    proposal_accept(item=proposal, actor=owner, at_suggested_position=True)
    x = next(s for s in suggested_order(product=product) if s.item_id == proposal.pk)
    assert x.drift == 0, (x.position, x.suggested_position)
