"""The themes API: a product's themes with their roll-ups; owners create, edit and delete them."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.access import access_product
from accounts.permissions import Action
from backlog.access import access_theme
from backlog.api.pagination import TimeCursorPagination
from backlog.api.shared import PAGINATION_PARAMS
from backlog.models import Item, Theme
from backlog.rendering import markdown_html
from backlog.services.themes import theme_create, theme_delete, theme_update
from backlog.themes import theme_list, theme_rollups
from config.api import ApiModelSerializer, reject_unknown_parameters, validated_input


class KindFiguresSerializer(serializers.Serializer):
    items = serializers.IntegerField()
    points = serializers.IntegerField()


class RollUpSerializer(serializers.Serializer):
    by_kind = serializers.DictField(
        child=KindFiguresSerializer(), help_text=f"Items and points per kind ({', '.join(Item.Kind.values)})."
    )
    items = serializers.IntegerField(help_text="Items not rejected or archived.")
    points = serializers.IntegerField(help_text="Their estimates added up.")
    done_items = serializers.IntegerField()
    done_percent = serializers.FloatField(allow_null=True, help_text="Done items over items, in percent.")
    debt_share = serializers.FloatField(allow_null=True, help_text="Technical-debt points over points, in percent.")
    highest_score = serializers.FloatField(allow_null=True, help_text="Of its items in the order.")
    mean_score = serializers.FloatField(allow_null=True, help_text="Of its scored items in the order.")


class ThemeSerializer(serializers.ModelSerializer):
    description_html = serializers.SerializerMethodField(help_text="The description rendered, sanitized.")
    rollup = serializers.SerializerMethodField()

    class Meta:
        model = Theme
        fields = ["id", "title", "description", "description_html", "colour", "target_date", "created_at", "rollup"]
        read_only_fields = fields

    def get_description_html(self, theme: Theme) -> str:
        return str(markdown_html(theme.description))

    @extend_schema_field(RollUpSerializer)
    def get_rollup(self, theme: Theme) -> dict:
        rollups = self.context.get("rollups") or theme_rollups(product=theme.product, theme_ids=[theme.pk])
        return rollups[theme.pk].as_dict()


class ThemeWriteSerializer(ApiModelSerializer):
    class Meta:
        model = Theme
        fields = ["title", "description", "colour", "target_date"]
        extra_kwargs = {"title": {"required": True}}


def _theme_response(theme: Theme, **kwargs) -> Response:
    return Response(ThemeSerializer(theme).data, **kwargs)


class ThemeListApi(GenericAPIView):
    serializer_class = ThemeSerializer
    pagination_class = TimeCursorPagination

    @extend_schema(
        summary="The product's themes with their roll-ups, oldest first", responses=ThemeSerializer(many=True)
    )
    def get(self, request, key: str):
        reject_unknown_parameters(request, PAGINATION_PARAMS - {"count"})
        product, _ = access_product(request.user, key)
        page = self.paginate_queryset(theme_list(product=product))
        for theme in page:
            theme.product = product
        rollups = theme_rollups(product=product, theme_ids=[theme.pk for theme in page])
        return self.get_paginated_response(ThemeSerializer(page, many=True, context={"rollups": rollups}).data)

    @extend_schema(summary="Create a theme (owners)", request=ThemeWriteSerializer, responses={201: ThemeSerializer})
    def post(self, request, key: str):
        product, _ = access_product(request.user, key, Action.MANAGE)
        body = validated_input(ThemeWriteSerializer, request)
        theme = theme_create(product=product, actor=request.user, **body)
        return _theme_response(theme, status=status.HTTP_201_CREATED)


class ThemeDetailApi(GenericAPIView):
    serializer_class = ThemeSerializer

    @extend_schema(summary="One theme with its roll-up")
    def get(self, request, key: str, theme_id: int):
        theme, _ = access_theme(request.user, key, theme_id)
        return _theme_response(theme)

    @extend_schema(summary="Edit a theme (owners)", request=ThemeWriteSerializer(partial=True))
    def patch(self, request, key: str, theme_id: int):
        theme, _ = access_theme(request.user, key, theme_id)
        body = validated_input(ThemeWriteSerializer, request, partial=True)
        theme = theme_update(theme=theme, actor=request.user, changes=dict(body))
        return _theme_response(theme)

    @extend_schema(summary="Delete a theme (owners): its items stay, without a theme", responses={204: None})
    def delete(self, request, key: str, theme_id: int):
        theme, _ = access_theme(request.user, key, theme_id)
        theme_delete(theme=theme, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
