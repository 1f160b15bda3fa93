from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import (
    DEFAULT_DEFINITION_OF_READY,
    MAX_READY_ESTIMATE,
    ApiToken,
    AuditEvent,
    Membership,
    Notification,
    Product,
)
from accounts.services import MAX_SLA_HOURS, PRODUCT_SETTINGS
from config.api import (
    ApiModelSerializer,
    ApiSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
)


def _sla_hours_schema() -> dict:
    hours = {"type": "integer", "minimum": 1, "maximum": MAX_SLA_HOURS}
    return {
        "type": "object",
        "description": "Resolution targets in whole hours for operational items, by ITIL priority: all five.",
        "properties": {f"P{n}": hours for n in range(1, 6)},
        "required": [f"P{n}" for n in range(1, 6)],
        "additionalProperties": False,
    }


def _definition_of_ready_schema(*, complete: bool) -> dict:
    checks = [name for name in DEFAULT_DEFINITION_OF_READY if name != "max_estimate"]
    schema = {
        "type": "object",
        "description": "Which readiness checks apply"
        + ("." if complete else "; the checks left out stay as they are."),
        "properties": {
            **{name: {"type": "boolean"} for name in checks},
            "max_estimate": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_READY_ESTIMATE,
                "nullable": True,
                "description": "The largest estimate a ready item may have (null: any).",
            },
        },
        "additionalProperties": False,
    }
    if complete:
        schema["required"] = list(DEFAULT_DEFINITION_OF_READY)
    return schema


@extend_schema_field(_sla_hours_schema())
class SlaHoursField(serializers.JSONField):
    """The SLA targets (checked by the service); typed in the schema."""


@extend_schema_field(_definition_of_ready_schema(complete=True))
class DefinitionOfReadyField(serializers.JSONField):
    """The whole Definition of Ready, as stored."""


@extend_schema_field(_definition_of_ready_schema(complete=False))
class DefinitionOfReadyChangeField(serializers.JSONField):
    """The checks to change (checked by the service); typed in the schema."""


class ProductSerializer(serializers.ModelSerializer):
    sla_hours = SlaHoursField(read_only=True)
    definition_of_ready = DefinitionOfReadyField(read_only=True)
    my_role = serializers.CharField(read_only=True, help_text="The caller's role in the product.")
    my_ordering_delegated = serializers.BooleanField(read_only=True)

    class Meta:
        model = Product
        fields = ["key", *PRODUCT_SETTINGS, "created_at", "my_role", "my_ordering_delegated"]
        read_only_fields = ["key", "created_at"]


class ProductUpdateSerializer(ApiModelSerializer):
    read_only_hints = dict.fromkeys(ProductSerializer.Meta.fields, "Read-only field.")
    sla_hours = SlaHoursField(required=False)
    definition_of_ready = DefinitionOfReadyChangeField(required=False)

    class Meta:
        model = Product
        fields = list(PRODUCT_SETTINGS)  # what owners may change


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["username", "role", "ordering_delegated", "created_at"]
        read_only_fields = fields


class MembershipWriteSerializer(ApiSerializer):
    username = StrictCharField(max_length=150)
    role = StrictChoiceField(choices=Membership.Role.choices)
    ordering_delegated = StrictBooleanField(default=False)


class MembershipChangeSerializer(ApiSerializer):
    """What is left out stays as it is."""

    role = StrictChoiceField(choices=Membership.Role.choices, required=False)
    ordering_delegated = StrictBooleanField(required=False)


class ApiTokenSerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The id of the token this one was made with (null: made in the browser); "
        "it stops working when that one is revoked or expires.",
    )

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "read_only",
            "expires_at",
            "created_at",
            "last_used_at",
            "revoked_at",
            "parent",
        ]
        read_only_fields = fields


class ApiTokenCreateSerializer(ApiSerializer):
    name = StrictCharField(max_length=100)
    read_only = StrictBooleanField(default=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The secret token. Shown only in this response (null in an Idempotency-Key replay: never stored).",
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor.username", read_only=True, default=None, allow_null=True, help_text="Null once deleted."
    )
    data = serializers.JSONField(
        read_only=True,
        help_text="{old, new}: the values before and after (null before an addition, after a removal); "
        "member (a username) or email when the event is about a person.",
    )

    class Meta:
        model = AuditEvent
        fields = ["id", "action", "actor", "data", "at"]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="product.key", read_only=True)
    link = serializers.CharField(read_only=True, help_text="The page of what it is about (a path).")

    class Meta:
        model = Notification
        fields = ["id", "kind", "product", "text", "link", "created_at", "read_at"]
        read_only_fields = fields


class NotificationsReadSerializer(ApiSerializer):
    ids = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=2**63 - 1),  # a BigAutoField id
        required=False,
        max_length=500,
        help_text="The notifications to mark read; leave out to mark all read.",
    )


class NotificationsReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were unread and are now read.")
