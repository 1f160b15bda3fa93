"""Who hears of what: each user's preferences per event, and who watches which item.

The notifications themselves are ``accounts.Notification`` rows (the inbox, and the e-mail still
to send); this app decides who gets them (``notifications.services``).
"""

from django.conf import settings
from django.db import models


class Event(models.TextChoices):
    """The events a user chooses a channel for (an ``accounts.Notification`` kind maps to one)."""

    QUESTION = "question", "A question on your proposal"
    ANSWER = "answer", "An answer to your question"
    DECISION = "decision", "Your proposal accepted or rejected"
    MENTION = "mention", "An @mention in a comment"
    WATCHED = "watched", "A change or comment on an item you watch"
    SLA_BREACH = "sla_breach", "An SLA breach on an item you are assigned or watch"


class Channel(models.TextChoices):
    BOTH = "both", "In the inbox and by e-mail"
    IN_APP = "in_app", "In the inbox"
    EMAIL = "email", "By e-mail"
    NONE = "none", "Not at all"


class Digest(models.TextChoices):
    IMMEDIATE = "immediate", "One e-mail per notification, as it happens"
    DAILY = "daily", "One e-mail a day with everything since the last"


# What a user without a preferences row gets: everything addressed to them personally in both
# places; changes to watched items (the noisy one) in the inbox only.
DEFAULT_CHANNELS: dict[str, str] = {
    Event.QUESTION: Channel.BOTH,
    Event.ANSWER: Channel.BOTH,
    Event.DECISION: Channel.BOTH,
    Event.MENTION: Channel.BOTH,
    Event.WATCHED: Channel.IN_APP,
    Event.SLA_BREACH: Channel.BOTH,
}
IN_APP_CHANNELS = (Channel.BOTH, Channel.IN_APP)
EMAIL_CHANNELS = (Channel.BOTH, Channel.EMAIL)


def _channel_field(event: Event) -> models.CharField:
    return models.CharField(
        max_length=10, choices=Channel.choices, default=DEFAULT_CHANNELS[event], help_text=event.label
    )


class Preferences(models.Model):
    """One user's channel per event and e-mail digest; no row means the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="notification_preferences"
    )
    question = _channel_field(Event.QUESTION)
    answer = _channel_field(Event.ANSWER)
    decision = _channel_field(Event.DECISION)
    mention = _channel_field(Event.MENTION)
    watched = _channel_field(Event.WATCHED)
    sla_breach = _channel_field(Event.SLA_BREACH)
    digest = models.CharField(max_length=10, choices=Digest.choices, default=Digest.IMMEDIATE)
    digest_sent_on = models.DateField(
        null=True, blank=True, help_text="The day (in the user's time zone) of the last daily digest."
    )

    class Meta:
        verbose_name_plural = "notification preferences"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    *[(f"{event}__in", Channel.values) for event in Event.values], digest__in=Digest.values
                ),
                name="notification_preferences_known_values",
            )
        ]

    def __str__(self) -> str:
        return f"Notification preferences of {self.user_id}"

    def channel(self, event: str) -> str:
        return getattr(self, event)


class Watch(models.Model):
    """``user`` hears of changes and comments on ``item`` (authors and proposers watch their items)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches")
    item = models.ForeignKey("backlog.Item", on_delete=models.CASCADE, related_name="watches")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "user"], name="watch_once_per_user_item")]
        indexes = [models.Index(fields=["user"], name="watch_user")]

    def __str__(self) -> str:
        return f"{self.user_id} watches {self.item_id}"
