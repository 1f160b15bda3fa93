from rest_framework import serializers

from config.api import ApiSerializer, StrictBooleanField, StrictCharField
from webhooks.models import SUBSCRIBABLE


class EndpointSerializer(ApiSerializer):
    """A webhook endpoint: where a product's chosen events are sent, signed with its secret."""

    id = serializers.IntegerField(read_only=True)
    url = StrictCharField(max_length=500, help_text="http or https; not a private or loopback address.")
    description = StrictCharField(max_length=200, required=False, allow_blank=True)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE), min_length=1, max_length=len(SUBSCRIBABLE)
    )
    enabled = StrictBooleanField(required=False)
    disabled_reason = serializers.CharField(read_only=True)
    last_success_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    pending = serializers.IntegerField(read_only=True, required=False)
    failed = serializers.IntegerField(read_only=True, required=False)


class EndpointChangeSerializer(EndpointSerializer):
    """What a PATCH may change: any of the URL, the events, the description, the enabled flag."""

    url = StrictCharField(max_length=500, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE), min_length=1, max_length=len(SUBSCRIBABLE), required=False
    )


class EndpointSecretSerializer(EndpointSerializer):
    """An endpoint with its signing secret (only when made or rotated)."""

    secret = serializers.CharField(
        read_only=True, help_text="The signing secret (whsec_…): shown when made or rotated, keep it."
    )


class AttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    response_body = serializers.CharField()


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.CharField()
    event_type = serializers.CharField()
    state = serializers.CharField()
    attempts = serializers.IntegerField()
    max_attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    payload = serializers.JSONField()
    attempt_log = AttemptSerializer(many=True)


class EmptySerializer(ApiSerializer):
    """No input: an empty object (or no body)."""
