from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backlog.api.serializers import PLACES, ItemReferenceField, ItemSerializer, PlacementSerializer, ReadinessSerializer
from backlog.models import item_key
from backlog.readiness import readiness
from config.api import ApiSerializer, StrictBooleanField, StrictCharField, StrictChoiceField, StrictIntegerField
from notifications.mentions import comment_html
from notifications.selectors import member_usernames
from refinement.access import SUGGESTED
from refinement.models import Comment, Question
from refinement.selectors import proposal_state
from refinement.services.proposals import MAX_TEXT
from refinement.services.split import MAX_PARTS


def _username(source: str) -> serializers.CharField:
    return serializers.CharField(source=source, read_only=True, default=None, allow_null=True)


class QuestionSerializer(serializers.ModelSerializer):
    question = serializers.CharField(source="text", read_only=True)
    asked_by = _username("asked_by.username")
    answered_by = _username("answered_by.username")

    class Meta:
        model = Question
        fields = ["id", "question", "asked_by", "asked_at", "answer", "answered_by", "answered_at"]
        read_only_fields = fields


class AskSerializer(ApiSerializer):
    question = StrictCharField(max_length=MAX_TEXT, help_text="What the proposer should clarify.")


class AnswerSerializer(ApiSerializer):
    answer = StrictCharField(max_length=MAX_TEXT)


ACCEPT_PLACES = [*PLACES, SUGGESTED]


class AcceptSerializer(PlacementSerializer):
    to = StrictChoiceField(
        choices=ACCEPT_PLACES,
        default="bottom",
        help_text="Where the accepted item goes; suggested: where its score puts it.",
    )


class RejectSerializer(ApiSerializer):
    reason = StrictCharField(max_length=MAX_TEXT, help_text="Shown to the proposer.")
    duplicate_of = ItemReferenceField(required=False, help_text="The existing item this proposal duplicates.")


class ReviewQueueItemSerializer(ItemSerializer):
    suggested_position = serializers.IntegerField(
        source="position_by_score",
        read_only=True,
        help_text="Where its score would put it in the order (1 is the top).",
    )

    class Meta(ItemSerializer.Meta):
        fields = [*ItemSerializer.Meta.fields, "suggested_position"]
        read_only_fields = fields


class ProposalSerializer(serializers.Serializer):
    key = serializers.CharField()
    kind = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    state = serializers.SerializerMethodField(help_text="in_review, needs_info, accepted or rejected.")
    created_at = serializers.DateTimeField()
    rejection_reason = serializers.CharField(allow_null=True, help_text="Why it was rejected.")
    duplicate_of = serializers.SerializerMethodField()
    questions = QuestionSerializer(many=True, source="questions.all")

    @extend_schema_field(serializers.ChoiceField(choices=["in_review", "needs_info", "accepted", "rejected"]))
    def get_state(self, item) -> str:
        return proposal_state(item)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_duplicate_of(self, item) -> str | None:
        return item_key(item.product.key, item.duplicate_of.number) if item.duplicate_of_id else None


class CommentSerializer(serializers.ModelSerializer):
    author = _username("author.username")
    body_html = serializers.SerializerMethodField(
        help_text="The body rendered from Markdown, sanitized; @mentions of members link to the person."
    )

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "body_html", "created_at"]
        read_only_fields = fields

    def get_body_html(self, comment: Comment) -> str:
        product = comment.item.product
        members = self.context.setdefault("mention_usernames", {})  # one look-up per page
        if product.pk not in members:
            members[product.pk] = member_usernames(product_id=product.pk)
        return str(comment_html(comment.body, product_key=product.key, usernames=members[product.pk]))


class CommentCreateSerializer(ApiSerializer):
    body = StrictCharField(max_length=20_000, help_text="Markdown.")


class PartSerializer(ApiSerializer):
    title = StrictCharField(max_length=200)
    description = StrictCharField(required=False, allow_blank=True)
    acceptance_criteria = StrictCharField(required=False, allow_blank=True)
    estimate = StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=32767)


class SplitSerializer(ApiSerializer):
    parts = PartSerializer(many=True, help_text=f"2 to {MAX_PARTS} parts, in the order they take.")
    keep_original = StrictBooleanField(default=False, help_text="Keep the original after the parts (else archived).")


class SplitResultSerializer(serializers.Serializer):
    items = ItemSerializer(many=True)


class AgendaItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    kind = serializers.CharField()
    position = serializers.IntegerField(help_text="Place in the order (1 is the top).")
    readiness = serializers.SerializerMethodField()

    @extend_schema_field(ReadinessSerializer)
    def get_readiness(self, item) -> dict:
        return readiness(item)


class DebtTotalsSerializer(serializers.Serializer):
    items = serializers.IntegerField()
    principal_points = serializers.IntegerField(help_text="Sum of the debt items' estimates.")
    unestimated = serializers.IntegerField(help_text="Debt items without an estimate (not in the principal).")
    interest_hours = serializers.DecimalField(max_digits=14, decimal_places=1, help_text="Lost per sprint.")


class SprintSliceSerializer(serializers.Serializer):
    capacity = serializers.IntegerField(help_text="Points in a sprint (product setting).")
    points = serializers.IntegerField(help_text="Points of the items in the slice.")
    debt_points = serializers.IntegerField()
    items = serializers.IntegerField()
    debt_items = serializers.IntegerField()
    unestimated = serializers.IntegerField(help_text="Items in the slice without an estimate (no capacity taken).")
    debt_percent = serializers.FloatField(allow_null=True, help_text="Debt points over all points, in percent.")


class PolicySerializer(serializers.Serializer):
    target_percent = serializers.IntegerField()
    slice_percent = serializers.FloatField(allow_null=True)
    honoured = serializers.BooleanField(allow_null=True, help_text="The slice holds at least the target share.")


class DebtItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    estimate = serializers.IntegerField(allow_null=True)
    interest_hours = serializers.DecimalField(max_digits=7, decimal_places=1)


class DebtSnapshotSerializer(serializers.Serializer):
    date = serializers.DateField()
    items = serializers.IntegerField()
    principal_points = serializers.IntegerField()
    unestimated = serializers.IntegerField()
    interest_hours = serializers.DecimalField(max_digits=12, decimal_places=1)


class DebtReportSerializer(serializers.Serializer):
    totals = DebtTotalsSerializer(
        allow_null=True, help_text="Null only for a backlog too large to count on a request, before its first snapshot."
    )
    totals_as_of = serializers.DateTimeField(
        allow_null=True,
        help_text="Null: counted now. Else the time of the hourly snapshot the totals come from "
        "(a backlog of more than 5,000 items is not aggregated on a request).",
    )
    next_sprint = SprintSliceSerializer()
    policy = PolicySerializer()
    costliest = DebtItemSerializer(many=True, help_text="The debt items costing the most interest.")
    trend = DebtSnapshotSerializer(many=True, help_text="One snapshot a day, the last 90 days.")
