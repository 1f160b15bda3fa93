"""Demo data: a plausible backlog of all five kinds, inserted in bulk."""

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Product, User
from backlog import history, ranking, scoring
from backlog.models import VALUE_SCALE, Item, Label

AREAS = ["checkout", "search", "sign-up", "invoices", "reporting", "notifications", "mobile app", "admin console"]
# Who wants what, and why: each persona asks for what its work needs.
STORIES = {
    "shopper": [
        ("save a cart for later", "I can finish buying on another device"),
        ("see delivery status", "I do not need to call support"),
        ("reorder a past purchase in one click", "restocking takes seconds"),
        ("pay with a saved card", "I do not type my card number every time"),
        ("get a price-drop alert for a saved item", "I buy when it suits me"),
        ("return an item online", "I do not need to print a form"),
    ],
    "account manager": [
        ("see every open invoice of a customer", "I can chase payments in one call"),
        ("export a customer's order history as CSV", "I can prepare quarterly reviews"),
        ("get a reminder before a contract renews", "no customer is renewed by surprise"),
        ("bulk-edit prices", "seasonal changes take minutes, not days"),
        ("add a note to a customer account", "the whole team knows the context"),
    ],
    "support agent": [
        ("see a customer's recent orders next to the ticket", "I answer without switching tools"),
        ("resend an order confirmation", "customers stop asking for it by phone"),
        ("issue a partial refund", "small mistakes are fixed at once"),
        ("search customers by phone number", "I find callers quickly"),
        ("impersonate a customer's view, read-only", "I see what they see"),
    ],
    "finance clerk": [
        ("filter invoices by due date", "I plan the week's collections"),
        ("export the VAT report as CSV", "the accountant gets it without a copy-paste"),
        ("match bank transfers to invoices automatically", "month-end closes a day earlier"),
        ("see credit notes beside their invoice", "I do not book them twice"),
    ],
    "new customer": [
        ("sign up with my company account", "I do not manage another password"),
        ("see the prices before I create an account", "I know it fits my budget"),
        ("invite my colleagues during sign-up", "we start together"),
        ("import my contacts from a spreadsheet", "I do not retype them"),
    ],
    "team lead": [
        ("see my team's open orders on one page", "nothing waits unnoticed"),
        ("assign an order to a colleague", "the work is shared fairly"),
        ("get a weekly summary by e-mail", "I do not need to open the report"),
        ("set spending limits per team member", "budgets are kept without approvals by hand"),
    ],
    "administrator": [
        ("see an audit log of permission changes", "I can answer the auditors"),
        ("enforce two-factor sign-in for my organisation", "stolen passwords are not enough"),
        ("deactivate a leaver's account in one step", "access ends on their last day"),
        ("export all our data", "we are never locked in"),
    ],
    "operations engineer": [
        ("see the health of every integration on one page", "failures are spotted before customers call"),
        ("replay a failed webhook", "partners get their events without a support ticket"),
        ("get an alert when the error rate doubles", "I hear about incidents before customers do"),
        ("see which release introduced a slowdown", "rollbacks are quick and sure"),
    ],
    "sales representative": [
        ("send a quote from the customer's page", "quotes go out the same day"),
        ("see which products a customer has not bought yet", "I know what to offer"),
        ("share a product sheet as a link", "prospects always get the current version"),
    ],
    "warehouse worker": [
        ("scan a parcel to mark it packed", "nothing ships twice"),
        ("see today's pick list by aisle", "I walk less"),
        ("report a damaged item from the shelf", "it is not sent to a customer"),
    ],
    "editor": [
        ("schedule a product page to go live", "launches happen at midnight without me"),
        ("preview a page on a phone before publishing", "nothing looks broken on launch day"),
        ("see who changed a product description", "I can ask them why"),
        ("translate a page side by side", "the translations stay in step"),
    ],
}
# Features named the way teams name them when the persona is obvious.
FEATURES = [
    "{Area}: remember the filters I used last",
    "{Area}: keyboard shortcuts for the common actions",
    "{Area}: an empty state that says what to do next",
    "{Area}: first screen in under a second on 3G",
    "{Area}: screen-reader labels for every control",
    "{Area}: show times in the user's time zone",
    "{Area}: undo the last change",
    "{Area}: work offline and sync later",
    "{Area}: dark colours that follow the system setting",
    "{Area}: a clearer message when saving fails",
    "{Area}: remember where I left off",
    "{Area}: a shareable link to the current view",
    "{Area}: bulk actions on the selected rows",
    "{Area}: a help link next to each setting",
]
DEFECTS = [
    "{Area}: page crashes on Safari when the list is empty",
    "{Area}: duplicate e-mails sent after a retry",
    "{Area}: pagination skips items on the second page",
    "{Area}: search ignores accented characters",
    "{Area}: session expires while the form is being filled in",
    "{Area}: the back button loses the entered data",
    "{Area}: CSV export cuts names with commas",
    "{Area}: dates shown as month/day for European users",
    "{Area}: spinner never stops when the network drops",
]
CHECKOUT_DEFECTS = [
    "{Area}: total is wrong when a coupon and a gift card are combined",
    "{Area}: the card form rejects valid American Express numbers",
    "{Area}: free shipping is not applied at exactly the threshold",
]
DEBT = [
    ("Upgrade {lib} to a supported release", "{lib} is out of security support"),
    ("Replace the hand-written retry loop in {area} with the queue's retries", "retries that hide failures"),
    ("Split the 3,000-line {area} view module", "changes in {area} colliding and breaking each other"),
    ("Remove the feature flags left over in {area}", "dead paths nobody tests"),
    ("Add missing indexes behind the slow {area} queries", "timeouts at peak load"),
    ("Move {area} settings out of the code into configuration", "a deploy for every settings change"),
    ("Replace the flaky end-to-end tests of {area}", "red builds that everyone ignores"),
    ("Remove the second copy of the date helpers in {area}", "two fixes for every date bug"),
    ("Replace the deprecated {area} API client", "the vendor switching the old API off"),
]
LIBS = ["Django", "PostgreSQL", "the payment SDK", "the charting library", "the Node.js build tooling", "Redis"]
SPIKES = [
    ("Can {area} use server-sent events?", "Do server-sent events meet our latency needs?"),
    ("Is PostgreSQL full-text search good enough for {area}?", "Does it rank results well enough?"),
    ("What would multi-currency touch in {area}?", "Which parts of {area} assume one currency?"),
    ("Could {area} run without the legacy batch job?", "What still depends on the nightly batch?"),
]
OPERATIONS = [  # with what waiting costs
    ("Rotate the TLS certificates of the {area} service", "Expired certificates take {area} offline"),
    ("Grant the new support team access to {area}", "The new team cannot answer {area} tickets"),
    ("Migrate {area} backups to the new storage bucket", "The old bucket's contract ends this month"),
    ("Investigate the nightly {area} job timing out", "Each timeout leaves {area} with yesterday's data"),
    ("Raise the connection limit for {area} during the sale", "Shoppers see errors at the sale's peak"),
    ("Renew the {area} monitoring contract", "Outages of {area} go unnoticed until customers call"),
]
# Each technical kind's value case: who benefits, what waiting costs, what risk goes.
VALUE_CASES = {
    Item.Kind.TECH_DEBT: (
        "The {area} team: changes there take hours instead of days",
        "Every sprint it costs its interest in hours, and the interest grows",
        "{risk}",
    ),
    Item.Kind.SPIKE: (
        "Product and the {area} team: the next decision rests on numbers",
        "The {area} roadmap waits for this answer",
        "Committing a quarter to an approach that does not work",
    ),
    Item.Kind.OPERATIONAL: (
        "Everyone using {area}",
        "{cost}",
        "An outage of {area} and the support load that follows",
    ),
}
ESTIMATES, ESTIMATE_WEIGHTS = [1, 2, 3, 5, 8, 13], [1, 3, 4, 3, 2, 1]  # most work is 2 to 5 points
LABELS = ["payments", "ux", "performance", "security", "compliance", "customer-request", "platform"]


def with_article(noun: str) -> str:
    """Return ``noun`` with its indefinite article: "a shopper", "an account manager"."""
    return f"{'an' if noun[0].lower() in 'aeiou' else 'a'} {noun}"


class Titles:
    """Draw titles of each kind without repeating one; when a kind's catalogue runs out (large
    generated backlogs) it starts again with a numbered round ("… (round 2)")."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pools: dict[str, list] = {}
        self.rounds: dict[str, int] = {}

    def draw(self, kind: str, catalogue) -> tuple:
        pool = self.pools.get(kind)
        if not pool:
            pool = self.pools[kind] = list(catalogue())
            self.rng.shuffle(pool)
            self.rounds[kind] = self.rounds.get(kind, 0) + 1
        return pool.pop(), self.rounds[kind]


def _stories():
    for who, wants in STORIES.items():
        for want, why in wants:
            yield ("story", who, want, why)
    for feature in FEATURES:
        for area in AREAS:
            yield ("feature", feature, area)


def _per_area(templates, checkout_only=()):
    def catalogue():
        yield from ((template, area) for template in templates for area in AREAS)
        yield from ((template, "checkout") for template in checkout_only)

    return catalogue


def _debt():
    for title, risk in DEBT:
        if "{lib}" in title:  # a library upgrade is about no one area: one drawn later
            yield from ((title, risk, lib, None) for lib in LIBS)
        else:
            yield from ((title, risk, None, area) for area in AREAS)


def _value(rng: random.Random) -> int:
    return rng.choice(VALUE_SCALE)


def _make(rng: random.Random, kind: str, titles: Titles, now) -> dict:
    """Return the fields of one generated item of ``kind``, refined (see ``_unrefine``)."""
    fields: dict = {
        "kind": kind,
        "estimate": rng.choices(ESTIMATES, ESTIMATE_WEIGHTS)[0],
        "business_value": _value(rng),
        "time_criticality": _value(rng),
        "risk_reduction": _value(rng),
        "acceptance_criteria": "- [ ] Works on desktop and mobile\n- [ ] Covered by tests",
    }
    if kind == Item.Kind.STORY:
        drawn, round_ = titles.draw(kind, _stories)
        if drawn[0] == "story":
            _, who, want, why = drawn
            fields["title"] = f"As {with_article(who)} I want to {want}"
            article = with_article(who).split(" ", 1)[0]
            fields["description"] = f"As {article} **{who}** I want to {want} so that {why}."
        else:
            _, feature, area = drawn
            fields["title"] = feature.format(Area=area.capitalize())
            fields["description"] = f"Asked for by several customers using {area}."
        fields["moscow"] = rng.choice(["must", "should", "could", ""])
    elif kind == Item.Kind.DEFECT:
        (template, area), round_ = titles.draw(kind, _per_area(DEFECTS, CHECKOUT_DEFECTS))
        fields["title"] = template.format(Area=area.capitalize())
        fields["severity"] = rng.choice(["critical", "major", "major", "minor", "minor", "minor", "trivial", "trivial"])
        fields["description"] = (
            f"Steps to reproduce:\n\n1. Open {area}\n2. Follow the flow in the title\n\n"
            "Expected: it works. Reported by support."
        )
        fields["business_value"] = None  # the severity says it
        fields["time_criticality"] = None  # the age says it
    elif kind == Item.Kind.TECH_DEBT:
        (title, risk, lib, area), round_ = titles.draw(kind, _debt)
        area = area or rng.choice(AREAS)
        fields["title"] = title.format(area=area, lib=lib)
        fields["interest_hours"] = Decimal(rng.choice([1, 2, 4, 6, 10, 16]))
        fields["description"] = "Every sprint we lose time to this; see the incident notes."
        fields["time_criticality"] = None  # the interest says it
        risk = risk.format(area=area, lib=lib).capitalize()
        fields.update(_value_case(kind, area=area, risk=risk))
    elif kind == Item.Kind.SPIKE:
        (template, area), round_ = titles.draw(kind, _per_area(SPIKES))
        title, question = template
        fields.update(title=title.format(area=area), question=question.format(area=area))
        fields["timebox_days"] = rng.choice([1, 2, 3, 5])
        fields.update(_value_case(kind, area=area))
    else:
        ((template, cost), area), round_ = titles.draw(kind, _per_area(OPERATIONS))
        fields["title"] = template.format(area=area)
        fields["impact"] = rng.choice(["high", "medium", "low"])
        fields["urgency"] = rng.choice(["medium", "low", "low"])
        fields.update(_value_case(kind, area=area, cost=cost.format(area=area)))
    if round_ > 1:
        fields["title"] = f"{fields['title']} (round {round_})"
    return fields


def _value_case(kind: str, **words: str) -> dict:
    beneficiaries, cost_of_delay, risk = VALUE_CASES[kind]
    return {
        "value_beneficiaries": beneficiaries.format(**words),
        "value_cost_of_delay": cost_of_delay.format(**words),
        "value_risk_removed": risk.format(**words),
    }


KINDS = [
    (Item.Kind.STORY, 45),
    (Item.Kind.DEFECT, 20),
    (Item.Kind.TECH_DEBT, 17),
    (Item.Kind.SPIKE, 6),
    (Item.Kind.OPERATIONAL, 12),
]
STATUSES = [
    (Item.Status.OPEN, 84),
    (Item.Status.PROPOSED, 8),
    (Item.Status.DONE, 5),
    (Item.Status.ARCHIVED, 3),
]
AGE_DAYS = {Item.Kind.OPERATIONAL: 6, Item.Kind.DEFECT: 120}
IN_PROGRESS_SHARE = 0.04  # the top of the order is being worked on
REFINED_SHARE = 0.25  # the next few sprints are refined (ready); below, some items are not yet
UNREFINED = {"acceptance_criteria": 0.4, "value": 0.15, "idea": 0.2}  # chances, below the refined top
# How far the owner's order strays from the scores: an item's place by score moves by a normal
# deviation of 1 + this share of the place (about 1 at the top, 15 at place 100).
ORDER_SPREAD = 0.14
INSERT_BATCH = 2000  # items per INSERT statement


def demo_backlog_seed(
    *, product: Product, creators: list[User], count: int, seed: int = 42, only_ordered: bool = False
) -> int:
    """Add ``count`` generated items to ``product`` in bulk, in a plausible order.

    No two titles repeat (until a kind's catalogue runs out, in large backlogs). The order follows
    the scores as an owner's does: closely at the refined top, whose first few items are in
    progress, loosely further down, where some items are not refined yet. With ``only_ordered``
    every item is open or in progress (a backlog of exactly ``count``).
    """
    rng = random.Random(seed)
    titles = Titles(rng)
    now = timezone.now()
    kinds, kind_weights = zip(*KINDS, strict=True)
    statuses, status_weights = zip(*(STATUSES[:1] if only_ordered else STATUSES), strict=True)
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        labels = [Label.objects.get_or_create(product=product, name=name)[0] for name in LABELS]
        items: list[Item] = []
        for offset in range(count):
            kind = rng.choices(kinds, kind_weights)[0]
            fields = _make(rng, kind, titles, now)
            # Operational work is recent (its SLA clock runs), defects mostly this quarter's; the
            # rest accumulated over a year.
            age = timedelta(days=rng.randint(0, AGE_DAYS.get(kind, 400)))
            created = now - age - timedelta(minutes=rng.randint(0, 1440))
            item = Item(
                product=product,
                number=product.last_item_number + offset + 1,
                status=rng.choices(statuses, status_weights)[0],
                created_by=rng.choice(creators),
                created_at=created,
                updated_at=min(created + timedelta(days=rng.randint(0, 30)), now),
                **fields,
            )
            item.derive_fields()
            items.append(item)
        ordered = _plausible_order(rng, product, [i for i in items if i.is_ordered], now)
        ordered_ids = set(map(id, ordered))
        _unrefine(rng, [item for item in items if id(item) not in ordered_ids])
        for item in ordered[: round(len(ordered) * IN_PROGRESS_SHARE)]:
            item.status = Item.Status.IN_PROGRESS
        _give_keys_after(product, ordered)
        Item.objects.bulk_create(items, batch_size=INSERT_BATCH)
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


def _unrefine(rng: random.Random, items: list[Item]) -> None:
    """Leave some of ``items`` unrefined: no acceptance criteria yet, a value unsaid, or a story
    that is still an idea (nothing estimated or valued: it scores nothing, so it sinks)."""
    for item in items:
        if rng.random() < UNREFINED["acceptance_criteria"]:
            item.acceptance_criteria = ""
        if rng.random() < UNREFINED["value"]:
            item.risk_reduction = None
        if item.kind == Item.Kind.STORY and rng.random() < UNREFINED["idea"]:
            item.acceptance_criteria = ""
            item.estimate = item.business_value = item.time_criticality = item.risk_reduction = None


def _plausible_order(rng: random.Random, product: Product, items: list[Item], now) -> list[Item]:
    """Order ``items`` as an owner might, and leave the lower part partly unrefined.

    The top (the next few sprints) is refined and follows the scores closely; below it some items
    lack acceptance criteria or a value, and some stories are still ideas (nothing estimated or
    valued), which sink. Each item then strays from its place by score, a little at the top and
    more further down (``ORDER_SPREAD``), as an owner's judgement does.
    """

    def by_score(group: list[Item]) -> list[Item]:
        def score(item: Item) -> float:
            value = scoring.score(item, model=product.scoring_model, now=now, weights=product.score_weights).value
            return -1.0 if value is None else value

        return sorted(group, key=score, reverse=True)

    ranked = by_score(items)
    refined = round(len(ranked) * REFINED_SHARE)
    _unrefine(rng, ranked[refined:])
    ranked = ranked[:refined] + by_score(ranked[refined:])
    strayed = [(rank + rng.gauss(0, 1 + rank * ORDER_SPREAD), item) for rank, item in enumerate(ranked)]
    return [item for _, item in sorted(strayed, key=lambda pair: pair[0])]


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


DEMO_THEMES = [
    ("Checkout that converts", "#c2410c", 45, "Fewer abandoned carts: a shorter checkout, saved cards, clear errors."),
    ("Onboarding", "#2563eb", 90, "New accounts productive on **day one**."),
    ("Reliability", "#15803d", None, "Fewer incidents and faster recovery; the debt that causes them."),
]


def demo_themes_seed(*, product: Product, owner: User, seed: int = 1) -> tuple[int, int]:
    """Themes over the top of the order (target dates from today) and a few links between items:
    one blocker ordered above the item it blocks, and one below it (an order warning to see).
    Return (themes, links) made."""
    from backlog.services.links import link_create
    from backlog.services.themes import theme_create

    rng = random.Random(seed)
    today = timezone.localdate()
    themes = [
        theme_create(
            product=product,
            actor=owner,
            title=title,
            colour=colour,
            description=description,
            target_date=today + timedelta(days=days) if days else None,
        )
        for title, colour, days, description in DEMO_THEMES
    ]
    ordered = list(Item.objects.filter(product=product).ordered()[:60])
    for item in ordered:
        if rng.random() < 0.6:
            theme = themes[2] if item.kind in Item.TECHNICAL_KINDS else rng.choice(themes[:2])
            Item.objects.filter(pk=item.pk).update(theme=theme)
    links = 0
    if len(ordered) >= 12:
        link_create(item=ordered[1], actor=owner, link="blocks", other=ordered[5])
        link_create(item=ordered[11], actor=owner, link="blocks", other=ordered[3])  # the warning
        link_create(item=ordered[2], actor=owner, link="relates_to", other=ordered[7])
        links = 3
    return len(themes), links
