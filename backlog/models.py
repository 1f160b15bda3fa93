import uuid
from datetime import datetime, timedelta
from types import MappingProxyType

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact, GreaterThan
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.models import Product
from backlog.exceptions import VersionConflict
from backlog.fields import RankKeyField
from backlog.readiness import ready_q

# The scale of the WSJF value inputs (a modified Fibonacci sequence).
VALUE_SCALE = (1, 2, 3, 5, 8, 13, 20)
VALUE_CHOICES = [(v, str(v)) for v in VALUE_SCALE]


class Label(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["product", "name"], name="label_unique_per_product")]

    def __str__(self) -> str:
        return self.name


def item_key(product_key: str, number: int) -> str:
    """The key people call an item by: its product's key and its number, as in OB-42."""
    return f"{product_key}-{number}"


class ItemQuerySet(models.QuerySet):
    def in_order(self) -> "ItemQuerySet":
        """The items in the backlog order: open and in progress (they hold a rank key)."""
        return self.filter(rank__isnull=False)

    def ordered(self) -> "ItemQuerySet":
        """The backlog: the items in the order, sorted by it."""
        return self.in_order().order_by("rank")

    def ready(self, product: Product) -> "ItemQuerySet":
        """The items meeting ``product``'s Definition of Ready (backlog/readiness.py)."""
        return self.filter(ready_q(product))

    def not_ready(self, product: Product) -> "ItemQuerySet":
        return self.exclude(ready_q(product))


# The item's fields by group, named once: who may set them (backlog.services.items), what a
# created record carries (backlog.history), the export's columns and bulk edit all build on these.
KIND_INPUTS = ("severity", "interest_hours", "timebox_days", "question", "impact", "urgency")
VALUE_FIELDS = (
    "business_value",
    "time_criticality",
    "risk_reduction",
    "rice_reach",
    "rice_impact",
    "rice_confidence",
    "rice_effort",
    "moscow",
)
VALUE_CASE = ("value_beneficiaries", "value_cost_of_delay", "value_risk_removed")
# Set by the item itself from other fields (Item.derive_fields); recorded in the history too.
DERIVED_FIELDS = ("itil_priority", "sla_due_at")


# A rank key longer than this is respaced by the schedule (``backlog.tasks.rebalance_long_keys``);
# the hard limit is settings.ORDER_KEY_MAX_LENGTH, which moves never exceed. Inserts into one gap
# again and again lengthen keys there: about 180 in a row reach 33 characters.
LONG_KEY = 32


class Item(models.Model):
    """One entry of a product's backlog, of one of five kinds."""

    class Kind(models.TextChoices):
        STORY = "story", "Story"
        DEFECT = "defect", "Defect"
        TECH_DEBT = "tech_debt", "Technical debt"
        SPIKE = "spike", "Spike"
        OPERATIONAL = "operational", "Operational"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        REJECTED = "rejected", "Rejected"
        ARCHIVED = "archived", "Archived"

    class Severity(models.TextChoices):
        CRITICAL = "critical", "Critical"
        MAJOR = "major", "Major"
        MINOR = "minor", "Minor"
        TRIVIAL = "trivial", "Trivial"

    class Level(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class MoSCoW(models.TextChoices):
        MUST = "must", "Must have"
        SHOULD = "should", "Should have"
        COULD = "could", "Could have"
        WONT = "wont", "Won't have (this time)"

    class RiceImpact(models.TextChoices):
        MASSIVE = "3", "Massive (3)"
        HIGH = "2", "High (2)"
        MEDIUM = "1", "Medium (1)"
        LOW = "0.5", "Low (0.5)"
        MINIMAL = "0.25", "Minimal (0.25)"

    ORDERED_STATUSES = (Status.OPEN, Status.IN_PROGRESS)
    # What an item leaving the order loses, in the same write (``item_ranked_iff_in_backlog``,
    # ``item_suggested_only_in_order``): for ``QuerySet.update``; ``leave_order`` in memory.
    OUT_OF_ORDER = MappingProxyType({"rank": None, "suggested_position": None})
    # Their proposals carry a value case (``value_case_errors``).
    TECHNICAL_KINDS = (Kind.TECH_DEBT, Kind.SPIKE, Kind.OPERATIONAL)

    # No index of its own: every look-up by product uses one of the indexes below that start with
    # it (item_product_id among them), and each index is one more write per move.
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="items", db_index=False)
    number = models.PositiveIntegerField(editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.STORY)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    acceptance_criteria = models.TextField(blank=True, help_text="Markdown.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED, editable=False)
    rank = RankKeyField(
        max_length=255,
        null=True,
        blank=True,
        editable=False,
        help_text="Position key; empty when not in the order.",
    )
    estimate = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Story points.")

    # Value inputs (WSJF on the 1, 2, 3, 5, 8, 13, 20 scale; RICE; MoSCoW).
    business_value = models.PositiveSmallIntegerField(null=True, blank=True, choices=VALUE_CHOICES)
    time_criticality = models.PositiveSmallIntegerField(null=True, blank=True, choices=VALUE_CHOICES)
    risk_reduction = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        choices=VALUE_CHOICES,
        help_text="Risk reduction / opportunity enablement.",
    )
    rice_reach = models.PositiveIntegerField(null=True, blank=True, help_text="People or events per quarter.")
    rice_impact = models.CharField(max_length=4, blank=True, choices=RiceImpact.choices)
    rice_confidence = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)], help_text="Percent."
    )
    rice_effort = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Person-months.",
    )
    moscow = models.CharField("MoSCoW", max_length=10, blank=True, choices=MoSCoW.choices)

    # Kind-specific inputs.
    severity = models.CharField(max_length=10, blank=True, choices=Severity.choices, help_text="Defects.")
    interest_hours = models.DecimalField(
        max_digits=7,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Technical debt: hours lost per sprint while it stays.",
    )
    timebox_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Spikes: days.",
    )
    question = models.TextField(blank=True, help_text="Spikes: the question to answer.")
    impact = models.CharField(max_length=10, blank=True, choices=Level.choices, help_text="Operational items.")
    urgency = models.CharField(max_length=10, blank=True, choices=Level.choices, help_text="Operational items.")
    itil_priority = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="Derived from impact × urgency: 1 (P1) to 5 (P5).",
    )
    sla_due_at = models.DateTimeField(null=True, blank=True, editable=False)

    # The value case of a proposal: why the work is worth doing. Technical proposals need it.
    value_beneficiaries = models.TextField("who benefits", blank=True, help_text="Who benefits, and how.")
    value_cost_of_delay = models.TextField(
        "cost of not doing it",
        blank=True,
        help_text="What it costs not to do it (for technical debt, the interest says it in hours per sprint).",
    )
    value_risk_removed = models.TextField("risk removed", blank=True, help_text="What risk it removes.")

    # Advisory prioritization score (see backlog/scoring.py), kept fresh by background jobs.
    score = models.FloatField(null=True, blank=True, editable=False)
    score_breakdown = models.JSONField(default=dict, blank=True, editable=False, encoder=DjangoJSONEncoder)
    score_computed_at = models.DateTimeField(null=True, blank=True, editable=False)
    pinned = models.BooleanField(default=False, help_text="Applying the suggested order leaves pinned items in place.")
    suggested_position = models.PositiveIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="Where the scores put the item in the order (kept fresh by a background job; none out of it).",
    )

    split_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="split_into",
    )
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
        help_text="The item a rejected proposal duplicates.",
    )
    labels = models.ManyToManyField(Label, blank=True, related_name="items")
    external_ref = models.CharField(
        "external reference",
        max_length=100,
        blank=True,
        help_text="The item's id in another system (a Jira key, say): unique in the product; import matches on it.",
    )
    theme = models.ForeignKey(
        "Theme",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
        help_text="The theme (epic) the item belongs to, at most one.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_items",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ItemQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "number"], name="item_number_unique_per_product"),
            models.UniqueConstraint(fields=["product", "rank"], name="item_rank_unique_per_product"),
            models.UniqueConstraint(
                fields=["product", "external_ref"],
                condition=~Q(external_ref=""),
                name="item_external_ref_unique_per_product",
            ),
            models.CheckConstraint(
                condition=(Q(status__in=["open", "in_progress"]) & Q(rank__isnull=False))
                | (~Q(status__in=["open", "in_progress"]) & Q(rank__isnull=True)),
                name="item_ranked_iff_in_backlog",
            ),
            # An item leaving the order drops its suggested position in the same write, so no
            # index needs to find the ones left holding one: with ``suggested_position`` named by
            # no index, the suggestion refresh's writes can be HOT (no new index entries).
            models.CheckConstraint(
                condition=Q(rank__isnull=False) | Q(suggested_position__isnull=True),
                name="item_suggested_only_in_order",
            ),
            models.CheckConstraint(
                condition=(Q(kind="defect") & ~Q(severity="")) | (~Q(kind="defect") & Q(severity="")),
                name="item_severity_iff_defect",
            ),
            models.CheckConstraint(
                condition=(Q(kind="tech_debt") & Q(interest_hours__isnull=False))
                | (~Q(kind="tech_debt") & Q(interest_hours__isnull=True)),
                name="item_interest_iff_tech_debt",
            ),
            models.CheckConstraint(
                condition=(Q(kind="spike") & Q(timebox_days__isnull=False) & ~Q(question=""))
                | (~Q(kind="spike") & Q(timebox_days__isnull=True) & Q(question="")),
                name="item_timebox_question_iff_spike",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="operational")
                    & ~Q(impact="")
                    & ~Q(urgency="")
                    & Q(itil_priority__gte=1, itil_priority__lte=5)
                )
                | (
                    ~Q(kind="operational")
                    & Q(impact="")
                    & Q(urgency="")
                    & Q(itil_priority__isnull=True)
                    & Q(sla_due_at__isnull=True)
                ),
                name="item_impact_urgency_iff_operational",
            ),
            models.CheckConstraint(
                condition=Q(rice_confidence__isnull=True) | Q(rice_confidence__lte=100),
                name="item_rice_confidence_percent",
            ),
        ]
        indexes = [
            models.Index(fields=["product", "status"], name="item_product_status"),
            models.Index(fields=["product", "kind"], name="item_product_kind"),
            models.Index(fields=["product", "updated_at"], name="item_product_updated"),
            models.Index(fields=["product", "score"], name="item_product_score"),
            # Whole-product jobs walk a product in key ranges of ids (backlog.services.scores).
            models.Index(fields=["product", "id"], name="item_product_id"),
            # The debt report's costliest debt: the first few of this index, not a sort of all debt.
            models.Index(
                fields=["product", "-interest_hours", "number"],
                condition=Q(kind="tech_debt", rank__isnull=False),
                name="item_debt_by_interest",
            ),
            # The unpinned items of the order by score: where a newcomer's score puts it
            # (backlog.services.suggestion.suggested_positions_for_new), one index look-up.
            models.Index(
                fields=["product", "-score", "rank"],
                condition=Q(rank__isnull=False, pinned=False),
                name="item_movable_by_score",
            ),
            # A theme's last item in the order (the roadmap): the first of this index, read
            # backwards, whatever the theme's size.
            models.Index(fields=["theme", "rank"], condition=Q(rank__isnull=False), name="item_theme_order"),
            # The keys the schedule respaces (longer than LONG_KEY: backlog.tasks.rebalance_long_keys),
            # found without reading every key; usually empty.
            models.Index(
                fields=["product", "rank"],
                condition=Q(GreaterThan(Length("rank"), LONG_KEY)),
                name="item_long_rank",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("item", args=[self.product.key, self.number])

    @property
    def key(self) -> str:
        return item_key(self.product.key, self.number)

    @property
    def is_ordered(self) -> bool:
        return self.status in self.ORDERED_STATUSES

    def leave_order(self) -> None:
        """Set what an item out of the order holds (``OUT_OF_ORDER``), without saving."""
        for name, value in self.OUT_OF_ORDER.items():
            setattr(self, name, value)

    @property
    def etag(self) -> str:
        """The item's content version as an HTTP entity tag (moves do not change it)."""
        return f'"{self.pk}-{self.version}"'

    def check_version(self, expected: int | None) -> None:
        """Raise VersionConflict unless the item is at ``expected`` (None: any version).

        Call it on the row locked for the write, so nothing changes it between check and write.
        """
        if expected is not None and self.version != expected:
            raise VersionConflict(expected=expected, current=self.version, etag=self.etag)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        kind_fields = {
            self.Kind.DEFECT: {"severity": "A defect needs a severity: critical, major, minor or trivial."},
            self.Kind.TECH_DEBT: {"interest_hours": "Technical debt needs its interest: hours lost per sprint."},
            self.Kind.SPIKE: {
                "timebox_days": "A spike needs a timebox in days.",
                "question": "A spike needs the question it answers.",
            },
            self.Kind.OPERATIONAL: {
                "impact": "An operational item needs an impact: high, medium or low.",
                "urgency": "An operational item needs an urgency: high, medium or low.",
            },
        }
        for kind, fields in kind_fields.items():
            for field, message in fields.items():
                value = getattr(self, field)
                present = value not in (None, "")
                if self.kind == kind and not present:
                    errors[field] = message
                elif self.kind != kind and present:
                    errors[field] = f"Only items of kind {kind.label.lower()} have this field; leave it empty."
        if errors:
            raise ValidationError(errors)

    def value_case_errors(self) -> dict[str, str]:
        """What a technical proposal's value case lacks: who benefits, the cost of not doing it
        (technical debt states it as its interest per sprint), the risk it removes."""
        if self.kind not in self.TECHNICAL_KINDS:
            return {}
        errors = {}
        if not self.value_beneficiaries.strip():
            errors["value_beneficiaries"] = "Say who benefits from this work, and how."
        if self.kind == self.Kind.TECH_DEBT:
            if self.interest_hours is None:
                errors["interest_hours"] = "Say what the debt costs: hours lost per sprint while it stays."
        elif not self.value_cost_of_delay.strip():
            errors["value_cost_of_delay"] = "Say what it costs not to do this."
        if not self.value_risk_removed.strip():
            errors["value_risk_removed"] = "Say what risk this removes."
        return errors

    def derive_fields(self, now: datetime | None = None) -> None:
        """Set the fields derived from others: ITIL priority and SLA due time."""
        if self.kind == self.Kind.OPERATIONAL and self.impact and self.urgency:
            self.itil_priority = itil_priority(self.impact, self.urgency)
            created = self.created_at or now or timezone.now()
            self.sla_due_at = created + timedelta(hours=self.product.sla_hours_for(self.itil_priority))
        else:
            self.itil_priority = None
            self.sla_due_at = None


_LEVEL_SCORE = {"high": 1, "medium": 2, "low": 3}


def itil_priority(impact: str, urgency: str) -> int:
    """Return the ITIL priority (1 = P1 … 5 = P5) of an impact × urgency pair.

    The usual 3×3 matrix: high/high is P1, low/low is P5, each step down in either adds one.
    """
    return _LEVEL_SCORE[impact] + _LEVEL_SCORE[urgency] - 1


class ItemEvent(models.Model):
    """One entry of an item's history: created, edited, status changed, moved, asked, answered, split."""

    class Type(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Edited"
        STATUS_CHANGED = "status_changed", "Status changed"
        MOVED = "moved", "Moved"
        QUESTION_ASKED = "question_asked", "Question asked"
        QUESTION_ANSWERED = "question_answered", "Question answered"
        SPLIT = "split", "Split"
        LINKED = "linked", "Linked"
        UNLINKED = "unlinked", "Unlinked"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="events")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="item_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    type = models.CharField(max_length=20, choices=Type.choices)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(blank=True)
    operation = models.UUIDField(
        default=uuid.uuid4,
        editable=False,
        help_text="Shared by the records of one operation (a block move).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    seq = models.PositiveBigIntegerField(
        "sequence",
        editable=False,
        help_text="Its place in the product's change feed: 1, 2, 3, … in commit order (backlog.history.write).",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["item", "created_at"], name="event_item_time"),
            models.Index(fields=["product", "created_at"], name="event_product_time"),
            models.Index(fields=["item", "seq"], name="event_item_seq"),
        ]
        constraints = [models.UniqueConstraint(fields=["product", "seq"], name="event_seq_unique_per_product")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.item_id} at {self.created_at:%Y-%m-%d %H:%M}"


class ChangeSequence(models.Model):
    """A product's change-feed counter: the number of its latest history record
    (``backlog.history.write`` advances it; a row of its own, so taking it never waits on the
    product row the service's folds share)."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, primary_key=True, related_name="+")
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"change feed of product {self.product_id} at {self.last_seq}"


class OrderBlock(models.Model):
    """A run of a product's order and how many items it holds: the order-statistics index.

    A block holds the ordered items whose keys are at least ``low`` and below the next block's
    ``low`` (a product's first block starts at ``''``, below every key). Database triggers keep
    ``size`` exact whatever writes an item's key (``backlog/migrations/0011_order_blocks.py``) and
    split a block that grows past ``order_sql.BLOCK_SPLIT_ABOVE`` items; ``backlog.order_sql``
    reads them to find an item's position, or the item at a position, by summing a few hundred
    block sizes and counting within one block instead of counting the order up to it.
    """

    # The unique (product, low) index serves every look-up; no index of its own.
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+", db_index=False)
    low = RankKeyField(max_length=255, blank=True)
    size = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "low"], name="order_block_low_unique")]

    def __str__(self) -> str:
        return f"block of product {self.product_id} from {self.low or 'the top'}: {self.size} items"


class StaleSuggestions(models.Model):
    """A product whose stored suggested positions wait for a refresh (jobs in-process only).

    In the database rather than the cache, so that every process sees the mark: the one that
    changed the order (a page, a command, the embedded schedule) and the one serving the next page.
    """

    product = models.OneToOneField(Product, on_delete=models.CASCADE, primary_key=True, related_name="+")
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "stale suggestions"

    def __str__(self) -> str:
        return f"suggested positions of product {self.product_id} stale since {self.marked_at:%Y-%m-%d %H:%M}"


class SuggestedMove(models.Model):
    """One of the items the scores would move most in a product's order, as the last refresh of
    the stored suggested positions found it (``backlog.services.suggestion``).

    The refresh keeps the few hundred largest drifts here, so that the suggested-order list reads
    that many rows instead of sorting the whole order by drift per request. A drift stored on
    every item instead would change with every move above it (positions shift), and each refresh
    would rewrite every row below the move.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    place = models.PositiveIntegerField(help_text="1 for the largest drift (ties: the higher item first).")
    position = models.PositiveIntegerField(help_text="Where the item stood at the refresh.")
    suggested_position = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "place"], name="suggested_move_place_unique")]

    def __str__(self) -> str:
        return f"item {self.item_id}: {self.position} -> {self.suggested_position}"


class SavedView(models.Model):
    """A named set of backlog filters and shown columns, private to its author or shared with the
    product's members. Its filters are the backlog list's parameters (``backlog.filters``), checked
    by ``backlog.services.saved_views`` when saved."""

    COLUMNS = ("estimate", "score", "ready", "age")  # the backlog page's columns a view may hide

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="saved_views")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    filters = models.JSONField(
        default=dict, blank=True, help_text="Backlog list parameters, as query-string values (lists comma-separated)."
    )
    columns = models.JSONField(default=list, blank=True, help_text="The optional columns shown; empty: all.")
    shared = models.BooleanField(default=False, help_text="Shown to every member of the product.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "created_by", "name"], name="saved_view_name_per_author"),
        ]
        indexes = [models.Index(fields=["product", "shared"], name="saved_view_product_shared")]

    def __str__(self) -> str:
        return f"{self.name} ({'shared' if self.shared else 'private'})"

    def get_absolute_url(self) -> str:
        """The backlog page with the view's filters and columns applied."""
        params = dict(self.filters)
        hidden = [column for column in self.COLUMNS if self.columns and column not in self.columns]
        query = urlencode({**params, "view": self.pk}) + "".join(f"&hide={column}" for column in hidden)
        return reverse("backlog", args=[self.product.key]) + "?" + query


class Import(models.Model):
    """One CSV import into a product: the uploaded rows, their preview, and once run its result.

    Kept after it ran, so what it created, updated and skipped (with reasons) stays readable.
    """

    class Source(models.TextChoices):
        ONEBACKLOG = "onebacklog", "OneBacklog export"
        JIRA = "jira", "Jira CSV export"

    class State(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Placing(models.TextChoices):
        TOP = "top", "At the top"
        BOTTOM = "bottom", "At the bottom"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    placing = models.CharField(max_length=10, choices=Placing.choices, default=Placing.BOTTOM)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PREVIEWED)
    preview = models.JSONField(default=dict, blank=True, help_text="What the rows would do: counts and the first rows.")
    errors = models.JSONField(default=list, blank=True, help_text="Per-row validation errors of the preview.")
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0, help_text="Rows written so far (progress).")
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(
        default=list, blank=True, help_text="Rows skipped, each with its reason (the first 1,000)."
    )
    skipped_count = models.PositiveIntegerField(default=0, help_text="Rows skipped in all.")
    failure = models.TextField(blank=True, help_text="Why the import failed; nothing was written.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "created_at"], name="import_product_time")]

    def __str__(self) -> str:
        return f"import {self.pk} into product {self.product_id} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)


class ImportChunk(models.Model):
    """A piece of an import's uploaded file (about ``CHUNK_SIZE`` lines of its text, cut at line
    ends), so the preview and the run read the file one piece at a time, never whole."""

    upload = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField(help_text="The piece's place in the file, from 0.")
    text = models.TextField()

    class Meta:
        ordering = ["upload", "index"]
        constraints = [models.UniqueConstraint(fields=["upload", "index"], name="import_chunk_unique_index")]

    def __str__(self) -> str:
        return f"piece {self.index} of import {self.upload_id}"


COLOUR_VALIDATOR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Give a colour as #rrggbb, for example #3366cc.")


class Theme(models.Model):
    """A product's theme (an epic, a line of the roadmap): items belong to at most one."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="themes")
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True, help_text="Markdown.")
    colour = models.CharField(max_length=7, default="#3366cc", validators=[COLOUR_VALIDATOR], help_text="#rrggbb.")
    target_date = models.DateField(null=True, blank=True, help_text="When it should be delivered, if promised.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "title"], name="theme_title_unique_per_product"),
            models.CheckConstraint(
                condition=Q(Exact(Length("colour"), 7), colour__startswith="#"), name="theme_colour_hex"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("theme", args=[self.product.key, self.pk])


class ItemLink(models.Model):
    """A link between two items of one product: ``source`` blocks ``target``, or the two relate
    (stored once, the lower id as ``source``). Split-from and duplicate-of are the items' own
    fields; ``backlog.links`` shows all of them on both ends."""

    class Kind(models.TextChoices):
        BLOCKS = "blocks", "Blocks"
        RELATES = "relates", "Relates to"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="item_links")
    source = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="item_link_unique"),
            models.CheckConstraint(condition=~Q(source=F("target")), name="item_link_not_to_itself"),
            models.CheckConstraint(
                condition=Q(kind="blocks") | Q(source__lt=F("target")), name="item_link_relates_stored_once"
            ),
        ]
        indexes = [models.Index(fields=["target", "kind"], name="item_link_target_kind")]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"
