from rest_framework import serializers

from backlog.models import Item
from config.api import (
    ApiModelSerializer,
    ApiSerializer,
    StrictCharField,
    StrictChoiceField,
    StrictDecimalField,
    StrictIntegerField,
)
from service.models import Queue, ServiceSettings, Ticket
from service.services.settings import SETTINGS_FIELDS


class IntakeSerializer(ApiSerializer):
    title = StrictCharField(max_length=200)
    description = StrictCharField(required=False, allow_blank=True, default="", max_length=20_000)
    queue = StrictCharField(max_length=40, help_text="The queue's slug, e.g. database.")
    affected_users = StrictIntegerField(required=False, default=0, min_value=0, max_value=2_000_000_000)
    urgency = StrictChoiceField(choices=Item.Level.choices)
    impact = StrictChoiceField(
        choices=Item.Level.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Leave out to derive it from affected users by the product's thresholds.",
    )
    reporter = StrictCharField(required=False, allow_blank=True, default="", max_length=200)
    external_ref = StrictCharField(required=False, allow_blank=True, default="", max_length=200)
    fingerprint = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text="What makes two tickets the same problem: a ticket with an open one's fingerprint folds into it.",
    )


class ClockSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=["response", "resolution"])
    state = serializers.ChoiceField(choices=["running", "waiting", "met", "breached"])
    target_seconds = serializers.IntegerField()
    due_at = serializers.DateTimeField(allow_null=True)
    left_seconds = serializers.FloatField(
        allow_null=True, help_text="Working time left; negative: breached by that much. Null once met."
    )
    met_at = serializers.DateTimeField(allow_null=True)
    breached_at = serializers.DateTimeField(allow_null=True)
    label = serializers.CharField(help_text="In words: '2 h 5 min left', 'breached by 12 min', 'met'.")


class TicketSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="item.pk")
    key = serializers.CharField(source="item.key")
    title = serializers.CharField(source="item.title")
    status = serializers.CharField(source="item.status")
    queue = serializers.CharField(source="queue.slug")
    fingerprint = serializers.CharField()
    reporter = serializers.CharField()
    external_ref = serializers.CharField()
    affected_users = serializers.IntegerField()
    impact = serializers.CharField(source="item.impact")
    impact_given = serializers.CharField(help_text="Blank: derived from affected users.")
    urgency = serializers.CharField(source="item.urgency")
    priority = serializers.SerializerMethodField()
    priority_why = serializers.JSONField(help_text="The calculation: affected users, thresholds, impact, formula.")
    score = serializers.FloatField(source="item.score", allow_null=True)
    occurrence_count = serializers.IntegerField()
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    waiting = serializers.BooleanField()
    assignee = serializers.CharField(source="assignee.username", allow_null=True, default=None)
    cause = serializers.CharField(
        source="cause.key", allow_null=True, default=None, help_text="The causing item's key."
    )
    hours_lost = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True, coerce_to_string=False)
    clocks = serializers.SerializerMethodField()

    def get_priority(self, ticket: Ticket) -> str:
        return f"P{ticket.item.itil_priority}"

    def get_clocks(self, ticket: Ticket) -> list[dict]:
        clocks = self.context["clocks"](ticket)
        return ClockSerializer([{**clock.__dict__, "label": clock.label} for clock in clocks], many=True).data

    get_clocks.__annotations__ = {"return": ClockSerializer(many=True)}


class IntakeResultSerializer(TicketSerializer):
    folded = serializers.BooleanField(help_text="True: folded into an open ticket with the same fingerprint.")


class QueueSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")

    class Meta:
        model = Queue
        fields = ["slug", "name", "description", "owner"]


class QueueWriteSerializer(ApiSerializer):
    slug = StrictCharField(max_length=40)
    name = StrictCharField(max_length=80)
    description = StrictCharField(required=False, allow_blank=True, default="")
    owner = StrictCharField(help_text="A username: the product owner or a developer.")


class QueueUpdateSerializer(ApiSerializer):
    name = StrictCharField(max_length=80, required=False)
    description = StrictCharField(required=False, allow_blank=True)
    owner = StrictCharField(required=False)


class ServiceSettingsSerializer(ApiModelSerializer):
    class Meta:
        model = ServiceSettings
        fields = list(SETTINGS_FIELDS)


class TicketActionSerializer(ApiSerializer):
    note = StrictCharField(required=False, allow_blank=True, default="", max_length=5000)


class AssignSerializer(ApiSerializer):
    assignee = StrictCharField(allow_null=True, help_text="A username, or null for no one.")


class IntakeTokenSerializer(ApiSerializer):
    id = serializers.IntegerField(read_only=True)
    name = StrictCharField(max_length=100)
    prefix = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    last_used_at = serializers.DateTimeField(read_only=True, allow_null=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)


class IntakeTokenCreatedSerializer(IntakeTokenSerializer):
    token = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The secret: shown only now (null in an Idempotency-Key replay: never stored).",
    )


class CauseSerializer(ApiSerializer):
    cause = StrictCharField(allow_null=True, help_text="The causing item's id or key (OB-42), or null for none.")


class HoursLostSerializer(ApiSerializer):
    hours_lost = StrictDecimalField(max_digits=7, decimal_places=1, min_value=0, allow_null=True)


class SprintHoursSerializer(serializers.Serializer):
    starts = serializers.DateTimeField()
    ends = serializers.DateTimeField()
    hours = serializers.DecimalField(max_digits=9, decimal_places=1, coerce_to_string=False)
    incidents = serializers.IntegerField()


class IncidentSerializer(serializers.Serializer):
    key = serializers.CharField(source="item.key")
    title = serializers.CharField(source="item.title")
    status = serializers.CharField(source="item.status")
    first_seen_at = serializers.DateTimeField()
    hours_lost = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True, coerce_to_string=False)


class CauseIncidentsSerializer(serializers.Serializer):
    hours_lost_per_sprint = serializers.DecimalField(
        max_digits=9, decimal_places=1, coerce_to_string=False, help_text="The average over the recent sprints."
    )
    interest_given = serializers.DecimalField(
        max_digits=7, decimal_places=1, allow_null=True, coerce_to_string=False, help_text="What people gave."
    )
    interest_hours = serializers.DecimalField(
        max_digits=7, decimal_places=1, allow_null=True, coerce_to_string=False, help_text="The item's interest now."
    )
    sprints = SprintHoursSerializer(many=True)
    incidents = IncidentSerializer(many=True)


class OccurrenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    received_at = serializers.DateTimeField()
    reporter = serializers.CharField()
    external_ref = serializers.CharField()
    affected_users = serializers.IntegerField()
    urgency = serializers.CharField()
    impact = serializers.CharField()
    title = serializers.CharField()


class OccurrenceSplitSerializer(ApiSerializer):
    fingerprint = StrictCharField(required=False, allow_blank=True, default="", max_length=200)


class MergeSerializer(ApiSerializer):
    into = StrictCharField(help_text="The ticket to merge into: an id or key (OB-42).")


class ErrorBodySerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorSerializer(serializers.Serializer):
    """The API's one error body (config.api)."""

    error = ErrorBodySerializer()
