"""Refinement: questions on proposals, comments, stale flags, debt snapshots.

Proposals themselves are items in status ``proposed`` (backlog.Item, with their value case);
decisions on them are status changes in the item's history, with who, when and why.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Product
from backlog.models import Item


class Question(models.Model):
    """The product owner asks a proposer for more information; the proposal waits for the answer."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="questions")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    asked_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True, answer="") | (Q(answered_at__isnull=False) & ~Q(answer="")),
                name="question_answered_iff_answer",
            ),
            # One open question at a time: the proposal is either waiting for an answer or in the queue.
            models.UniqueConstraint(
                fields=["item"], condition=Q(answered_at__isnull=True), name="question_one_open_per_item"
            ),
        ]

    def __str__(self) -> str:
        return f"Question on {self.item_id}: {self.text[:40]}"

    @property
    def is_open(self) -> bool:
        return self.answered_at is None


class Comment(models.Model):
    """A member's comment on an item or proposal (Markdown, rendered sanitized)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(help_text="Markdown.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["item", "created_at"], name="comment_item_time")]

    def __str__(self) -> str:
        return f"Comment on {self.item_id} at {self.created_at:%Y-%m-%d %H:%M}"


class StaleFlag(models.Model):
    """An item of the backlog that nobody has touched for its product's stale period.

    Set by the scheduled job; an edit after ``flagged_at`` makes the flag obsolete, and the next
    run removes it.
    """

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="stale_flag")
    flagged_at = models.DateTimeField(default=timezone.now)
    untouched_since = models.DateTimeField(help_text="The item's last change when it was flagged.")

    class Meta:
        ordering = ["untouched_since"]

    def __str__(self) -> str:
        return f"{self.item} untouched since {self.untouched_since:%Y-%m-%d}"


class DebtSnapshot(models.Model):
    """The technical debt on a product's backlog on one day: the debt report's trend, and (the
    latest) its figures for a backlog too large to aggregate on a request."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="debt_snapshots")
    date = models.DateField()
    items = models.PositiveIntegerField(help_text="Technical-debt items in the backlog.")
    principal_points = models.PositiveIntegerField(help_text="Their estimates, in points.")
    unestimated = models.PositiveIntegerField(help_text="Debt items without an estimate (not in the principal).")
    interest_hours = models.DecimalField(max_digits=12, decimal_places=1, help_text="Hours lost per sprint.")
    composition = models.JSONField(
        default=dict, blank=True, help_text="The backlog by kind: {kind: {items, points}} (the debt report's bars)."
    )
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["product", "date"]
        constraints = [models.UniqueConstraint(fields=["product", "date"], name="debt_snapshot_one_per_day")]

    def __str__(self) -> str:
        return f"{self.product.key} debt on {self.date}"
