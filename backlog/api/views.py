"""The items API: thin views over the backlog services and selectors."""

import re

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.models import Product
from accounts.permissions import Action, get_product_or_404
from backlog.api import serializers as s
from backlog.api.filters import ItemFilter
from backlog.api.history import ItemEventSchema, events_data
from backlog.api.lookups import item_ids_in, item_or_404, placement_from
from backlog.api.pagination import ItemCursorPagination, TimeCursorPagination
from backlog.models import Item, item_key
from backlog.selectors import item_history, items_for_api
from backlog.services.items import item_create, item_transition, item_update
from backlog.services.ordering import items_move
from backlog.services.scores import product_scoring_update
from backlog.services.suggestion import order_apply_suggestion, suggested_order
from config.api import ErrorSerializer, PreconditionFailed, reject_unknown_parameters

PAGINATION_PARAMS = {"cursor", "page_size", "count"}
LIST_PARAMS = ("kind", "status", "label")  # comma-separated
ITEM_REF = OpenApiParameter("ref", OpenApiTypes.STR, OpenApiParameter.PATH, description="Item id or key, e.g. OB-42.")
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=True,
    description="The item's content version; send it back in If-Match. Moves do not change it.",
)


def _etag(item: Item) -> str:
    return f'"{item.pk}-{item.version}"'


def _version_matching(item: Item, if_match: str) -> int | str | None:
    """Return the version an If-Match header names for this item ("*" for any), or None."""
    for tag in (part.strip() for part in if_match.split(",")):
        if tag == "*":
            return "*"
        found = re.fullmatch(r'"([0-9]+)-([0-9]+)"', tag)
        if found and int(found.group(1)) == item.pk:
            return int(found.group(2))
    return None


def item_response(item: Item, **kwargs) -> Response:
    """The item as the API shows it (loaded afresh, in the list's constant queries), with its ETag."""
    item = items_for_api(product=item.product).get(pk=item.pk)
    response = Response(s.ItemSerializer(item).data, **kwargs)
    response["ETag"] = _etag(item)
    return response


class ItemListApi(GenericAPIView):
    serializer_class = s.ItemSerializer
    pagination_class = ItemCursorPagination
    filter_backends = [DjangoFilterBackend]  # documents the filters; the view applies them itself
    filterset_class = ItemFilter
    queryset = Item.objects.none()

    @extend_schema(
        summary="The backlog in order (or filtered items), cursor-paginated",
        responses=s.ItemSerializer(many=True),
    )
    def get(self, request, key: str):
        product = get_product_or_404(request.user, key)
        reject_unknown_parameters(request, set(ItemFilter.base_filters) | PAGINATION_PARAMS)
        empty = [name for name, value in request.query_params.items() if not value.strip()]
        if empty:
            raise ValidationError({name: ["Give a value, or leave the parameter out."] for name in sorted(empty)})
        gaps = [
            name
            for name in LIST_PARAMS
            if any(not part.strip() for part in request.query_params.get(name, "x").split(","))
        ]
        if gaps:
            raise ValidationError({name: ["Separate the values with single commas."] for name in gaps})
        filterset = ItemFilter(
            request.query_params, queryset=items_for_api(product=product), request=request, product=product
        )
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        queryset = filterset.qs
        self.ordering = filterset.chosen_ordering
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.ItemSerializer(page, many=True).data)

    @extend_schema(
        summary="Create an item: owners and delegates add it to the order, others propose it",
        parameters=[ETAG],
        request=s.ItemCreateSerializer,
        responses={201: s.ItemSerializer},
    )
    def post(self, request, key: str):
        product = get_product_or_404(request.user, key, Action.PROPOSE)
        data = s.ItemCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        placement = placement_from(product, fields.pop("placement", None))
        item = item_create(product=product, actor=request.user, placement=placement, **fields)
        return item_response(item, status=status.HTTP_201_CREATED)


class ItemDetailApi(GenericAPIView):
    serializer_class = s.ItemSerializer

    @extend_schema(summary="One item, by id or key", parameters=[ITEM_REF, ETAG])
    def get(self, request, ref: str):
        return item_response(item_or_404(request.user, ref))

    @extend_schema(
        summary="Edit an item; send If-Match (its ETag) or version to refuse a stale update",
        parameters=[
            ITEM_REF,
            ETAG,
            OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, description="The item's ETag."),
        ],
        request=s.ItemUpdateSerializer,
        responses={200: s.ItemSerializer, 412: OpenApiResponse(ErrorSerializer, description="Changed since read.")},
    )
    def patch(self, request, ref: str):
        item = item_or_404(request.user, ref)
        data = s.ItemUpdateSerializer(item, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        expected = changes.pop("version", None)
        labels = changes.pop("labels", None)
        if_match = request.headers.get("If-Match")
        if if_match is not None:
            matched = _version_matching(item, if_match)
            if matched is None:
                raise PreconditionFailed()
            if expected is None and matched != "*":
                expected = matched  # checked again under the item's lock by the service
        item_update(item=item, actor=request.user, changes=changes, labels=labels, expected_version=expected)
        return item_response(item)  # as it is now


class ItemTransitionApi(GenericAPIView):
    serializer_class = s.ItemSerializer

    @extend_schema(
        summary="Change an item's status along the lifecycle",
        parameters=[ITEM_REF, ETAG],
        request=s.TransitionSerializer,
    )
    def post(self, request, ref: str):
        item = item_or_404(request.user, ref)
        data = s.TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item_transition(
            item=item,
            actor=request.user,
            to=data.validated_data["status"],
            placement=placement_from(item.product, data.validated_data.get("placement")),
            reason=data.validated_data["reason"],
        )
        return item_response(item)  # as it is now


class ItemArchiveApi(GenericAPIView):
    serializer_class = s.ItemSerializer

    @extend_schema(
        summary="Archive an open item: it leaves the order, kept for history",
        parameters=[ITEM_REF, ETAG],
        request=s.ReasonSerializer,
    )
    def post(self, request, ref: str):
        item = item_or_404(request.user, ref)
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item_transition(item=item, actor=request.user, to=Item.Status.ARCHIVED, reason=data.validated_data["reason"])
        return item_response(item)  # as it is now


def _move_response(product: Product, result) -> Response:
    keys = {pk: item_key(product.key, number) for pk, number in _numbers(product, result)}

    def neighbour(found):
        return {"id": found.id, "key": keys[found.id]} if found else None

    body = {
        "items": [keys[item.pk] for item in result.items],
        "position": result.position,
        "after": neighbour(result.gap.after),
        "before": neighbour(result.gap.before),
    }
    return Response(s.MoveResultSerializer(body).data)


def _numbers(product: Product, result):
    ids = [item.pk for item in result.items]
    ids += [found.id for found in (result.gap.after, result.gap.before) if found]
    return Item.objects.filter(product=product, pk__in=ids).values_list("pk", "number")


class ItemMoveApi(GenericAPIView):
    serializer_class = s.MoveResultSerializer

    @extend_schema(
        summary="Move one item (owners and ordering delegates)", parameters=[ITEM_REF], request=s.MoveSerializer
    )
    def post(self, request, ref: str):
        item = item_or_404(request.user, ref)
        data = s.MoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = items_move(
            product=item.product,
            actor=request.user,
            item_ids=[item.pk],
            to=placement_from(item.product, data.validated_data),
            reason=data.validated_data["reason"],
        )
        return _move_response(item.product, result)


class BlockMoveApi(GenericAPIView):
    serializer_class = s.MoveResultSerializer

    @extend_schema(
        summary="Move up to 100 items as a block, keeping their relative order", request=s.BlockMoveSerializer
    )
    def post(self, request, key: str):
        product = get_product_or_404(request.user, key)
        data = s.BlockMoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = items_move(
            product=product,
            actor=request.user,
            item_ids=item_ids_in(product, data.validated_data["items"], "items"),
            to=placement_from(product, data.validated_data),
            reason=data.validated_data["reason"],
        )
        return _move_response(product, result)


class ItemHistoryApi(GenericAPIView):
    pagination_class = TimeCursorPagination

    @extend_schema(
        summary="The item's history: creation, edits, status changes, moves, questions, splits",
        description="Each event has one shape of `data` per `type`, and `text` says it for people.",
        parameters=[ITEM_REF],
        responses=ItemEventSchema,
    )
    def get(self, request, ref: str):
        item = item_or_404(request.user, ref)
        page = self.paginate_queryset(item_history(item=item))
        return self.get_paginated_response(events_data(page))


class SuggestedOrderApi(GenericAPIView):
    serializer_class = s.SuggestionSerializer
    pagination_class = None

    @extend_schema(
        summary="The items the scores would move most: actual and suggested position, drift",
        parameters=[
            OpenApiParameter("limit", OpenApiTypes.INT, description="How many (1 to 500, default 50).", required=False)
        ],
        responses=s.SuggestionSerializer(many=True),
    )
    def get(self, request, key: str):
        product = get_product_or_404(request.user, key)
        raw = request.query_params.get("limit", "50")
        reject_unknown_parameters(request, {"limit"})
        if not re.fullmatch(r"[0-9]{1,3}", raw) or not 1 <= int(raw) <= 500:
            raise ValidationError({"limit": ["A whole number from 1 to 500."]})
        rows = sorted(suggested_order(product=product), key=lambda row: (-abs(row.drift), row.position))
        rows = [row for row in rows if row.drift][: int(raw)]
        numbers = {row.item_id: row.number for row in rows}
        data = [{**vars(row), "key": item_key(product.key, numbers[row.item_id]), "drift": row.drift} for row in rows]
        return Response(s.SuggestionSerializer(data, many=True).data)


class ApplySuggestionApi(GenericAPIView):
    serializer_class = s.ApplySuggestionResultSerializer

    @extend_schema(
        summary="Apply the suggested order to all unpinned items, or to the ones given (owners and delegates)",
        request=s.ApplySuggestionSerializer,
    )
    def post(self, request, key: str):
        product = get_product_or_404(request.user, key)
        data = s.ApplySuggestionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        references = data.validated_data.get("items")
        item_ids = item_ids_in(product, references, "items") if references is not None else None
        moved = order_apply_suggestion(
            product=product, actor=request.user, item_ids=item_ids, reason=data.validated_data["reason"]
        )
        return Response(s.ApplySuggestionResultSerializer({"moved": moved}).data)


class ScoringSettingsApi(GenericAPIView):
    serializer_class = s.ScoringSettingsSerializer

    @extend_schema(summary="The product's scoring model and weights")
    def get(self, request, key: str):
        product = get_product_or_404(request.user, key)
        return Response(s.ScoringSettingsSerializer(product).data)

    @extend_schema(
        summary="Change the scoring model or weights (owners); every score is recomputed",
        request=s.ScoringSettingsSerializer(partial=True),
    )
    def patch(self, request, key: str):
        product = get_product_or_404(request.user, key)
        data = s.ScoringSettingsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        product = product_scoring_update(
            product=product,
            actor=request.user,
            model=data.validated_data.get("scoring_model"),
            weights=data.validated_data.get("score_weights"),
        )
        return Response(s.ScoringSettingsSerializer(product).data)
