"""The delivery API's bodies: strict about JSON types and about unknown fields (config.api.ApiSerializer)."""

from rest_framework import serializers

from backlog.api.serializers import ItemReferenceField, ItemSerializer
from config.api import ApiSerializer, StrictCharField, StrictChoiceField, StrictDecimalField, StrictIntegerField
from delivery.models import MAX_DOD_ENTRIES, MAX_DOD_ENTRY_LENGTH, DeliverySettings, RetroAction, Sprint, WorkClass
from delivery.services.sprints import MAX_SPRINT_ITEMS


def _share() -> StrictIntegerField:
    return StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=100)


class WipLimitsSerializer(ApiSerializer):
    open = StrictIntegerField(required=False, min_value=1, max_value=1000)
    in_progress = StrictIntegerField(required=False, min_value=1, max_value=1000)


class DeliverySettingsSerializer(ApiSerializer):
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


class SprintCreateSerializer(ApiSerializer):
    name = StrictCharField(max_length=100, required=False, allow_blank=True)
    goal = StrictCharField(max_length=2000, required=False, allow_blank=True)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    capacity = StrictIntegerField(required=False, min_value=1, max_value=10_000, help_text="Default: the product's.")


class SprintSerializer(serializers.ModelSerializer):
    carry_over = serializers.CharField(
        read_only=True, help_text="Where unfinished items went at close: stay or top (empty before)."
    )
    policy = serializers.JSONField(
        read_only=True, help_text="The figures recorded at commit (classes, in, out, why) and at close (close)."
    )

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


class ItemsSerializer(ApiSerializer):
    items = serializers.ListField(child=ItemReferenceField(), max_length=MAX_SPRINT_ITEMS)


class CommitSerializer(ItemsSerializer):
    reason = StrictCharField(required=False, allow_blank=True, default="", max_length=2000)


class CloseSerializer(ApiSerializer):
    carry_over = StrictChoiceField(choices=Sprint.CarryOver.choices, required=False, default=Sprint.CarryOver.STAY)


class WaiverSerializer(ApiSerializer):
    entry = StrictCharField(max_length=MAX_DOD_ENTRY_LENGTH)
    reason = StrictCharField(max_length=2000)
    interest_hours = StrictDecimalField(
        max_digits=7, decimal_places=1, min_value=0, required=False, help_text="Hours lost per sprint (default 0)."
    )


class DoneSerializer(ApiSerializer):
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


class RetroActionCreateSerializer(ApiSerializer):
    text = StrictCharField(max_length=300)


class ToDebtSerializer(ApiSerializer):
    interest_hours = StrictDecimalField(max_digits=7, decimal_places=1, min_value=0, required=False)


# Response bodies (documented in the schema; the views build them from the selectors' results).

CLASS_FIELD = {"class": serializers.ChoiceField(choices=WorkClass.choices, help_text="The class of work.")}


def _with_class(name: str, **fields) -> type[serializers.Serializer]:
    """A serializer with a field named ``class`` (a Python keyword, so not declarable as an attribute)."""
    return type(name, (serializers.Serializer,), {**CLASS_FIELD, **fields})


PlanRowSerializer = _with_class(
    "PlanRowSerializer",
    key=serializers.CharField(),
    title=serializers.CharField(),
    kind=serializers.CharField(),
    estimate=serializers.IntegerField(allow_null=True),
    reason=serializers.CharField(required=False, help_text="Why it comes in or goes out (in and out only)."),
)
ClassFigureSerializer = _with_class(
    "ClassFigureSerializer",
    target_percent=serializers.IntegerField(allow_null=True),
    top_percent=serializers.FloatField(help_text="Its share of the capacity in the slice from the top of the order."),
    planned_percent=serializers.FloatField(help_text="Its share of the capacity in the plan."),
    met=serializers.BooleanField(allow_null=True, help_text="Null without a target."),
)


class PlanSerializer(serializers.Serializer):
    capacity = serializers.IntegerField()
    buffer_percent = serializers.IntegerField()
    plannable_points = serializers.FloatField(help_text="The capacity less the operational buffer.")
    points = serializers.IntegerField()
    items = PlanRowSerializer(many=True, help_text="The plan, in rank order.")
    _in = PlanRowSerializer(many=True, help_text="Brought in from below the top slice.")
    out = PlanRowSerializer(many=True, help_text="Left out of the top slice.")
    classes = ClassFigureSerializer(many=True)
    why = serializers.ListField(child=serializers.CharField(), help_text='e.g. "debt share 8 % → 21 %, target 20 %".')
    missed = serializers.ListField(child=serializers.CharField(), help_text="The targets the plan misses.")
    unestimated = serializers.ListField(child=serializers.CharField(), help_text="Keys of items without an estimate.")

    def get_fields(self):
        fields = super().get_fields()
        fields["in"] = fields.pop("_in")
        return fields


SprintItemRowSerializer = _with_class(
    "SprintItemRowSerializer",
    key=serializers.CharField(),
    title=serializers.CharField(),
    status=serializers.CharField(),
    points=serializers.IntegerField(allow_null=True),
    done_at=serializers.DateTimeField(allow_null=True),
)


class PolicyFigureSerializer(serializers.Serializer):
    label = serializers.CharField()
    target = serializers.IntegerField(allow_null=True)
    committed = serializers.IntegerField()
    done = serializers.IntegerField()
    planned_percent = serializers.FloatField()
    done_percent = serializers.FloatField()
    met = serializers.BooleanField(allow_null=True)


class SprintDetailSerializer(SprintSerializer):
    items = SprintItemRowSerializer(many=True, read_only=True)
    policy_figures = serializers.DictField(child=PolicyFigureSerializer(), read_only=True)

    class Meta(SprintSerializer.Meta):
        fields = [*SprintSerializer.Meta.fields, "items", "policy_figures"]


class DeliverySettingsBodySerializer(serializers.Serializer):
    features = serializers.IntegerField(allow_null=True)
    defects = serializers.IntegerField(allow_null=True)
    debt = serializers.IntegerField(allow_null=True)
    operational = serializers.IntegerField(allow_null=True, help_text="The buffer for interrupts.")
    definition_of_done = serializers.ListField(child=serializers.CharField())
    waiver_debt = serializers.ChoiceField(choices=DeliverySettings.WaiverDebt.choices)
    wip_limits = serializers.DictField(child=serializers.IntegerField())


class PolicySprintSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    honoured = serializers.BooleanField(allow_null=True)
    plan_reason = serializers.CharField(help_text="Why a plan that missed a target was committed (empty if none).")
    classes = serializers.DictField(child=PolicyFigureSerializer())


class PolicyReportSerializer(serializers.Serializer):
    summary = serializers.CharField(help_text='e.g. "honoured in 5 of the last 6 sprints".')
    honoured = serializers.IntegerField()
    judged = serializers.IntegerField()
    sprints = PolicySprintSerializer(many=True)


class VelocitySprintSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    done_points = serializers.IntegerField()


class VelocitySerializer(serializers.Serializer):
    velocity = serializers.FloatField(allow_null=True)
    sprints = VelocitySprintSerializer(many=True)


class SprintRefSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    ends = serializers.DateField()


class ForecastItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    kind = serializers.CharField()
    estimate = serializers.IntegerField(allow_null=True)
    points_through = serializers.IntegerField(help_text="Points of its class above it, and its own.")
    likely = SprintRefSerializer(allow_null=True)
    p50 = SprintRefSerializer(allow_null=True)
    p85 = SprintRefSerializer(allow_null=True)


class UnestimatedSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    items = serializers.ListField(child=serializers.CharField(), help_text="The first 50, in order.")


class ForecastSerializer(serializers.Serializer):
    velocity = serializers.FloatField(allow_null=True)
    points_per_sprint = serializers.FloatField()
    shares = serializers.DictField(child=serializers.FloatField())
    unestimated = UnestimatedSerializer()
    items = ForecastItemSerializer(many=True)


class ItemForecastSerializer(serializers.Serializer):
    key = serializers.CharField()
    estimated = serializers.BooleanField()
    done_in = serializers.CharField(allow_null=True)
    likely = SprintRefSerializer(allow_null=True)
    p50 = SprintRefSerializer(allow_null=True)
    p85 = SprintRefSerializer(allow_null=True)


class DoneItemSerializer(ItemSerializer):
    debt_items = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(ItemSerializer.Meta):
        fields = [*ItemSerializer.Meta.fields, "debt_items"]
