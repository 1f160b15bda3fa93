from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Product
from backlog.access import PLACES
from backlog.links import order_warnings
from backlog.models import Item, item_key
from backlog.readiness import readiness
from backlog.services.items import EDITABLE_FIELDS, VALUE_FIELDS
from backlog.services.ordering import MAX_POSITION
from config.api import ApiModelSerializer, ApiSerializer, StrictCharField, StrictChoiceField, StrictIntegerField


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}], "description": "An id, or a key: OB-42."})
class ItemReferenceField(serializers.Field):
    """An item given by id (42 or "42") or by key ("OB-42")."""

    default_error_messages = {"invalid": "Give an item id or key, such as 42 or OB-42."}

    def to_internal_value(self, data) -> str:
        if isinstance(data, bool) or not isinstance(data, int | str) or str(data).strip() == "":
            self.fail("invalid")
        return str(data).strip()

    def to_representation(self, value) -> str:
        return str(value)


class PlacementSerializer(ApiSerializer):
    """Where an item goes: its types here; its meaning (anchor for before/after, …) in backlog.access.placement_in."""

    to = StrictChoiceField(choices=PLACES)
    anchor = serializers.CharField(required=False, help_text="For before/after: the other item's id or key (OB-42).")
    position = StrictIntegerField(
        required=False, min_value=1, max_value=MAX_POSITION, help_text="For position: 1 is the top."
    )


def _optional_choice(name: str) -> serializers.ChoiceField:
    """A choice that may be empty ("") when not given, as stored."""
    field = Item._meta.get_field(name)
    return serializers.ChoiceField(choices=field.choices, allow_blank=True, read_only=True, help_text=field.help_text)


class ScoreBreakdownSerializer(serializers.Serializer):
    """Why an item is scored so."""

    model = serializers.CharField()
    inputs = serializers.DictField(help_text="The inputs as given on the item.")
    derived = serializers.DictField(help_text="What the item's kind filled in, each with its reason.")
    formula = serializers.CharField(help_text="The formula with its numbers.")
    missing = serializers.ListField(child=serializers.CharField(), help_text="Inputs that were missing.")
    category = serializers.CharField(allow_null=True, help_text="The MoSCoW category, if any.")


class ReadinessCheckSerializer(serializers.Serializer):
    check = serializers.CharField()
    label = serializers.CharField(help_text="The rule, e.g. “An estimate is set”.")
    missing = serializers.CharField(help_text="What an item that fails it lacks, e.g. “No estimate”.")
    passed = serializers.BooleanField()


class ReadinessSerializer(serializers.Serializer):
    ready = serializers.BooleanField(help_text="Passes every check of the product's Definition of Ready.")
    checks = ReadinessCheckSerializer(many=True)


class OrderWarningSerializer(serializers.Serializer):
    blocker = serializers.CharField(help_text="The open blocker's key, e.g. OB-40.")
    text = serializers.CharField(help_text="OB-12 is above its blocker OB-40")


class ItemSerializer(serializers.ModelSerializer):
    score_breakdown = serializers.SerializerMethodField(help_text="Why the item is scored so (empty until scored).")
    key = serializers.CharField(read_only=True, help_text="Product key and number, e.g. OB-42.")
    rice_impact = _optional_choice("rice_impact")
    moscow = _optional_choice("moscow")
    severity = _optional_choice("severity")
    impact = _optional_choice("impact")
    urgency = _optional_choice("urgency")
    product = serializers.CharField(source="product.key", read_only=True)
    labels = serializers.SerializerMethodField()
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, default=None, allow_null=True, help_text="Null once deleted."
    )
    readiness = serializers.SerializerMethodField(help_text="The product's Definition of Ready, check by check.")
    split_from = serializers.SerializerMethodField(help_text="Key of the item this one was split from.")
    duplicate_of = serializers.SerializerMethodField(help_text="Key of the item a rejected proposal duplicates.")
    theme = serializers.IntegerField(
        source="theme_id", read_only=True, allow_null=True, help_text="The id of the theme it belongs to."
    )
    order_warnings = serializers.SerializerMethodField(
        help_text="Open blockers ordered below it: each blocker's key and the warning in words."
    )

    class Meta:
        model = Item
        fields = [
            "id",
            "key",
            "product",
            "number",
            "kind",
            "title",
            "description",
            "acceptance_criteria",
            "status",
            "rank",
            "estimate",
            *VALUE_FIELDS,
            "severity",
            "interest_hours",
            "timebox_days",
            "question",
            "value_beneficiaries",
            "value_cost_of_delay",
            "value_risk_removed",
            "impact",
            "urgency",
            "itil_priority",
            "sla_due_at",
            "score",
            "score_breakdown",
            "score_computed_at",
            "pinned",
            "external_ref",
            "split_from",
            "duplicate_of",
            "theme",
            "order_warnings",
            "labels",
            "created_by",
            "created_at",
            "updated_at",
            "version",
            "readiness",
        ]
        read_only_fields = fields

    def get_labels(self, item: Item) -> list[str]:
        return sorted(label.name for label in item.labels.all())

    @extend_schema_field(ReadinessSerializer)
    def get_readiness(self, item: Item) -> dict:
        return readiness(item)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_split_from(self, item: Item) -> str | None:
        return item_key(item.product.key, item.split_from.number) if item.split_from_id else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_duplicate_of(self, item: Item) -> str | None:
        return item_key(item.product.key, item.duplicate_of.number) if item.duplicate_of_id else None

    @extend_schema_field(OrderWarningSerializer(many=True))
    def get_order_warnings(self, item: Item) -> list[dict]:
        return order_warnings(item)

    @extend_schema_field(ScoreBreakdownSerializer(allow_null=True))
    def get_score_breakdown(self, item: Item) -> dict | None:
        return item.score_breakdown or None


# What to do instead of setting a field the item only shows.
ITEM_READ_ONLY_HINTS = {
    "status": "Read-only field: change the status through /transition/ (or /archive/, /accept/, /reject/).",
    "rank": "Read-only field: move the item through /move/.",
    "position": "Read-only field: move the item through /move/.",
    "score": "Read-only field: the score is computed from the value inputs.",
}


class ItemWriteSerializer(ApiModelSerializer):
    """The fields a client may set; who may set which is the service's business."""

    read_only_hints = {
        **dict.fromkeys(ItemSerializer.Meta.fields, "Read-only field."),
        **ITEM_READ_ONLY_HINTS,
    }

    labels = serializers.ListField(child=StrictCharField(max_length=50), required=False)
    theme = StrictIntegerField(
        required=False, allow_null=True, min_value=1, help_text="A theme's id (owners and delegates); null for none."
    )

    class Meta:
        model = Item
        fields = [*sorted(EDITABLE_FIELDS), "labels"]


class ItemCreateSerializer(ItemWriteSerializer):
    placement = PlacementSerializer(
        required=False, help_text="Owners and ordering delegates only; without it the item goes to the bottom."
    )

    class Meta(ItemWriteSerializer.Meta):
        fields = [*ItemWriteSerializer.Meta.fields, "placement"]
        extra_kwargs = {"title": {"required": True}, "kind": {"required": True}}


class ItemUpdateSerializer(ItemWriteSerializer):
    version = StrictIntegerField(
        required=False, help_text="The version you read; a different current version gets 412 (or send If-Match)."
    )

    class Meta(ItemWriteSerializer.Meta):
        fields = [*ItemWriteSerializer.Meta.fields, "version"]


class TransitionSerializer(ApiSerializer):
    status = StrictChoiceField(
        choices=Item.Status.choices, help_text="A proposal is accepted or rejected through /accept/ and /reject/."
    )
    reason = StrictCharField(required=False, allow_blank=True, default="")


class ReasonSerializer(ApiSerializer):
    reason = StrictCharField(required=False, allow_blank=True, default="")


class MoveSerializer(PlacementSerializer):
    reason = StrictCharField(required=False, allow_blank=True, default="")


class BlockMoveSerializer(MoveSerializer):
    items = serializers.ListField(
        child=ItemReferenceField(), min_length=1, max_length=100, help_text="Up to 100 item ids or keys."
    )


class NeighbourSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()


class MoveResultSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.CharField(), help_text="The moved items' keys, in order.")
    position = serializers.IntegerField(help_text="Position of the first moved item, 1 is the top.")
    after = NeighbourSerializer(allow_null=True, help_text="The item right before the moved block.")
    before = NeighbourSerializer(allow_null=True, help_text="The item right after the moved block.")


class SuggestionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="item_id")
    key = serializers.CharField()
    score = serializers.FloatField(allow_null=True)
    pinned = serializers.BooleanField()
    position = serializers.IntegerField(help_text="Where the item is now (1 is the top).")
    suggested_position = serializers.IntegerField(help_text="Where its score would put it.")
    drift = serializers.IntegerField(help_text="Suggested minus actual: negative means the scores would move it up.")
    kept_below = serializers.ListField(
        child=serializers.CharField(),
        help_text="Open blockers the suggestion keeps it below although its score alone would put it above.",
    )


class ApplySuggestionSerializer(ApiSerializer):
    items = serializers.ListField(
        child=ItemReferenceField(),
        required=False,
        max_length=1000,
        help_text="Only these items (ids or keys); all unpinned items when left out.",
    )
    reason = StrictCharField(required=False, allow_blank=True, default="")


class ApplySuggestionResultSerializer(serializers.Serializer):
    moved = serializers.IntegerField(help_text="How many items got a new place (one row each).")


class ScoringSettingsSerializer(ApiSerializer):
    scoring_model = StrictChoiceField(choices=Product.ScoringModel.choices)
    score_weights = serializers.DictField(
        child=serializers.FloatField(min_value=0, max_value=10),
        help_text="WSJF weights: business_value, time_criticality, risk_reduction (0 to 10 each).",
    )
