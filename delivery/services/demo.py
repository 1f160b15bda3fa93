"""Demo delivery for the demo product: an allocation, closed sprints with a velocity and a policy
history, one active sprint on the board, a Definition of Done and a waiver that created a debt item."""

import random
from datetime import timedelta

from django.utils import timezone

from accounts.models import Product, User
from backlog.models import Item
from backlog.services.items import item_transition
from delivery.models import Sprint
from delivery.selectors import plan_proposal
from delivery.services.done import item_done
from delivery.services.settings import delivery_settings_update
from delivery.services.sprints import (
    retro_action_add,
    retro_action_to_debt,
    sprint_close,
    sprint_commit,
    sprint_create,
    sprint_start,
)

CLOSED_SPRINTS = 5
SPRINT_DAYS = 14
DEMO_DEFINITION_OF_DONE = [
    "Code reviewed",
    "Automated tests pass",
    "Documentation updated",
    "Deployed to staging",
    "Performance checked",
]
DEMO_ITEMS = 2  # the debt item of the waiver and the proposal of a retrospective action
GOALS = [
    "Checkout without a page reload",
    "Faster imports",
    "Pay down the payment-adapter debt",
    "Self-service password reset",
    "Reports that load in a second",
    "Bulk edit for the backlog",
]


def _planned(sprint: Sprint, owner: User) -> Sprint:
    plan = plan_proposal(sprint=sprint)
    reason = "Demo: a release week left no room for every target." if plan.missed else ""
    return sprint_commit(sprint=sprint, actor=owner, item_ids=[row.id for row in plan.items], reason=reason)


def delivery_demo_seed(*, product: Product, owner: User, developer: User, seed: int = 42) -> None:
    """Closed sprints with 70–100 % of their points done, an active sprint, a DoD waiver, a retro action."""
    rng = random.Random(seed)
    delivery_settings_update(
        product=product,
        actor=owner,
        # No Definition of Done yet: the history's items were done before the team wrote one.
        changes={
            "defect_share": 15,
            "debt_share": 20,
            "operational_share": 10,
            "definition_of_done": [],
        },
    )
    today = timezone.localdate()
    for index in range(CLOSED_SPRINTS + 1):
        start = today - timedelta(days=SPRINT_DAYS * (CLOSED_SPRINTS - index))
        sprint = sprint_create(
            product=product,
            actor=owner,
            goal=GOALS[index % len(GOALS)],
            start_date=start,
            end_date=start + timedelta(days=SPRINT_DAYS - 1),
        )
        sprint = _planned(sprint, owner)
        sprint_start(sprint=sprint, actor=owner)
        entries = list(sprint.entries.select_related("item").order_by("item__rank"))
        if index == CLOSED_SPRINTS:
            break  # the active sprint: worked on below, after the Definition of Done is set
        done_share = rng.uniform(0.7, 1.0)
        for entry in entries[: max(1, round(len(entries) * done_share))]:
            item = entry.item
            if item.status == Item.Status.OPEN:
                item = item_transition(item=item, actor=developer, to=Item.Status.IN_PROGRESS)
            item_transition(item=item, actor=developer, to=Item.Status.DONE)
        sprint_close(sprint=sprint, actor=owner)
    action = retro_action_add(
        sprint=Sprint.objects.get(product=product, number=CLOSED_SPRINTS),
        actor=developer,
        text="Make the staging deploy one command",
    )
    retro_action_to_debt(action=action, actor=developer, interest_hours=3)
    retro_action_add(
        sprint=Sprint.objects.get(product=product, number=CLOSED_SPRINTS), actor=owner, text="Refine on Tuesdays"
    )

    delivery_settings_update(
        product=product,
        actor=owner,
        changes={"definition_of_done": DEMO_DEFINITION_OF_DONE, "wip_limits": {"in_progress": 4}},
    )
    # The active sprint: three items started, one of them done with a waived entry (its debt is proposed).
    open_items = [entry.item for entry in entries if entry.item.status == Item.Status.OPEN][:3]
    started = [item_transition(item=item, actor=developer, to=Item.Status.IN_PROGRESS) for item in open_items]
    if started:
        item_done(
            item=started[0],
            actor=developer,
            checked=[entry for entry in DEMO_DEFINITION_OF_DONE if entry != "Performance checked"],
            waivers={"Performance checked": "No load-test environment until the new cluster is up."},
            interest_hours={"Performance checked": 2},
        )
