"""The webhook API (owners): endpoints, their secrets, test events, delivery logs, redelivery.
Thin views over ``webhooks.services`` and ``webhooks.selectors``."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from accounts.access import access_product
from accounts.permissions import Action
from config.api import reject_unknown_parameters, validated_input
from config.pagination import StrictPageSize
from webhooks.access import access_delivery, access_endpoint
from webhooks.api import serializers as s
from webhooks.selectors import delivery_list, endpoint_list
from webhooks.services import (
    delivery_redeliver,
    endpoint_create,
    endpoint_delete,
    endpoint_secret_rotate,
    endpoint_test_send,
    endpoint_update,
)

KEY = OpenApiParameter("key", OpenApiTypes.STR, OpenApiParameter.PATH, description="Product key, e.g. OB.")
ENDPOINT = OpenApiParameter("endpoint_id", OpenApiTypes.INT, OpenApiParameter.PATH)
DELIVERY = OpenApiParameter("delivery_id", OpenApiTypes.INT, OpenApiParameter.PATH)


class DeliveryCursorPagination(StrictPageSize, CursorPagination):
    """Deliveries newest first; a page_size that is not 1 to 200 is a 400."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")


class EndpointListApi(GenericAPIView):
    serializer_class = s.EndpointSerializer

    @extend_schema(
        summary="The product's webhook endpoints (owners)",
        parameters=[KEY],
        responses=s.EndpointSerializer(many=True),
    )
    def get(self, request, key: str):
        reject_unknown_parameters(request, set())
        product, _ = access_product(request.user, key, Action.MANAGE)
        return Response(s.EndpointSerializer(endpoint_list(product=product), many=True).data)

    @extend_schema(
        summary="Add a webhook endpoint; the answer holds its signing secret, shown only now (owners)",
        parameters=[KEY],
        responses={201: s.EndpointSecretSerializer},
    )
    def post(self, request, key: str):
        product, _ = access_product(request.user, key, Action.MANAGE)
        data = validated_input(s.EndpointSerializer, request)
        endpoint = endpoint_create(
            product=product,
            actor=request.user,
            url=data["url"],
            events=data["events"],
            description=data.get("description", ""),
        )
        if data.get("enabled") is False:
            endpoint = endpoint_update(endpoint=endpoint, actor=request.user, changes={"enabled": False})
        return Response(s.EndpointSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetailApi(GenericAPIView):
    serializer_class = s.EndpointSerializer

    @extend_schema(summary="One webhook endpoint (owners)", parameters=[KEY, ENDPOINT])
    def get(self, request, key: str, endpoint_id: int):
        reject_unknown_parameters(request, set())
        return Response(s.EndpointSerializer(access_endpoint(request.user, key, endpoint_id)).data)

    @extend_schema(
        summary="Change the URL, events, description or enabled flag (enabling again clears why it was disabled)",
        parameters=[KEY, ENDPOINT],
        request=s.EndpointChangeSerializer,
        responses=s.EndpointSerializer,
    )
    def patch(self, request, key: str, endpoint_id: int):
        endpoint = access_endpoint(request.user, key, endpoint_id)
        data = validated_input(s.EndpointChangeSerializer, request)
        endpoint = endpoint_update(endpoint=endpoint, actor=request.user, changes=data)
        return Response(s.EndpointSerializer(endpoint).data)

    @extend_schema(summary="Remove a webhook endpoint and its delivery log", parameters=[KEY, ENDPOINT])
    def delete(self, request, key: str, endpoint_id: int):
        endpoint_delete(endpoint=access_endpoint(request.user, key, endpoint_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointSecretApi(GenericAPIView):
    serializer_class = s.EmptySerializer

    @extend_schema(
        summary="Rotate the signing secret; the answer holds the new one, shown only now (owners)",
        parameters=[KEY, ENDPOINT],
        responses=s.EndpointSecretSerializer,
    )
    def post(self, request, key: str, endpoint_id: int):
        endpoint = access_endpoint(request.user, key, endpoint_id)
        validated_input(s.EmptySerializer, request)
        return Response(s.EndpointSecretSerializer(endpoint_secret_rotate(endpoint=endpoint, actor=request.user)).data)


class EndpointTestApi(GenericAPIView):
    serializer_class = s.EmptySerializer

    @extend_schema(
        summary="Send a test event (webhook.test, one attempt); its result shows in the delivery log",
        parameters=[KEY, ENDPOINT],
        responses={202: s.DeliverySerializer},
    )
    def post(self, request, key: str, endpoint_id: int):
        endpoint = access_endpoint(request.user, key, endpoint_id)
        validated_input(s.EmptySerializer, request)
        delivery = endpoint_test_send(endpoint=endpoint, actor=request.user)
        return Response(s.DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryListApi(GenericAPIView):
    serializer_class = s.DeliverySerializer
    pagination_class = DeliveryCursorPagination

    @extend_schema(
        summary="The endpoint's deliveries, newest first, each with its attempts (status, time, error)",
        parameters=[KEY, ENDPOINT],
        responses=s.DeliverySerializer(many=True),
    )
    def get(self, request, key: str, endpoint_id: int):
        reject_unknown_parameters(request, {"cursor", "page_size"})
        endpoint = access_endpoint(request.user, key, endpoint_id)
        page = self.paginate_queryset(delivery_list(endpoint=endpoint))
        return self.get_paginated_response(s.DeliverySerializer(page, many=True).data)


class RedeliverApi(GenericAPIView):
    serializer_class = s.EmptySerializer

    @extend_schema(
        summary="Send a finished delivery once more, same id and body (one attempt)",
        parameters=[KEY, ENDPOINT, DELIVERY],
        responses={202: s.DeliverySerializer},
    )
    def post(self, request, key: str, endpoint_id: int, delivery_id: int):
        delivery = access_delivery(request.user, key, endpoint_id, delivery_id)
        validated_input(s.EmptySerializer, request)
        delivery = delivery_redeliver(delivery=delivery, actor=request.user)
        return Response(s.DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
