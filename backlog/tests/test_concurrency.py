"""Real concurrency on PostgreSQL: threads with their own connections, committing for real."""

import random
import time

import pytest

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory
from backlog.models import Item, ItemEvent
from backlog.services.items import item_create
from backlog.services.ordering import Placement, item_move, items_move
from config.tests.threads import THREADS, run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_eight_threads_of_random_moves_lose_nothing_and_never_collide():
    membership = MembershipFactory(role=Membership.Role.OWNER)
    product, owner = membership.product, membership.user
    ids = [item_create(product=product, actor=owner, kind="story", title=f"t{n}").pk for n in range(60)]
    moves_made = [0] * THREADS

    def work(index: int) -> None:
        rng = random.Random(index)
        for _ in range(200):
            item = Item.objects.select_related("product").get(pk=rng.choice(ids))
            anchor = rng.choice([i for i in ids if i != item.pk])
            placement = rng.choice(
                [
                    Placement.top(),
                    Placement.bottom(),
                    Placement.before(anchor),
                    Placement.after(anchor),
                    Placement.at(rng.randint(1, len(ids))),
                ]
            )
            if rng.random() < 0.1:
                block = rng.sample([i for i in ids if i != anchor], 3)
                items_move(product=product, actor=owner, item_ids=block, to=placement)
            else:
                item_move(item=item, actor=owner, to=placement)
            moves_made[index] += 1

    errors = run_in_threads(work)

    assert errors == []
    assert sum(moves_made) == THREADS * 200
    ranks = list(Item.objects.filter(product=product).values_list("rank", flat=True))
    assert len(ranks) == len(ids)
    assert None not in ranks
    assert len(set(ranks)) == len(ids)
    assert ItemEvent.objects.filter(product=product, type=ItemEvent.Type.MOVED).count() > THREADS * 100


def test_concurrent_creation_hands_out_unique_consecutive_numbers():
    membership = MembershipFactory(role=Membership.Role.OWNER)
    product, owner = membership.product, membership.user

    def work(index: int) -> None:
        for n in range(25):
            placement = Placement.top() if n % 2 else Placement.bottom()
            item_create(
                product=product,
                actor=owner,
                kind="story",
                title=f"{index}-{n}",
                placement=placement,
            )

    errors = run_in_threads(work)

    assert errors == []
    numbers = sorted(Item.objects.filter(product=product).values_list("number", flat=True))
    assert numbers == list(range(1, THREADS * 25 + 1))
    product.refresh_from_db()
    assert product.last_item_number == THREADS * 25
    ranks = list(Item.objects.filter(product=product).values_list("rank", flat=True))
    assert len(set(ranks)) == len(ranks)


def test_edits_and_moves_together_never_deadlock():
    """Edits lock the product before the item, like moves, so neither waits on the other forever."""
    from backlog.services.items import item_update

    membership = MembershipFactory(role=Membership.Role.OWNER)
    product, owner = membership.product, membership.user
    ids = [item_create(product=product, actor=owner, kind="story", title=f"t{n}").pk for n in range(10)]

    def work(index: int) -> None:
        rng = random.Random(index)
        for n in range(60):
            item = Item.objects.select_related("product").get(pk=rng.choice(ids))
            if index % 2:
                item_update(item=item, actor=owner, changes={"description": f"edit {index}-{n}"})
            else:
                item_move(item=item, actor=owner, to=Placement.top())

    errors = run_in_threads(work)

    assert errors == []
    assert len(set(Item.objects.filter(product=product).values_list("rank", flat=True))) == len(ids)


def test_block_moves_against_a_running_suggestion_refresh_never_fail():
    """The refresh rewrites thousands of stored suggested positions while block moves rewrite
    ranks of the same rows: neither may deadlock the other into an error, and the order stays
    whole. Unscored items tie, so the suggestion follows the order and every move changes it."""
    import time

    from backlog import ranking
    from backlog.services.suggestion import suggested_positions_refresh

    membership = MembershipFactory(role=Membership.Role.OWNER)
    product, owner = membership.product, membership.user
    count = 1500
    Item.objects.bulk_create(
        Item(product=product, number=n, title=f"t{n}", kind="story", status=Item.Status.OPEN, rank=key)
        for n, key in enumerate(ranking.keys_between(None, None, count), start=1)
    )
    ids = list(Item.objects.filter(product=product).values_list("pk", flat=True))
    stop_at = time.monotonic() + 6
    refreshes, moves = [0], [0]

    def work(index: int) -> None:
        rng = random.Random(index)
        while time.monotonic() < stop_at:
            if index == 0:
                suggested_positions_refresh(product_id=product.pk)
                refreshes[0] += 1
                continue
            block = rng.sample(ids, 40)
            placement = rng.choice([Placement.top(), Placement.bottom(), Placement.at(rng.randint(1, count))])
            items_move(product=product, actor=owner, item_ids=block, to=placement)
            moves[0] += 1

    errors = run_in_threads(work, threads=5)

    assert errors == []
    assert refreshes[0] >= 2 and moves[0] >= 20
    ranks = list(Item.objects.filter(product=product).values_list("rank", flat=True))
    assert None not in ranks and len(set(ranks)) == count
    suggested_positions_refresh(product_id=product.pk)  # once the moves stop, the positions are exact
    positions = list(Item.objects.filter(product=product).order_by("rank").values_list("suggested_position", flat=True))
    assert positions == list(range(1, count + 1))


def test_eight_threads_closing_a_ring_of_blocks_leave_no_cycle():
    """Thread i links item i blocks item i+1 (mod 8), all at once: together they would make a
    cycle that none makes alone. The product lock serializes them, so the last one sees the
    other seven and is refused, naming the cycle."""
    from django.core.exceptions import ValidationError

    from backlog.models import ItemLink
    from backlog.services.links import link_create

    membership = MembershipFactory(role=Membership.Role.OWNER)
    product, owner = membership.product, membership.user
    ring = [item_create(product=product, actor=owner, kind="story", title=f"r{n}") for n in range(THREADS)]

    def work(index: int) -> None:
        source = Item.objects.select_related("product").get(pk=ring[index].pk)
        target = Item.objects.get(pk=ring[(index + 1) % THREADS].pk)
        link_create(item=source, actor=owner, link="blocks", other=target)

    errors = run_in_threads(work)
    assert len(errors) == 1 and isinstance(errors[0], ValidationError), errors
    assert "would make a cycle" in errors[0].message_dict["item"][0]
    assert errors[0].message_dict["item"][0].count("→") == THREADS
    assert ItemLink.objects.filter(product=product).count() == THREADS - 1


def test_two_rebalances_started_together_keep_the_order():
    """The second finds the first under way and does nothing. Without the claim the two
    interleaved, one with chunks of 3 and one of 10, and misordered the backlog in five runs out
    of five (each took items the other had already moved for items still to do)."""
    from backlog.services.demo import demo_backlog_seed
    from backlog.services.ordering import order_rebalance

    membership = MembershipFactory(role=Membership.Role.OWNER)
    product, owner = membership.product, membership.user
    demo_backlog_seed(product=product, creators=[owner], count=300, only_ordered=True)
    order = list(Item.objects.filter(product=product).order_by("rank").values_list("pk", flat=True))
    rewritten = [None, None]

    def work(index: int) -> None:
        if index:
            time.sleep(0.05)  # the first one under way
        rewritten[index] = order_rebalance(product=product, chunk=(3, 10)[index])

    assert run_in_threads(work, threads=2) == []
    assert sorted(rewritten, key=str) == [300, None]  # one did it all, the other nothing
    assert list(Item.objects.filter(product=product).order_by("rank").values_list("pk", flat=True)) == order


def test_a_rebalance_claimed_inside_a_transaction_is_given_back_when_it_ends():
    """A request that must rebalance before it writes claims it for its transaction only: given
    back on rollback too, so a connection kept open for the next request does not keep it."""
    from django.db import transaction

    from backlog import order_sql
    from backlog.tests.rebalance import another_rebalance_running

    product = MembershipFactory(role=Membership.Role.OWNER).product

    def failing_request() -> None:
        with transaction.atomic():
            with order_sql.rebalance_claimed(product.pk) as claimed:
                assert claimed
            with pytest.raises(AssertionError, match="holds the claim"), another_rebalance_running(product):
                pass  # still claimed after the block: the transaction's
            raise RuntimeError("the request fails")

    with pytest.raises(RuntimeError):
        failing_request()
    with another_rebalance_running(product):
        pass  # free again
