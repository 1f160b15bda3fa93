"""The items API: thin views over the backlog services and selectors."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.access import access_product
from accounts.api.idempotency import idempotent_post
from accounts.models import Product
from accounts.permissions import Action
from backlog.access import access_item, item_ids_in, placement_in, theme_in
from backlog.api import serializers as s
from backlog.api.history import ChangePageSerializer, ItemEventSchema, changes_data, events_data
from backlog.api.pagination import ItemCursorPagination, TimeCursorPagination
from backlog.api.preconditions import IF_MATCH, if_match_version
from backlog.api.shared import ETAG, ITEM_REF, PAGINATION_PARAMS, item_response, item_rows_page, read_after_write
from backlog.filters import LIST_PARAMETERS, ItemFilter
from backlog.models import Item, item_key
from backlog.selectors import change_feed, item_history, item_list
from backlog.services.bulk import Target, items_bulk_edit
from backlog.services.items import item_create, item_transition, item_update
from backlog.services.ordering import Placement, item_move, items_move
from backlog.services.scores import product_scoring_update
from backlog.services.suggestion import MOST_MOVED, most_moved, order_apply_suggestion
from config.api import reject_unknown_parameters, validated_input
from config.numbers import number_parameter

MAX_SUGGESTIONS = MOST_MOVED  # the refresh keeps that many


def _list_parameter(name: str, choices: list[str] | None) -> OpenApiParameter:
    """A list parameter as generated clients send it: repeated (explode); commas are read too."""
    help_text = ItemFilter.base_filters[name].extra.get("help_text", "")
    return OpenApiParameter(
        name,
        {"type": "array", "items": {"type": "string", **({"enum": choices} if choices else {})}},
        OpenApiParameter.QUERY,
        style="form",
        explode=True,
        description=f"{help_text} Repeat the parameter ({name}=a&{name}=b) or separate the values with commas.",
    )


LIST_PARAMETER_SCHEMA = [
    _list_parameter("kind", Item.Kind.values),
    _list_parameter("status", Item.Status.values),
    _list_parameter("label", None),
]


class ItemListApi(GenericAPIView):
    serializer_class = s.ItemSerializer
    pagination_class = ItemCursorPagination
    filter_backends = [DjangoFilterBackend]  # documents the filters; the selector applies them
    filterset_class = ItemFilter
    queryset = Item.objects.none()

    @extend_schema(
        summary="The backlog in order (or filtered items), cursor-paginated",
        parameters=LIST_PARAMETER_SCHEMA,
        responses=s.ItemSerializer(many=True),
    )
    def get(self, request, key: str):
        product, _ = access_product(request.user, key)
        reject_unknown_parameters(request, set(ItemFilter.base_filters) | PAGINATION_PARAMS, lists=LIST_PARAMETERS)
        listing = item_list(product=product, filters=request.query_params)
        self.ordering = listing.ordering
        page = self.paginate_queryset(listing.items)
        return self.get_paginated_response(s.ItemSerializer(page, many=True).data)

    @extend_schema(
        summary="Create an item: owners and delegates add it to the order, others propose it",
        parameters=[ETAG],
        request=s.ItemCreateSerializer,
        responses={201: s.ItemSerializer},
    )
    @idempotent_post()
    def post(self, request, key: str):
        product, _ = access_product(request.user, key, Action.PROPOSE)
        body = validated_input(s.ItemCreateSerializer, request)
        fields = dict(body)
        if "theme" in fields:
            fields["theme"] = theme_in(product, fields["theme"])
        placement = _placement(product, fields.pop("placement", None))
        item = item_create(product=product, actor=request.user, placement=placement, **fields)
        return item_response(item, status=status.HTTP_201_CREATED)


class ItemDetailApi(GenericAPIView):
    serializer_class = s.ItemSerializer

    @extend_schema(summary="One item, by id or key", parameters=[ITEM_REF, ETAG])
    def get(self, request, ref: str):
        item, _ = access_item(request.user, ref)
        return item_response(item)

    @extend_schema(
        summary="Edit an item; send If-Match (its ETag) or version to refuse a stale update",
        parameters=[ITEM_REF, ETAG, IF_MATCH],
        request=s.ItemUpdateSerializer,
    )
    def patch(self, request, ref: str):
        item, _ = access_item(request.user, ref)
        body = validated_input(s.ItemUpdateSerializer, request, instance=item, partial=True)
        changes = dict(body)
        if "theme" in changes:
            changes["theme"] = theme_in(item.product, changes["theme"])
        labels = changes.pop("labels", None)
        from_header = if_match_version(request, item)
        expected = changes.pop("version", None)
        expected = from_header if expected is None else expected
        item_update(item=item, actor=request.user, changes=changes, labels=labels, expected_version=expected)
        return item_response(item)  # as it is now


def _transition(request, item: Item, *, to: str, reason: str) -> Response:
    """Move ``item`` to ``to`` (checked against If-Match) and answer with it as it is now."""
    item_transition(
        item=item, actor=request.user, to=to, reason=reason, expected_version=if_match_version(request, item)
    )
    return item_response(item)


class ItemTransitionApi(GenericAPIView):
    serializer_class = s.ItemSerializer

    @extend_schema(
        summary="Change an item's status along the lifecycle (proposals: /accept/ and /reject/)",
        parameters=[ITEM_REF, ETAG, IF_MATCH],
        request=s.TransitionSerializer,
    )
    def post(self, request, ref: str):
        item, _ = access_item(request.user, ref)  # outsiders get 404 whatever they send
        body = validated_input(s.TransitionSerializer, request)
        return _transition(request, item, to=body["status"], reason=body["reason"])


class ItemArchiveApi(GenericAPIView):
    serializer_class = s.ItemSerializer

    @extend_schema(
        summary="Archive an open item: it leaves the order, kept for history",
        parameters=[ITEM_REF, ETAG, IF_MATCH],
        request=s.ReasonSerializer,
    )
    def post(self, request, ref: str):
        item, _ = access_item(request.user, ref)  # outsiders get 404 whatever they send
        body = validated_input(s.ReasonSerializer, request)
        return _transition(request, item, to=Item.Status.ARCHIVED, reason=body["reason"])


def _placement(product: Product, data: dict | None) -> Placement | None:
    """The placement an API body gives (``to``, ``anchor``, ``position``), or None when it gives none."""
    if not data:
        return None
    return placement_in(product, to=data["to"], anchor=data.get("anchor"), position=data.get("position"))


def _move_response(product: Product, result) -> Response:
    def read():
        keys = {pk: item_key(product.key, number) for pk, number in _numbers(product, result)}

        def neighbour(found):
            return {"id": found.id, "key": keys[found.id]} if found else None

        return {
            "items": [keys[item.pk] for item in result.items],
            "position": result.position,
            "after": neighbour(result.gap.after),
            "before": neighbour(result.gap.before),
        }

    return Response(s.MoveResultSerializer(read_after_write(read)).data)


def _numbers(product: Product, result):
    ids = [item.pk for item in result.items]
    ids += [found.id for found in (result.gap.after, result.gap.before) if found]
    return Item.objects.filter(product=product, pk__in=ids).values_list("pk", "number")


class ItemMoveApi(GenericAPIView):
    serializer_class = s.MoveResultSerializer

    @extend_schema(
        summary="Move one item (owners and ordering delegates)",
        parameters=[ITEM_REF, IF_MATCH],
        request=s.MoveSerializer,
    )
    def post(self, request, ref: str):
        item, _ = access_item(request.user, ref)
        body = validated_input(s.MoveSerializer, request)
        result = item_move(
            item=item,
            actor=request.user,
            to=_placement(item.product, body),
            reason=body["reason"],
            expected_version=if_match_version(request, item),
        )
        return _move_response(item.product, result)


class BlockMoveApi(GenericAPIView):
    serializer_class = s.MoveResultSerializer

    @extend_schema(
        summary="Move up to 100 items as a block, keeping their relative order", request=s.BlockMoveSerializer
    )
    def post(self, request, key: str):
        product, _ = access_product(request.user, key)
        body = validated_input(s.BlockMoveSerializer, request)
        result = items_move(
            product=product,
            actor=request.user,
            item_ids=item_ids_in(product, body["items"], "items"),
            to=_placement(product, body),
            reason=body["reason"],
        )
        return _move_response(product, result)


class BulkEditApi(GenericAPIView):
    serializer_class = s.BulkResultSerializer

    @extend_schema(
        summary=f"Edit up to {s.MAX_BULK_ITEMS} items at once: labels, kind, estimate, value inputs, status",
        description=(
            "All or nothing: each item is checked by the same rules as a single edit or status change "
            "(and its `version`, when given); if any is refused, nothing changes and the 400 names each "
            "refused item and why. The history records it as one operation."
        ),
        request=s.BulkEditSerializer,
    )
    def post(self, request, key: str):
        product, _ = access_product(request.user, key)
        body = validated_input(s.BulkEditSerializer, request)
        references = [entry["item"] for entry in body["items"]]
        ids = item_ids_in(product, references, "items")
        targets = [Target(pk, entry.get("version")) for pk, entry in zip(ids, body["items"], strict=True)]
        result = items_bulk_edit(
            product=product,
            actor=request.user,
            targets=targets,
            add_labels=body["add_labels"],
            remove_labels=body["remove_labels"],
            changes=dict(body.get("set") or {}),
            status=body.get("status"),
            reason=body["reason"],
        )
        data = {
            "operation": result.operation,
            "changed": [item.key for item in result.items],
            "unchanged": [item.key for item in result.unchanged],
        }
        return Response(s.BulkResultSerializer(data).data)


class ItemHistoryApi(GenericAPIView):
    pagination_class = TimeCursorPagination

    @extend_schema(
        summary="The item's history: creation, edits, status changes, moves, questions, splits",
        description="Each event has one shape of `data` per `type`, and `text` says it for people.",
        parameters=[ITEM_REF],
        responses=ItemEventSchema,
    )
    def get(self, request, ref: str):
        return item_rows_page(self, request, ref, item_history, events_data)


MAX_CHANGES = 1000
MAX_SEQ = 2**63 - 1


class ChangeFeedApi(GenericAPIView):
    pagination_class = None

    @extend_schema(
        summary="The product's change feed: every creation, edit, status change and move, in sequence",
        description=(
            "Each change has a product-wide `seq` (1, 2, 3, … in commit order: a change never appears "
            "behind one already read). Page with `after` (the last `seq` read; `next` links the next "
            "page). Moves carry their neighbours (`data.to.after_id`, `before_id`), creations the item's "
            "fields, so a mirror replays the feed and stays exact, order included."
        ),
        parameters=[
            OpenApiParameter(
                "after",
                {"type": "integer", "minimum": 0, "maximum": MAX_SEQ, "default": 0},
                description="Changes numbered after this one (0: from the start).",
                required=False,
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_CHANGES, "default": 200},
                description=f"How many at most (1 to {MAX_CHANGES}, default 200).",
                required=False,
            ),
        ],
        responses=ChangePageSerializer,
    )
    def get(self, request, key: str):
        product, _ = access_product(request.user, key)
        reject_unknown_parameters(request, {"after", "limit"})
        after = number_parameter(request.query_params, "after", default=0, low=0, high=MAX_SEQ)
        limit = number_parameter(request.query_params, "limit", default=200, low=1, high=MAX_CHANGES)
        events = list(change_feed(product=product, after=after)[: limit + 1])
        more, events = len(events) > limit, events[:limit]
        last = events[-1].seq if events else after
        next_url = request.build_absolute_uri(f"{request.path}?after={last}&limit={limit}") if more else None
        return Response({"results": changes_data(events, product.key), "after": last, "next": next_url})


class SuggestedOrderApi(GenericAPIView):
    serializer_class = s.SuggestionSerializer
    pagination_class = None

    @extend_schema(
        summary="The items the scores would move most: actual and suggested position, drift",
        description=(
            "The largest drifts, largest first (ties: the higher item first), as the last refresh of "
            "the stored suggested positions found them: a job refreshes them a few seconds after each "
            "change (moves, edits, rescoring), so right after one they may lag. Positions are those of "
            "that refresh."
        ),
        parameters=[
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_SUGGESTIONS, "default": 50},
                description=f"How many (1 to {MAX_SUGGESTIONS}, default 50).",
                required=False,
            )
        ],
        responses=s.SuggestionSerializer(many=True),
    )
    def get(self, request, key: str):
        product, _ = access_product(request.user, key)
        reject_unknown_parameters(request, {"limit"})
        limit = number_parameter(request.query_params, "limit", default=50, low=1, high=MAX_SUGGESTIONS)
        rows = most_moved(product=product, limit=limit)
        numbers = dict(
            Item.objects.filter(pk__in={pk for row in rows for pk in row.kept_below}).values_list("pk", "number")
        )
        data = [
            {
                **vars(row),
                "key": item_key(product.key, row.number),
                "drift": row.drift,
                "kept_below": [item_key(product.key, numbers[pk]) for pk in row.kept_below if pk in numbers],
            }
            for row in rows
        ]
        return Response(s.SuggestionSerializer(data, many=True).data)


class ApplySuggestionApi(GenericAPIView):
    serializer_class = s.ApplySuggestionResultSerializer

    @extend_schema(
        summary="Apply the suggested order to all unpinned items, or to the ones given (owners and delegates)",
        request=s.ApplySuggestionSerializer,
    )
    def post(self, request, key: str):
        product, _ = access_product(request.user, key)
        body = validated_input(s.ApplySuggestionSerializer, request)
        references = body.get("items")
        item_ids = item_ids_in(product, references, "items") if references is not None else None
        moved = order_apply_suggestion(product=product, actor=request.user, item_ids=item_ids, reason=body["reason"])
        return Response(s.ApplySuggestionResultSerializer({"moved": moved}).data)


class ScoringSettingsApi(GenericAPIView):
    serializer_class = s.ScoringSettingsSerializer

    @extend_schema(summary="The product's scoring model and weights")
    def get(self, request, key: str):
        product, _ = access_product(request.user, key)
        return Response(s.ScoringSettingsSerializer(product).data)

    @extend_schema(
        summary="Change the scoring model or weights (owners); every score is recomputed",
        request=s.ScoringSettingsSerializer(partial=True),
    )
    def patch(self, request, key: str):
        product, _ = access_product(request.user, key)
        body = validated_input(s.ScoringSettingsSerializer, request, partial=True)
        product = product_scoring_update(
            product=product,
            actor=request.user,
            model=body.get("scoring_model"),
            weights=body.get("score_weights"),
        )
        return Response(s.ScoringSettingsSerializer(product).data)
