from django.db import models
from django.utils import timezone

from backlog.models import Item


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
