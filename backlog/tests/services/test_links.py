"""Links between items: both ends, the history, who may, and cycles in "blocks" refused by name."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory, ProductFactory
from backlog import history
from backlog.links import item_links
from backlog.models import ItemEvent, ItemLink
from backlog.services.items import item_create
from backlog.services.links import MAX_LINKS, blocking_cycle, link_create, link_delete

pytestmark = pytest.mark.django_db


@pytest.fixture
def five(product, owner):
    return [item_create(product=product, actor=owner, kind="story", title=f"Item {n}") for n in range(1, 6)]


def test_a_blocking_link_shows_on_both_ends_and_in_both_histories(five, developer):
    a, b = five[0], five[1]
    link = link_create(item=a, actor=developer, link="blocks", other=b)
    assert (link.source, link.target, link.kind) == (a, b, ItemLink.Kind.BLOCKS)
    assert [(end.end, end.other.key, end.link_id) for end in item_links(item=a)] == [("blocks", b.key, link.pk)]
    assert [(end.end, end.other.key) for end in item_links(item=b)] == [("blocked_by", a.key)]
    events = list(ItemEvent.objects.filter(type=ItemEvent.Type.LINKED).order_by("item_id"))
    assert [(e.item_id, e.data) for e in events] == [
        (a.pk, {"link": "blocks", "other": b.pk, "link_id": link.pk}),
        (b.pk, {"link": "blocked_by", "other": a.pk, "link_id": link.pk}),
    ]
    assert events[0].operation == events[1].operation
    texts = history.describe(events)
    assert texts[events[0].pk] == f"linked: blocks {b.key}"
    assert texts[events[1].pk] == f"linked: blocked by {a.key}"


def test_blocked_by_is_stored_as_the_other_item_blocking(five, owner):
    a, b = five[0], five[1]
    link = link_create(item=a, actor=owner, link="blocked_by", other=b)
    assert (link.source, link.target) == (b, a)


def test_relates_to_is_stored_once_whichever_end_asks(five, owner):
    a, b = five[0], five[1]
    link = link_create(item=b, actor=owner, link="relates_to", other=a)
    assert (link.source, link.target) == (a, b)
    assert [end.end for end in item_links(item=a)] == ["relates_to"]
    assert [end.end for end in item_links(item=b)] == ["relates_to"]
    with pytest.raises(ValidationError, match="already relates to"):
        link_create(item=a, actor=owner, link="relates_to", other=b)


def test_split_and_duplicate_show_on_both_ends(product, owner, five):
    part = item_create(product=product, actor=owner, kind="story", title="Part")
    part.split_from = five[0]
    part.save(update_fields=["split_from"])
    twin = item_create(product=product, actor=owner, kind="story", title="Twin")
    twin.duplicate_of = five[1]
    twin.save(update_fields=["duplicate_of"])
    assert [(end.end, end.other.key) for end in item_links(item=five[0])] == [("split_into", part.key)]
    assert [(end.end, end.other.key) for end in item_links(item=part)] == [("split_from", five[0].key)]
    assert [(end.end, end.other.key) for end in item_links(item=five[1])] == [("duplicated_by", twin.key)]
    assert [(end.end, end.link_id) for end in item_links(item=twin)] == [("duplicate_of", None)]


def test_a_cycle_in_blocks_is_refused_with_the_cycle_named(five, owner):
    a, b, c = five[0], five[1], five[2]
    link_create(item=a, actor=owner, link="blocks", other=b)
    link_create(item=b, actor=owner, link="blocks", other=c)
    with pytest.raises(ValidationError) as refused:
        link_create(item=c, actor=owner, link="blocks", other=a)
    assert refused.value.message_dict["item"] == [
        f"{c.key} cannot block {a.key}: that would make a cycle, {c.key} → {a.key} → {b.key} → {c.key}."
    ]
    # The same through the other end: A blocked by C.
    with pytest.raises(ValidationError, match=f"{c.key} → {a.key} → {b.key} → {c.key}"):
        link_create(item=a, actor=owner, link="blocked_by", other=c)
    # The direct one: B blocks A.
    with pytest.raises(ValidationError, match=f"{b.key} → {a.key} → {b.key}"):
        link_create(item=b, actor=owner, link="blocks", other=a)
    assert ItemLink.objects.count() == 2
    assert not ItemEvent.objects.filter(type=ItemEvent.Type.LINKED, item=c, data__other=a.pk).exists()


def test_the_named_cycle_is_a_shortest_one(five, owner):
    a, b, c, d, e = five
    for source, target in [(a, b), (b, c), (c, d), (a, d), (d, e)]:
        link_create(item=source, actor=owner, link="blocks", other=target)
    assert blocking_cycle(blocker=e, blocked=a) == [e.pk, a.pk, d.pk, e.pk]


def test_relating_items_in_a_ring_is_no_cycle(five, owner):
    a, b, c = five[0], five[1], five[2]
    link_create(item=a, actor=owner, link="relates_to", other=b)
    link_create(item=b, actor=owner, link="relates_to", other=c)
    link_create(item=c, actor=owner, link="relates_to", other=a)
    link_create(item=a, actor=owner, link="blocks", other=b)  # and a block beside a relation
    assert ItemLink.objects.count() == 4


def test_self_and_foreign_links_are_refused(five, owner):
    with pytest.raises(ValidationError, match="itself"):
        link_create(item=five[0], actor=owner, link="blocks", other=five[0])
    other_product = ProductFactory()
    MembershipFactory(product=other_product, user=owner, role=Membership.Role.OWNER)
    foreign = item_create(product=other_product, actor=owner, kind="story", title="Elsewhere")
    with pytest.raises(ValidationError, match="same product"):
        link_create(item=five[0], actor=owner, link="blocks", other=foreign)
    with pytest.raises(ValidationError, match="one of"):
        link_create(item=five[0], actor=owner, link="parent_of", other=five[1])
    assert not ItemLink.objects.exists()


@pytest.mark.parametrize("role", ["owner", "developer", "delegate"])
def test_members_who_edit_items_link_them(five, role, request):
    link_create(item=five[0], actor=request.getfixturevalue(role), link="blocks", other=five[1])
    assert ItemLink.objects.count() == 1


@pytest.mark.parametrize("role", ["stakeholder", "outsider"])
def test_others_may_not_link_or_unlink(five, owner, role, request):
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        link_create(item=five[0], actor=user, link="blocks", other=five[1])
    link = link_create(item=five[0], actor=owner, link="blocks", other=five[1])
    with pytest.raises(PermissionDenied):
        link_delete(link=link, actor=user)
    assert ItemLink.objects.filter(pk=link.pk).exists()


def test_removing_a_link_records_it_on_both_ends(five, developer):
    a, b = five[0], five[1]
    link = link_create(item=a, actor=developer, link="blocks", other=b)
    link_delete(link=link, actor=developer)
    assert not ItemLink.objects.exists()
    events = list(ItemEvent.objects.filter(type=ItemEvent.Type.UNLINKED).order_by("item_id"))
    texts = history.describe(events)
    assert [texts[e.pk] for e in events] == [
        f"removed the link: blocks {b.key}",
        f"removed the link: blocked by {a.key}",
    ]
    assert [item_links(item=a), item_links(item=b)] == [[], []]


def test_an_item_holds_a_bounded_number_of_links(product, owner, five, monkeypatch):
    monkeypatch.setattr("backlog.services.links.MAX_LINKS", 2)
    link_create(item=five[0], actor=owner, link="blocks", other=five[1])
    link_create(item=five[0], actor=owner, link="relates_to", other=five[2])
    with pytest.raises(ValidationError, match="has 2 links already"):
        link_create(item=five[3], actor=owner, link="blocked_by", other=five[0])
    assert MAX_LINKS == 200
