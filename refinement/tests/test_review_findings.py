"""Defects a review found in the refinement change; each of these failed before its fix."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backlog import ranking
from backlog.models import Item
from backlog.services.items import item_create, item_transition
from backlog.services.ordering import Placement
from backlog.services.suggestion import suggested_order
from refinement.selectors import refinement_agenda
from refinement.services.proposals import proposal_accept, proposal_answer, proposal_ask, proposal_reject
from refinement.services.split import item_split

pytestmark = pytest.mark.django_db

ALL_OFF = {
    "estimate": False,
    "acceptance_criteria": False,
    "value_inputs": False,
    "description": False,
    "max_estimate": None,
}


def test_all_checks_off_every_item_ready_and_none_not_ready(product, owner, items, as_role):
    product.definition_of_ready = ALL_OFF
    product.save()
    assert Item.objects.filter(product=product).ready(product).count() == 3
    # readiness() says every item is ready, so none should be "not ready"
    assert Item.objects.filter(product=product).not_ready(product).count() == 0
    assert refinement_agenda(product=product, limit=10) == []
    body = as_role("owner").get(f"/api/v1/products/{product.key}/items/?ready=false").json()
    assert body["results"] == []


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


def test_split_keeping_original_when_gap_is_respaced(product, owner, settings):
    settings.ORDER_KEY_MAX_LENGTH = 8
    item_create(product=product, actor=owner, kind="story", title="A")
    b = item_create(product=product, actor=owner, kind="story", title="B")
    item_create(product=product, actor=owner, kind="story", title="C")
    # fill the gap before B until no short key is left in it
    for i in range(200):
        prev = Item.objects.filter(product=product, rank__lt=Item.objects.get(pk=b.pk).rank).order_by("-rank").first()
        b_rank = Item.objects.get(pk=b.pk).rank
        if max(map(len, ranking.keys_between(prev.rank, b_rank, 2))) > 8:
            break
        item_create(product=product, actor=owner, kind="story", title=f"f{i}", placement=Placement.before(b))
    else:
        pytest.skip("gap never filled")
    item_split(
        item=Item.objects.get(pk=b.pk), actor=owner, parts=[{"title": "B1"}, {"title": "B2"}], keep_original=True
    )
    titles = list(Item.objects.ordered().values_list("title", flat=True))
    assert titles[-4:] == ["B1", "B2", "B", "C"], titles[-6:]


def test_a_hostile_comment_does_not_break_the_comment_list(as_role, items):
    url = f"/api/v1/items/{items[0].pk}/comments/"
    posted = as_role("stakeholder").post(url, {"body": "1. " * 5000}, format="json")
    assert posted.status_code in (201, 400)
    assert as_role("owner").get(url).status_code == 200


def test_splitting_an_operational_item_keeps_its_sla_clock(product, owner):
    from datetime import timedelta

    from django.utils import timezone

    incident = item_create(
        product=product, actor=owner, kind="operational", title="Outage", impact="high", urgency="high"
    )
    long_ago = timezone.now() - timedelta(days=3)
    Item.objects.filter(pk=incident.pk).update(created_at=long_ago, sla_due_at=long_ago + timedelta(hours=4))
    incident.refresh_from_db()
    assert incident.sla_due_at < timezone.now()  # breached
    parts = item_split(item=incident, actor=owner, parts=[{"title": "Restore"}, {"title": "Root cause"}])
    assert all(part.sla_due_at <= incident.sla_due_at for part in parts), [p.sla_due_at for p in parts]


def test_only_open_items_are_split(product, owner, items):
    item_transition(item=items[0], actor=owner, to="in_progress")
    with pytest.raises(ValidationError):
        item_split(item=items[0], actor=owner, parts=[{"title": "a"}, {"title": "b"}])


def test_unknown_fields_of_a_part_are_refused(as_role, items):
    response = as_role("owner").post(
        f"/api/v1/items/{items[1].key}/split/",
        {"parts": [{"title": "a", "kind": "spike"}, {"title": "b"}]},
        format="json",
    )
    assert response.status_code == 400 and "parts" in response.json()["error"]["fields"]
