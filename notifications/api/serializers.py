from rest_framework import serializers

from config.api import ApiSerializer, StrictChoiceField
from notifications.models import Channel, Digest, Event


def _channel(event: Event) -> StrictChoiceField:
    return StrictChoiceField(
        choices=Channel.choices, required=False, help_text=f"{event.label}: both, in_app, email or none."
    )


class PreferencesSerializer(ApiSerializer):
    """Your notification preferences (the defaults until changed); to change some, send only those."""

    question = _channel(Event.QUESTION)
    answer = _channel(Event.ANSWER)
    decision = _channel(Event.DECISION)
    mention = _channel(Event.MENTION)
    watched = _channel(Event.WATCHED)
    sla_breach = _channel(Event.SLA_BREACH)
    digest = StrictChoiceField(
        choices=Digest.choices,
        required=False,
        help_text="E-mails: immediate (one per notification) or daily (one digest a day).",
    )


class WatchSerializer(serializers.Serializer):
    watching = serializers.BooleanField(help_text="Whether you watch the item.")
    watchers = serializers.IntegerField(help_text="How many people watch it.")
