from datetime import timedelta

import pytest
from django.utils import timezone

from backlog.models import Item
from backlog.services.items import item_create, item_update
from refinement.selectors import stale_items
from refinement.services.stale import stale_items_flag
from refinement.tasks import flag_stale_items

pytestmark = pytest.mark.django_db


def age(item: Item, days: int) -> None:
    Item.objects.filter(pk=item.pk).update(updated_at=timezone.now() - timedelta(days=days))


def test_items_untouched_for_the_stale_period_are_flagged_until_touched(product, owner, developer):
    product.stale_after_days = 30
    product.save()
    old = item_create(product=product, actor=owner, kind="story", title="old")
    recent = item_create(product=product, actor=owner, kind="story", title="recent")
    proposal = item_create(product=product, actor=developer, kind="story", title="old proposal")
    age(old, 40)
    age(recent, 20)
    age(proposal, 100)  # not in the order: refinement looks at the backlog

    assert stale_items_flag(product_id=product.pk) == (1, 0)
    assert [item.title for item in stale_items(product=product)] == ["old"]
    assert stale_items_flag(product_id=product.pk) == (0, 0)  # idempotent

    item_update(item=old, actor=owner, changes={"description": "looked at it again"})
    assert stale_items_flag(product_id=product.pk) == (0, 1)
    assert not stale_items(product=product).exists()


def test_a_longer_stale_period_clears_flags(product, owner):
    item = item_create(product=product, actor=owner, kind="story", title="x")
    age(item, 40)
    product.stale_after_days = 30
    product.save()
    stale_items_flag(product_id=product.pk)
    product.stale_after_days = 60
    product.save()
    assert stale_items_flag(product_id=product.pk) == (0, 1)


def test_the_scheduled_job_flags_every_product(product, owner):
    item = item_create(product=product, actor=owner, kind="story", title="x")
    age(item, product.stale_after_days + 1)
    assert flag_stale_items.apply().get() == 1
