"""Demo data: a plausible backlog of all five kinds, inserted in bulk."""

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Product, User
from backlog import history, ranking
from backlog.models import VALUE_SCALE, Item, Label

AREAS = ["checkout", "search", "sign-up", "invoices", "reporting", "notifications", "mobile app", "admin console"]
PEOPLE = ["shopper", "account manager", "support agent", "finance clerk", "new customer", "team lead"]
WANTS = [
    ("save a cart for later", "I can finish buying on another device"),
    ("filter orders by date", "I find last month's orders quickly"),
    ("export the report as CSV", "I can share it with my team"),
    ("get a reminder before renewal", "I am not charged by surprise"),
    ("sign in with my company account", "I do not manage another password"),
    ("see delivery status", "I do not need to call support"),
    ("bulk-edit prices", "seasonal changes take minutes, not days"),
]
DEFECTS = [
    "{area}: total is wrong when a coupon and a gift card are combined",
    "{area}: page crashes on Safari when the list is empty",
    "{area}: times shown in UTC instead of the user's time zone",
    "{area}: duplicate e-mails sent after a retry",
    "{area}: pagination skips items on the second page",
]
DEBT = [
    "Upgrade {lib} to a supported release",
    "Replace the hand-written retry loop in {area} with the queue's retries",
    "Split the 3,000-line {area} view module",
    "Remove the feature flags left over in {area}",
    "Add missing indexes behind the slow {area} queries",
]
LIBS = ["Django", "PostgreSQL", "the payment SDK", "the charting library", "Node.js build tooling"]
SPIKES = [
    ("Can we move {area} to server-sent events?", "Do server-sent events meet our latency needs?"),
    ("Evaluate full-text search for {area}", "Is PostgreSQL full-text search good enough?"),
    ("Estimate the cost of multi-currency in {area}", "What would multi-currency touch?"),
]
OPERATIONS = [
    "Rotate the TLS certificates of the {area} service",
    "Grant the new support team access to {area}",
    "Migrate {area} backups to the new storage bucket",
    "Investigate the nightly {area} job timing out",
    "Raise the connection limit for {area} during the sale",
]
LABELS = ["payments", "ux", "performance", "security", "compliance", "customer-request", "platform"]


def _value(rng: random.Random) -> int | None:
    return rng.choice(VALUE_SCALE) if rng.random() < 0.8 else None


def _make(rng: random.Random, kind: str) -> tuple[dict, float]:
    """Return an item's fields and a weight for its plausible place (higher is nearer the top)."""
    area = rng.choice(AREAS)
    fields: dict = {
        "kind": kind,
        "estimate": rng.choice([1, 2, 3, 5, 8, 13]) if rng.random() < 0.85 else None,
        "business_value": _value(rng),
        "time_criticality": _value(rng),
        "risk_reduction": _value(rng),
        "acceptance_criteria": "- [ ] Works on desktop and mobile\n- [ ] Covered by tests"
        if rng.random() < 0.7
        else "",
    }
    weight = rng.random()
    if kind == Item.Kind.STORY:
        who, (want, why) = rng.choice(PEOPLE), rng.choice(WANTS)
        fields["title"] = f"As a {who} I want to {want}"
        fields["description"] = f"As a **{who}** I want to {want} so that {why}.\n\nArea: {area}."
        fields["moscow"] = rng.choice(["must", "should", "could", ""])
    elif kind == Item.Kind.DEFECT:
        fields["title"] = rng.choice(DEFECTS).format(area=area)
        fields["severity"] = rng.choice(["critical", "major", "major", "minor", "minor", "trivial"])
        fields["description"] = "Steps to reproduce:\n\n1. Open the page\n2. Follow the flow\n\nExpected: it works."
        weight += {"critical": 1.0, "major": 0.4, "minor": 0.0, "trivial": -0.3}[fields["severity"]]
    elif kind == Item.Kind.TECH_DEBT:
        fields["title"] = rng.choice(DEBT).format(area=area, lib=rng.choice(LIBS))
        fields["interest_hours"] = Decimal(rng.choice([1, 2, 4, 6, 10, 16]))
        fields["description"] = "Every sprint we lose time to this; see the incident notes."
        weight += float(fields["interest_hours"]) / 40
    elif kind == Item.Kind.SPIKE:
        title, question = rng.choice(SPIKES)
        fields.update(title=title.format(area=area), question=question, timebox_days=rng.choice([1, 2, 3, 5]))
    else:
        fields["title"] = rng.choice(OPERATIONS).format(area=area)
        fields["impact"] = rng.choice(["high", "medium", "low"])
        fields["urgency"] = rng.choice(["high", "medium", "low"])
        weight += {"high": 0.5, "medium": 0.2, "low": 0.0}[fields["urgency"]]
    return fields, weight


KINDS = [
    (Item.Kind.STORY, 50),
    (Item.Kind.DEFECT, 20),
    (Item.Kind.TECH_DEBT, 15),
    (Item.Kind.SPIKE, 5),
    (Item.Kind.OPERATIONAL, 10),
]
STATUSES = [
    (Item.Status.OPEN, 80),
    (Item.Status.IN_PROGRESS, 4),
    (Item.Status.PROPOSED, 8),
    (Item.Status.DONE, 5),
    (Item.Status.ARCHIVED, 3),
]


def demo_backlog_seed(
    *, product: Product, creators: list[User], count: int, seed: int = 42, only_ordered: bool = False
) -> int:
    """Add ``count`` generated items to ``product`` in bulk, in a plausible order.

    With ``only_ordered`` every item is open or in progress (a backlog of exactly ``count``).
    """
    rng = random.Random(seed)
    now = timezone.now()
    kinds, kind_weights = zip(*KINDS, strict=True)
    statuses, status_weights = zip(*(STATUSES[:2] if only_ordered else STATUSES), strict=True)
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        labels = [Label.objects.get_or_create(product=product, name=name)[0] for name in LABELS]
        items: list[Item] = []
        weights: dict[int, float] = {}
        for offset in range(count):
            fields, weight = _make(rng, rng.choices(kinds, kind_weights)[0])
            status = rng.choices(statuses, status_weights)[0]
            created = now - timedelta(days=rng.randint(0, 400), minutes=rng.randint(0, 1440))
            item = Item(
                product=product,
                number=product.last_item_number + offset + 1,
                status=status,
                created_by=rng.choice(creators),
                created_at=created,
                updated_at=min(created + timedelta(days=rng.randint(0, 30)), now),
                **fields,
            )
            item.derive_fields()
            items.append(item)
            weights[id(item)] = weight + (2 if status == Item.Status.IN_PROGRESS else 0)
        ordered = sorted((i for i in items if i.is_ordered), key=lambda i: -weights[id(i)])
        _give_keys_after(product, ordered)
        Item.objects.bulk_create(items, batch_size=2000)
        Product.objects.filter(pk=product.pk).update(last_item_number=F("last_item_number") + count)
        chosen = {item.pk: rng.sample(labels, rng.choice([0, 0, 1, 1, 2])) for item in items}
        Item.labels.through.objects.bulk_create(
            [Item.labels.through(item_id=item.pk, label_id=label.pk) for item in items for label in chosen[item.pk]],
            batch_size=5000,
        )
        history.write(
            history.created(
                item=item,
                actor=item.created_by,
                placed=None,
                labels=sorted(label.name for label in chosen[item.pk]),
                seeded=True,
            )
            for item in items
        )
    return count


def _give_keys_after(product: Product, items: list[Item]) -> None:
    """Give ``items`` consecutive keys after the product's current last item."""
    last = Item.objects.filter(product=product).ordered().last()
    if last is None:
        width = ranking.rebalance_width(len(items))
        for index, item in enumerate(items):
            item.rank = ranking.rebalanced_key(index, width)
        return
    keys = ranking.keys_between(last.rank, None, len(items))
    for item, key in zip(items, keys, strict=True):
        item.rank = key
