"""The item history as the API shows it: one typed shape per event type (``backlog/history.py``),
documented in the schema as a union keyed by ``type``."""

from collections.abc import Sequence

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from backlog import history
from backlog.models import Item, ItemEvent

Type = ItemEvent.Type


class OrderPlaceSerializer(serializers.Serializer):
    position = serializers.IntegerField(allow_null=True, help_text="1 is the top; null in older records.")
    after_id = serializers.IntegerField(allow_null=True, help_text="The item right before it; null at the top.")
    before_id = serializers.IntegerField(allow_null=True, help_text="The item right after it; null at the bottom.")


def _place(help_text: str) -> OrderPlaceSerializer:
    return OrderPlaceSerializer(allow_null=True, help_text=help_text)


def _status(help_text: str) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=Item.Status.choices, help_text=help_text)


class CreatedDataSerializer(serializers.Serializer):
    status = _status("The status it was created in: proposed, or open when placed in the order.")
    kind = serializers.ChoiceField(choices=Item.Kind.choices)
    labels = serializers.ListField(child=serializers.CharField())
    placed = _place("Where it entered the order; null for a proposal.")
    split_from = serializers.IntegerField(allow_null=True, help_text="The item it is a part of.")
    seeded = serializers.BooleanField(help_text="Demo data.")


class UpdatedDataSerializer(serializers.Serializer):
    changes = serializers.DictField(
        child=serializers.ListField(child=serializers.JSONField(), min_length=2, max_length=2),
        help_text="Each changed field (or labels) with [old, new].",
    )
    version = serializers.IntegerField(allow_null=True, help_text="The item's version after the edit.")


class DefinitionOfDoneSerializer(serializers.Serializer):
    checked = serializers.ListField(child=serializers.CharField(), help_text="The entries checked.")
    waived = serializers.DictField(
        child=serializers.CharField(), help_text="Each waived entry with its reason (each waiver made a debt item)."
    )


StatusChangedDataSerializer = type(
    "StatusChangedDataSerializer",
    (serializers.Serializer,),
    {
        "from": _status("The status before."),
        "to": _status("The status after."),
        "placed": _place("Where it entered the order, if it did."),
        "removed": _place("Where it stood when it left the order, if it did."),
        "duplicate_of": serializers.IntegerField(allow_null=True, help_text="A rejected duplicate's original."),
        "definition_of_done": DefinitionOfDoneSerializer(
            allow_null=True, help_text="The Definition of Done it was done against, if it has one."
        ),
    },
)

MovedDataSerializer = type(
    "MovedDataSerializer",
    (serializers.Serializer,),
    {
        "from": _place("Where it stood."),
        "to": _place("Where it went."),
        "block_size": serializers.IntegerField(help_text="How many items moved together."),
        "suggested_order": serializers.BooleanField(help_text="Moved by applying the suggested order."),
    },
)


class QuestionDataSerializer(serializers.Serializer):
    question = serializers.IntegerField(allow_null=True, help_text="The question's id; its text is the reason.")


class SplitDataSerializer(serializers.Serializer):
    into = serializers.ListField(child=serializers.CharField(), help_text="The parts' keys, in order.")
    kept = serializers.BooleanField(help_text="The original stays, after its parts (else it is archived).")
    removed = _place("Where the original stood when archived.")


class LinkDataSerializer(serializers.Serializer):
    link = serializers.ChoiceField(
        choices=list(history.LINK_ENDS), help_text="This item's end: it blocks, is blocked by, or relates to the other."
    )
    other = serializers.IntegerField(allow_null=True, help_text="The other item's id.")
    link_id = serializers.IntegerField(allow_null=True, help_text="The link's id (gone once removed).")


DATA_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    Type.CREATED: CreatedDataSerializer,
    Type.UPDATED: UpdatedDataSerializer,
    Type.STATUS_CHANGED: StatusChangedDataSerializer,
    Type.MOVED: MovedDataSerializer,
    Type.QUESTION_ASKED: QuestionDataSerializer,
    Type.QUESTION_ANSWERED: QuestionDataSerializer,
    Type.SPLIT: SplitDataSerializer,
    Type.LINKED: LinkDataSerializer,
    Type.UNLINKED: LinkDataSerializer,
}


class _EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    actor = serializers.CharField(allow_null=True, help_text="Who did it (username); null once deleted.")
    text = serializers.CharField(help_text='What happened, for people: "moved from 12 to 3 (after OB-7)".')
    reason = serializers.CharField()
    operation = serializers.UUIDField(help_text="Shared by the records of one operation (a block move).")
    created_at = serializers.DateTimeField()


def _event_serializer(type_value: str) -> type[serializers.Serializer]:
    name = "".join(part.title() for part in type_value.split("_")) + "EventSerializer"
    return type(
        name,
        (_EventSerializer,),
        {
            "type": serializers.ChoiceField(choices=[type_value]),
            "data": DATA_SERIALIZERS[type_value](),
            "Meta": type("Meta", (), {"ref_name": name.removesuffix("Serializer")}),
        },
    )


EVENT_SERIALIZERS = {type_value: _event_serializer(type_value) for type_value in Type.values}

ItemEventSchema = PolymorphicProxySerializer(
    component_name="ItemEvent",
    serializers=EVENT_SERIALIZERS,
    resource_type_field_name="type",
    many=True,
)


def events_data(events: Sequence[ItemEvent]) -> list[dict]:
    """The events as the API shows them: each in its type's shape, with its sentence."""
    texts = history.describe(events)
    return [
        EVENT_SERIALIZERS[event.type](
            {
                "id": event.pk,
                "type": event.type,
                "actor": event.actor.username if event.actor else None,
                "text": texts[event.pk],
                "data": history.shape(event),
                "reason": event.reason,
                "operation": event.operation,
                "created_at": event.created_at,
            }
        ).data
        for event in events
    ]
