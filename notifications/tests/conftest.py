import pytest

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory
from backlog.services.items import item_create
from notifications.models import Watch


@pytest.fixture
def story(product, owner):
    return item_create(product=product, actor=owner, kind="story", title="Export to CSV")


@pytest.fixture
def add_watchers(product):
    """Make ``n`` developers of the product who watch ``item``; return them."""

    def add(item, n: int):
        members = [MembershipFactory(product=product, role=Membership.Role.DEVELOPER) for _ in range(n)]
        Watch.objects.bulk_create([Watch(item=item, user=m.user) for m in members])
        return [m.user for m in members]

    return add
