"""Real concurrency on PostgreSQL: planners racing to start sprints, developers racing to commit
the same items, each thread on its own connection."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory
from backlog.services.items import item_create
from config.tests.threads import run_in_threads
from delivery.models import Sprint, SprintItem
from delivery.services.sprints import sprint_commit, sprint_create, sprint_start

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_of_sprints_started_at_once_exactly_one_is_active():
    membership = MembershipFactory(role=Membership.Role.OWNER)
    product, owner = membership.product, membership.user
    item = item_create(product=product, actor=owner, kind="story", title="t", estimate=1)
    sprints = []
    for n in range(4):
        sprint = sprint_create(product=product, actor=owner, start_date=date(2026, 1, 1 + n), end_date=date(2026, 1, 9))
        sprints.append(sprint_commit(sprint=sprint, actor=owner, item_ids=[item.pk] if n == 0 else [], reason="r"))
    errors = run_in_threads(lambda index: sprint_start(sprint=sprints[index], actor=owner), threads=4)
    assert Sprint.objects.filter(product=product, state=Sprint.State.ACTIVE).count() == 1
    assert len(errors) == 3 and all(isinstance(error, ValidationError) for error in errors)


def test_two_sprints_committing_the_same_item_at_once_hold_it_once():
    membership = MembershipFactory(role=Membership.Role.OWNER)
    product, owner = membership.product, membership.user
    item = item_create(product=product, actor=owner, kind="story", title="t", estimate=1)
    sprints = [
        sprint_create(product=product, actor=owner, start_date=date(2026, 1, 5), end_date=date(2026, 1, 9))
        for _ in range(2)
    ]
    errors = run_in_threads(
        lambda index: sprint_commit(sprint=sprints[index], actor=owner, item_ids=[item.pk], reason="r"), threads=2
    )
    assert SprintItem.objects.filter(item=item).count() == 1
    assert len(errors) == 1 and "committed to another sprint" in str(errors[0])
