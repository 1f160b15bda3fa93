"""The links API: an item's links on both ends; create and remove blocks / relates links."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from backlog.access import access_item, access_link, item_in
from backlog.api.serializers import ItemReferenceField
from backlog.api.shared import ITEM_REF
from backlog.history import LINK_ENDS
from backlog.links import END_WORDS, item_links
from backlog.models import item_key
from backlog.services.links import link_create, link_delete
from config.api import ApiSerializer, StrictChoiceField, reject_unknown_parameters, validated_input


class LinkSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        allow_null=True, help_text="The stored link's id (delete it by it); null for split and duplicate links."
    )
    type = serializers.ChoiceField(choices=list(END_WORDS), help_text="What this item is to the other.")
    text = serializers.CharField(help_text='The link in words: "OB-3 blocks OB-7".')
    item = serializers.CharField(help_text="The other item's key.")
    title = serializers.CharField(help_text="The other item's title.")
    status = serializers.CharField(help_text="The other item's status.")


class LinkCreateSerializer(ApiSerializer):
    type = StrictChoiceField(
        choices=list(LINK_ENDS), help_text="What this item is to the other: blocks, blocked_by, relates_to."
    )
    item = ItemReferenceField(help_text="The other item (same product): id or key.")


def _links_data(item) -> list[dict]:
    key = item.key
    return [
        {
            "id": found.link_id,
            "type": found.end,
            "text": f"{key} {found.words} {item_key(item.product.key, found.other.number)}",
            "item": item_key(item.product.key, found.other.number),
            "title": found.other.title,
            "status": found.other.status,
        }
        for found in item_links(item=item)
    ]


class ItemLinkListApi(GenericAPIView):
    serializer_class = LinkSerializer
    pagination_class = None  # an item holds at most MAX_LINKS stored links

    @extend_schema(
        summary="The item's links on both ends: blocks, blocked by, relates to, split from/into, duplicates",
        parameters=[ITEM_REF],
        responses=LinkSerializer(many=True),
    )
    def get(self, request, ref: str):
        reject_unknown_parameters(request, set())
        item, _ = access_item(request.user, ref)
        return Response(LinkSerializer(_links_data(item), many=True).data)

    @extend_schema(
        summary="Link the item to another of its product (members who edit items); a blocking cycle is refused",
        parameters=[ITEM_REF],
        request=LinkCreateSerializer,
        responses={201: LinkSerializer(many=True)},
    )
    def post(self, request, ref: str):
        item, _ = access_item(request.user, ref)  # outsiders get 404 whatever they send
        body = validated_input(LinkCreateSerializer, request)
        other = item_in(item.product, body["item"], "item")
        link_create(item=item, actor=request.user, link=body["type"], other=other)
        return Response(LinkSerializer(_links_data(item), many=True).data, status=status.HTTP_201_CREATED)


class ItemLinkDetailApi(GenericAPIView):
    serializer_class = LinkSerializer

    @extend_schema(summary="Remove a blocks or relates link (members who edit items)", parameters=[ITEM_REF])
    def delete(self, request, ref: str, link_id: int):
        item, _ = access_item(request.user, ref)
        link = access_link(item, link_id)
        link_delete(link=link, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
