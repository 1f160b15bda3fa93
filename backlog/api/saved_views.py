"""Saved views of the backlog: /products/{key}/views/ and /views/{id}/ (thin over backlog.services.saved_views)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.access import access_product
from backlog.access import access_saved_view
from backlog.api.pagination import TimeCursorPagination
from backlog.api.shared import PAGINATION_PARAMS
from backlog.filters import ItemFilter
from backlog.models import SavedView
from backlog.selectors import saved_views_for
from backlog.services.saved_views import (
    can_change_saved_view,
    saved_view_create,
    saved_view_delete,
    saved_view_update,
)
from config.api import (
    ApiSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    reject_unknown_parameters,
    validated_input,
)

MAX_NAME = SavedView._meta.get_field("name").max_length


class SavedViewFiltersSerializer(ApiSerializer):
    """The backlog list's parameters (GET /products/{key}/items/), as query-string values; an unknown
    one is refused, the values are checked as the list checks them."""

    def get_fields(self):
        return {
            name: StrictCharField(required=False, max_length=200, help_text=definition.extra.get("help_text", ""))
            for name, definition in ItemFilter.base_filters.items()
        }


class SavedViewSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    filters = SavedViewFiltersSerializer(read_only=True)
    columns = serializers.ListField(
        child=serializers.ChoiceField(choices=SavedView.COLUMNS), read_only=True, help_text="Shown; empty: all."
    )
    url = serializers.CharField(
        source="get_absolute_url", read_only=True, help_text="The backlog page with it applied."
    )
    can_change = serializers.SerializerMethodField(help_text="May the caller rename, change or delete it?")

    class Meta:
        model = SavedView
        fields = [
            "id",
            "name",
            "filters",
            "columns",
            "shared",
            "created_by",
            "created_at",
            "updated_at",
            "url",
            "can_change",
        ]
        read_only_fields = fields

    def get_can_change(self, view: SavedView) -> bool:
        return can_change_saved_view(self.context["request"].user, view)


class SavedViewWriteSerializer(ApiSerializer):
    name = StrictCharField(max_length=MAX_NAME)
    filters = SavedViewFiltersSerializer(required=False)
    columns = serializers.ListField(
        child=StrictChoiceField(choices=SavedView.COLUMNS),
        required=False,
        max_length=len(SavedView.COLUMNS),
        help_text="The columns shown; empty or left out: all.",
    )
    shared = StrictBooleanField(required=False, help_text="Shown to every member of the product (default false).")


class SavedViewChangeSerializer(SavedViewWriteSerializer):
    name = StrictCharField(max_length=MAX_NAME, required=False)


class SavedViewListApi(GenericAPIView):
    serializer_class = SavedViewSerializer
    pagination_class = TimeCursorPagination

    @extend_schema(
        summary="Saved views of the backlog: yours and the shared ones, oldest first",
        responses=SavedViewSerializer(many=True),
    )
    def get(self, request, key: str):
        reject_unknown_parameters(request, PAGINATION_PARAMS - {"count"})
        product, _ = access_product(request.user, key)
        page = self.paginate_queryset(saved_views_for(product=product, user=request.user))
        return self.get_paginated_response(SavedViewSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Save a view: backlog filters and columns, private or shared with the product",
        request=SavedViewWriteSerializer,
        responses={201: SavedViewSerializer},
    )
    def post(self, request, key: str):
        product, _ = access_product(request.user, key)
        body = validated_input(SavedViewWriteSerializer, request)
        view = saved_view_create(
            product=product,
            actor=request.user,
            name=body["name"],
            filters=dict(body.get("filters", {})),
            columns=body.get("columns", []),
            shared=body.get("shared", False),
        )
        return Response(SavedViewSerializer(view, context={"request": request}).data, status=status.HTTP_201_CREATED)


class SavedViewDetailApi(GenericAPIView):
    serializer_class = SavedViewSerializer

    @extend_schema(summary="One saved view (yours, or a shared one)")
    def get(self, request, view_id: int):
        view, _ = access_saved_view(request.user, view_id)
        return Response(SavedViewSerializer(view, context={"request": request}).data)

    @extend_schema(
        summary="Change a saved view (its author; a shared one also the product's owners)",
        request=SavedViewChangeSerializer,
    )
    def patch(self, request, view_id: int):
        view, _ = access_saved_view(request.user, view_id)
        body = validated_input(SavedViewChangeSerializer, request)
        changes = {name: dict(value) if name == "filters" else value for name, value in body.items()}
        view = saved_view_update(view=view, actor=request.user, changes=changes)
        return Response(SavedViewSerializer(view, context={"request": request}).data)

    @extend_schema(
        summary="Delete a saved view (its author; a shared one also the product's owners)",
        responses={204: OpenApiResponse()},
    )
    def delete(self, request, view_id: int):
        view, _ = access_saved_view(request.user, view_id)
        saved_view_delete(view=view, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
