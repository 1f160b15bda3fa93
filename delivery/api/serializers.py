"""The delivery API's bodies: strict about JSON types and about unknown fields."""

from rest_framework import serializers

from backlog.api.serializers import ItemReferenceField
from config.api import StrictCharField, StrictChoiceField, StrictDecimalField, StrictIntegerField
from delivery.models import MAX_DOD_ENTRIES, MAX_DOD_ENTRY_LENGTH, DeliverySettings, RetroAction, Sprint
from delivery.services.sprints import MAX_SPRINT_ITEMS


class StrictSerializer(serializers.Serializer):
    """A body naming a field the endpoint does not know is a 400 naming it."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        return super().to_internal_value(data)


def _share() -> StrictIntegerField:
    return StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=100)


class WipLimitsSerializer(StrictSerializer):
    open = StrictIntegerField(required=False, min_value=1, max_value=1000)
    in_progress = StrictIntegerField(required=False, min_value=1, max_value=1000)


class DeliverySettingsSerializer(StrictSerializer):
    feature_share = _share()
    defect_share = _share()
    debt_share = _share()
    operational_share = _share()
    definition_of_done = serializers.ListField(
        child=StrictCharField(max_length=MAX_DOD_ENTRY_LENGTH),
        max_length=MAX_DOD_ENTRIES,
        required=False,
        help_text="The checklist an item meets to be done.",
    )
    waiver_debt = StrictChoiceField(choices=DeliverySettings.WaiverDebt.choices, required=False)
    wip_limits = WipLimitsSerializer(required=False)


class SprintCreateSerializer(StrictSerializer):
    name = StrictCharField(max_length=100, required=False, allow_blank=True)
    goal = StrictCharField(max_length=2000, required=False, allow_blank=True)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    capacity = StrictIntegerField(required=False, min_value=1, max_value=10_000, help_text="Default: the product's.")


class SprintSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sprint
        fields = [
            "number",
            "name",
            "goal",
            "start_date",
            "end_date",
            "capacity",
            "state",
            "committed_at",
            "plan_reason",
            "closed_at",
            "carry_over",
            "policy",
        ]
        read_only_fields = fields


class ItemsSerializer(StrictSerializer):
    items = serializers.ListField(child=ItemReferenceField(), max_length=MAX_SPRINT_ITEMS)


class CommitSerializer(ItemsSerializer):
    reason = StrictCharField(required=False, allow_blank=True, default="", max_length=2000)


class CloseSerializer(StrictSerializer):
    carry_over = StrictChoiceField(choices=Sprint.CarryOver.choices, required=False, default=Sprint.CarryOver.STAY)


class WaiverSerializer(StrictSerializer):
    entry = StrictCharField(max_length=MAX_DOD_ENTRY_LENGTH)
    reason = StrictCharField(max_length=2000)
    interest_hours = StrictDecimalField(
        max_digits=7, decimal_places=1, min_value=0, required=False, help_text="Hours lost per sprint (default 0)."
    )


class DoneSerializer(StrictSerializer):
    checked = serializers.ListField(
        child=StrictCharField(max_length=MAX_DOD_ENTRY_LENGTH), required=False, default=list
    )
    waivers = WaiverSerializer(many=True, required=False, default=list)
    version = StrictIntegerField(required=False, min_value=1, help_text="The version you read (or send If-Match).")


class RetroActionSerializer(serializers.ModelSerializer):
    debt_item = serializers.SerializerMethodField()

    class Meta:
        model = RetroAction
        fields = ["id", "text", "debt_item", "created_at"]
        read_only_fields = fields

    def get_debt_item(self, action) -> str | None:
        return action.debt_item.key if action.debt_item_id else None


class RetroActionCreateSerializer(StrictSerializer):
    text = StrictCharField(max_length=300)


class ToDebtSerializer(StrictSerializer):
    interest_hours = StrictDecimalField(max_digits=7, decimal_places=1, min_value=0, required=False)
