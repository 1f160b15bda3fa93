"""Review decisions, splits and moves racing on one product (PostgreSQL, real threads)."""

import random

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory
from backlog.models import Item
from backlog.services.items import item_create
from backlog.services.ordering import Placement, item_move
from config.tests.threads import run_in_threads
from refinement.services.proposals import proposal_accept, proposal_answer, proposal_ask, proposal_reject
from refinement.services.split import item_split

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_review_split_move_storm():
    m = MembershipFactory(role=Membership.Role.OWNER)
    product, owner = m.product, m.user
    dev = MembershipFactory(product=product, role=Membership.Role.DEVELOPER).user
    ids = [item_create(product=product, actor=owner, kind="story", title=f"t{n}").pk for n in range(20)]
    proposals = [item_create(product=product, actor=dev, kind="story", title=f"p{n}").pk for n in range(40)]
    unexpected = []

    def work(i):
        rng = random.Random(i)
        for _ in range(40):
            choice = rng.random()
            try:
                if choice < 0.3:
                    p = Item.objects.get(pk=rng.choice(proposals))
                    if rng.random() < 0.5:
                        proposal_accept(item=p, actor=owner, at_suggested_position=rng.random() < 0.5)
                    else:
                        proposal_reject(
                            item=p, actor=owner, reason="no", duplicate_of=Item.objects.get(pk=rng.choice(ids))
                        )
                elif choice < 0.5:
                    p = Item.objects.get(pk=rng.choice(proposals))
                    if rng.random() < 0.5:
                        proposal_ask(item=p, actor=owner, question="why")
                    else:
                        proposal_answer(item=p, actor=dev, answer="because")
                elif choice < 0.7:
                    it = Item.objects.filter(product=product, rank__isnull=False).order_by("?").first()
                    item_split(
                        item=it, actor=owner, parts=[{"title": "a"}, {"title": "b"}], keep_original=rng.random() < 0.5
                    )
                else:
                    it = Item.objects.filter(product=product, rank__isnull=False).order_by("?").first()
                    item_move(item=it, actor=owner, to=Placement.at(rng.randint(1, 30)))
            except ValidationError:
                pass
            except Exception as exc:  # noqa: BLE001 - every unexpected error is collected and reported
                unexpected.append(repr(exc))

    errors = run_in_threads(work)
    assert errors == [] and unexpected == [], unexpected[:5]
    ranks = list(Item.objects.filter(product=product, rank__isnull=False).values_list("rank", flat=True))
    assert len(ranks) == len(set(ranks))
    assert not Item.objects.filter(product=product, status__in=["open", "in_progress"], rank__isnull=True).exists()
    assert (
        not Item.objects.filter(product=product, rank__isnull=False)
        .exclude(status__in=["open", "in_progress"])
        .exists()
    )
    nums = list(Item.objects.filter(product=product).values_list("number", flat=True))
    assert len(nums) == len(set(nums))
