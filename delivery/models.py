"""Delivery: the capacity allocation and Definition of Done of a product, its sprints, waivers and
retrospective actions. Every delivery record lives here, so accounts and backlog stay as they are."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from accounts.models import Product
from backlog.models import Item


class WorkClass(models.TextChoices):
    """The classes of work a sprint's capacity is shared between (spikes count as features)."""

    FEATURES = "features", "Features"
    DEFECTS = "defects", "Defects"
    DEBT = "debt", "Technical debt"
    OPERATIONAL = "operational", "Operational"


KIND_CLASS = {
    Item.Kind.STORY: WorkClass.FEATURES,
    Item.Kind.SPIKE: WorkClass.FEATURES,
    Item.Kind.DEFECT: WorkClass.DEFECTS,
    Item.Kind.TECH_DEBT: WorkClass.DEBT,
    Item.Kind.OPERATIONAL: WorkClass.OPERATIONAL,
}
SHARE_FIELDS = {
    WorkClass.FEATURES: "feature_share",
    WorkClass.DEFECTS: "defect_share",
    WorkClass.DEBT: "debt_share",
    WorkClass.OPERATIONAL: "operational_share",
}
MAX_DOD_ENTRIES = 30
MAX_DOD_ENTRY_LENGTH = 200


def work_class(kind: str) -> str:
    return KIND_CLASS.get(kind, WorkClass.FEATURES)


def validate_definition_of_done(value) -> None:
    """A list of distinct, non-empty entries of at most 200 characters; at most 30 of them."""
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        raise ValidationError("The Definition of Done is a list of entries (text).")
    entries = [entry.strip() for entry in value]
    if any(not entry for entry in entries):
        raise ValidationError("An entry of the Definition of Done cannot be empty.")
    if any(len(entry) > MAX_DOD_ENTRY_LENGTH for entry in entries):
        raise ValidationError(f"An entry is at most {MAX_DOD_ENTRY_LENGTH} characters.")
    if len(set(entries)) != len(entries):
        raise ValidationError("Each entry of the Definition of Done appears once.")
    if len(entries) > MAX_DOD_ENTRIES:
        raise ValidationError(f"At most {MAX_DOD_ENTRIES} entries.")


def _share_field(help_text: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)], help_text=help_text
    )


class DeliverySettings(models.Model):
    """A product's capacity allocation and Definition of Done (one row per product, made on first edit)."""

    class WaiverDebt(models.TextChoices):
        PROPOSED = "proposed", "Proposed for review"
        PLACED = "placed", "Placed at the bottom of the order"

    product = models.OneToOneField(Product, on_delete=models.CASCADE, primary_key=True, related_name="delivery")
    feature_share = _share_field("Target share of sprint capacity for features (stories, spikes), percent.")
    defect_share = _share_field("Target share of sprint capacity for defects, percent.")
    debt_share = _share_field("Target share of sprint capacity for technical debt, percent.")
    operational_share = _share_field("Capacity held back for interrupts (not planned with items), percent.")
    definition_of_done = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_definition_of_done],
        help_text="The checklist an item meets to be done (release quality, tests, documentation, …).",
    )
    waiver_debt = models.CharField(
        max_length=10,
        choices=WaiverDebt.choices,
        default=WaiverDebt.PROPOSED,
        help_text="Where the technical-debt item a waiver creates goes.",
    )
    wip_limits = models.JSONField(
        default=dict,
        blank=True,
        help_text="Optional work-in-progress limit per board column (open, in_progress): a warning, not a block.",
    )

    class Meta:
        verbose_name_plural = "delivery settings"
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(
                    Coalesce(F("feature_share"), Value(0))
                    + Coalesce(F("defect_share"), Value(0))
                    + Coalesce(F("debt_share"), Value(0))
                    + Coalesce(F("operational_share"), Value(0)),
                    100,
                ),
                name="delivery_shares_at_most_100",
                violation_error_message="The shares add up to at most 100 %.",
            ),
        ]

    def __str__(self) -> str:
        return f"Delivery settings of {self.product.key}"

    def clean(self) -> None:
        if sum(share or 0 for share in self.shares.values()) > 100:
            raise ValidationError("The shares add up to at most 100 %.")
        unknown = set(self.wip_limits or {}) - {"open", "in_progress"}
        if unknown or not all(
            isinstance(limit, int) and not isinstance(limit, bool) and limit >= 1
            for limit in (self.wip_limits or {}).values()
        ):
            raise ValidationError({"wip_limits": "Give open and in_progress limits as whole numbers of 1 or more."})

    @property
    def shares(self) -> dict[str, int | None]:
        return {work: getattr(self, field) for work, field in SHARE_FIELDS.items()}

    @property
    def targets(self) -> dict[str, int]:
        """The classes planning fills to a target (the operational share is a buffer, not a target)."""
        return {work: share for work, share in self.shares.items() if share and work != WorkClass.OPERATIONAL}


class Sprint(models.Model):
    """A time-box that takes a slice of the one order: its items keep their rank."""

    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    class CarryOver(models.TextChoices):
        STAY = "stay", "Stay where they stand"
        TOP = "top", "Go to the top"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="sprints")
    number = models.PositiveIntegerField(editable=False)
    name = models.CharField(max_length=100)
    goal = models.TextField(blank=True)
    start_date = models.DateField()
    end_date = models.DateField()
    capacity = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(10_000)])
    state = models.CharField(max_length=10, choices=State.choices, default=State.PLANNED, editable=False)
    committed_at = models.DateTimeField(null=True, blank=True, editable=False)
    plan_reason = models.TextField(blank=True, editable=False, help_text="Why a plan that misses a target was kept.")
    policy = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        encoder=DjangoJSONEncoder,
        help_text="The shares and targets at commit and at close (committed and done points per class).",
    )
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    carry_over = models.CharField(max_length=5, choices=CarryOver.choices, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["product", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["product", "number"], name="sprint_number_unique_per_product"),
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(state="active"),
                name="sprint_one_active_per_product",
                violation_error_message="Another sprint of this product is active; close it first.",
            ),
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="sprint_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="sprint_capacity_positive"),
            models.CheckConstraint(condition=Q(state__in=["planned", "active", "closed"]), name="sprint_state_valid"),
            models.CheckConstraint(
                condition=~Q(state="active") | Q(committed_at__isnull=False), name="sprint_active_is_committed"
            ),
            models.CheckConstraint(
                condition=(Q(state="closed") & Q(closed_at__isnull=False))
                | (~Q(state="closed") & Q(closed_at__isnull=True)),
                name="sprint_closed_iff_closed_at",
            ),
        ]
        indexes = [models.Index(fields=["product", "state"], name="sprint_product_state")]

    def __str__(self) -> str:
        return f"{self.product.key} {self.name}"

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "A sprint ends on or after the day it starts."})


class SprintItem(models.Model):
    """An item committed to a sprint, its points and class as committed, and when it was done in it."""

    sprint = models.ForeignKey(Sprint, on_delete=models.CASCADE, related_name="entries")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="sprint_entries")
    work_class = models.CharField(max_length=12, choices=WorkClass.choices)
    points = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The estimate at commit.")
    done_at = models.DateTimeField(null=True, blank=True, help_text="When the item was done in this sprint.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sprint", "item"], name="sprint_item_once_per_sprint"),
            models.UniqueConstraint(
                fields=["item"], condition=Q(done_at__isnull=False), name="sprint_item_done_in_one_sprint"
            ),
        ]
        indexes = [models.Index(fields=["item"], name="sprint_item_item")]

    def __str__(self) -> str:
        return f"{self.item_id} in {self.sprint_id}"


class SprintEvent(models.Model):
    """The history of a sprint: committed (with the policy figures), started, closed."""

    class Type(models.TextChoices):
        COMMITTED = "committed", "Committed"
        STARTED = "started", "Started"
        CLOSED = "closed", "Closed"

    sprint = models.ForeignKey(Sprint, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    type = models.CharField(max_length=12, choices=Type.choices)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.sprint_id}"


class DodWaiver(models.Model):
    """An entry of the Definition of Done an item was done without, and the debt item it created."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="dod_waivers")
    sprint = models.ForeignKey(Sprint, null=True, blank=True, on_delete=models.SET_NULL, related_name="waivers")
    entry = models.CharField(max_length=MAX_DOD_ENTRY_LENGTH)
    reason = models.TextField()
    debt_item = models.OneToOneField(
        Item,
        null=True,
        on_delete=models.SET_NULL,
        related_name="waiver_of",
        help_text="The technical-debt item the waiver created (kept as a record if that item is deleted).",
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "entry"], name="waiver_once_per_item_entry"),
            models.CheckConstraint(condition=~Q(reason=""), name="waiver_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.entry} waived on {self.item_id}"


class RetroAction(models.Model):
    """An action from a closed sprint's retrospective; it may become a technical-debt proposal."""

    sprint = models.ForeignKey(Sprint, on_delete=models.CASCADE, related_name="actions")
    text = models.CharField(max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    debt_item = models.OneToOneField(
        Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="retro_action"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text
