from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.access import access_product, access_token
from accounts.api import serializers as s
from accounts.api.pagination import AuditCursorPagination, NotificationCursorPagination
from accounts.models import ApiToken, Membership, Notification, Product, User
from accounts.permissions import Action
from accounts.selectors import audit_events, product_members, products_for
from accounts.services import (
    membership_remove,
    membership_set,
    notifications_mark_read,
    product_update,
    token_create,
    token_revoke,
)
from config.api import reject_unknown_parameters


class ProductListApi(GenericAPIView):
    serializer_class = s.ProductSerializer
    pagination_class = None

    @extend_schema(
        summary="The products you belong to, with their settings and your role",
        operation_id="products_list",
        responses=s.ProductSerializer(many=True),
    )
    def get(self, request):
        return Response(s.ProductSerializer(products_for(user=request.user), many=True).data)


class ProductDetailApi(GenericAPIView):
    serializer_class = s.ProductSerializer

    def get_object(self) -> Product:
        product, _ = access_product(self.request.user, self.kwargs["key"])
        return products_for(user=self.request.user).get(pk=product.pk)

    @extend_schema(summary="One product")
    def get(self, request, key: str):
        return Response(s.ProductSerializer(self.get_object()).data)

    @extend_schema(summary="Change a product's settings (owners)", request=s.ProductUpdateSerializer)
    def patch(self, request, key: str):
        product = self.get_object()
        data = s.ProductUpdateSerializer(product, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        product_update(product=product, actor=request.user, changes=data.validated_data)
        return Response(s.ProductSerializer(self.get_object()).data)


class MemberListApi(GenericAPIView):
    serializer_class = s.MembershipSerializer
    pagination_class = None

    @extend_schema(
        summary="The product's members", operation_id="members_list", responses=s.MembershipSerializer(many=True)
    )
    def get(self, request, key: str):
        product, _ = access_product(request.user, key)
        return Response(s.MembershipSerializer(product_members(product=product), many=True).data)

    @extend_schema(
        summary="Add a member or change their role (owners)",
        request=s.MembershipWriteSerializer,
        responses={201: s.MembershipSerializer},
    )
    def post(self, request, key: str):
        product, _ = access_product(request.user, key, Action.MANAGE)
        data = s.MembershipWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = User.objects.filter(username=data.validated_data.pop("username"), is_active=True).first()
        if user is None:
            raise ValidationError({"username": ["No active user with this username."]})
        membership = membership_set(product=product, actor=request.user, user=user, **data.validated_data)
        return Response(s.MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(GenericAPIView):
    serializer_class = s.MembershipSerializer

    def get_membership(self, request, key: str, username: str) -> Membership:
        product, _ = access_product(request.user, key)
        return get_object_or_404(product_members(product=product), user__username=username)

    @extend_schema(summary="One member")
    def get(self, request, key: str, username: str):
        return Response(s.MembershipSerializer(self.get_membership(request, key, username)).data)

    @extend_schema(summary="Change a member's role (owners)", request=s.MembershipChangeSerializer)
    def patch(self, request, key: str, username: str):
        membership = self.get_membership(request, key, username)
        data = s.MembershipChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = {"role": membership.role, "ordering_delegated": membership.ordering_delegated, **data.validated_data}
        membership = membership_set(product=membership.product, actor=request.user, user=membership.user, **changes)
        return Response(s.MembershipSerializer(membership).data)

    @extend_schema(summary="Remove a member (owners)", responses={204: None})
    def delete(self, request, key: str, username: str):
        membership = self.get_membership(request, key, username)
        membership_remove(product=membership.product, actor=request.user, user=membership.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListApi(GenericAPIView):
    serializer_class = s.ApiTokenSerializer
    pagination_class = None

    @extend_schema(
        summary="Your API tokens (never their secrets)",
        operation_id="tokens_list",
        responses=s.ApiTokenSerializer(many=True),
    )
    def get(self, request):
        return Response(s.ApiTokenSerializer(ApiToken.objects.filter(user=request.user), many=True).data)

    @extend_schema(
        summary="Create an API token: the response holds the secret, shown only once",
        request=s.ApiTokenCreateSerializer,
        responses={201: s.ApiTokenCreatedSerializer},
    )
    def post(self, request):
        data = s.ApiTokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        parent = request.auth if isinstance(request.auth, ApiToken) else None
        token, raw = token_create(user=request.user, created_with=parent, **data.validated_data)
        token.token = raw
        return Response(s.ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenDetailApi(GenericAPIView):
    serializer_class = s.ApiTokenSerializer

    @extend_schema(summary="Revoke one of your API tokens", responses={204: None})
    def delete(self, request, token_id: int):
        token = access_token(request.user, token_id)
        token_revoke(token=token, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditListApi(GenericAPIView):
    serializer_class = s.AuditEventSerializer
    pagination_class = AuditCursorPagination

    @extend_schema(
        summary="The product's audit trail, newest first: members, invitations and settings (owners)",
        responses=s.AuditEventSerializer(many=True),
    )
    def get(self, request, key: str):
        reject_unknown_parameters(request, {"cursor", "page_size"})
        product, _ = access_product(request.user, key, Action.MANAGE)
        page = self.paginate_queryset(audit_events(product=product))
        return self.get_paginated_response(s.AuditEventSerializer(page, many=True).data)


class NotificationListApi(GenericAPIView):
    serializer_class = s.NotificationSerializer
    pagination_class = NotificationCursorPagination

    @extend_schema(
        summary="Your notifications, newest first (unread=true: only the unread)",
        parameters=[OpenApiParameter("unread", str, enum=["true", "false"], required=False)],
        responses=s.NotificationSerializer(many=True),
    )
    def get(self, request):
        reject_unknown_parameters(request, {"cursor", "page_size", "unread"})
        unread = request.query_params.get("unread", "false")
        if unread not in ("true", "false"):
            raise ValidationError({"unread": ["Give true or false."]})
        notifications = Notification.objects.filter(user=request.user, in_app=True).select_related("product")
        if unread == "true":
            notifications = notifications.filter(read_at=None)
        page = self.paginate_queryset(notifications)
        return self.get_paginated_response(s.NotificationSerializer(page, many=True).data)


class NotificationsReadApi(GenericAPIView):
    serializer_class = s.NotificationsReadSerializer

    @extend_schema(
        summary="Mark your notifications read (the ids given, or all)",
        request=s.NotificationsReadSerializer,
        responses=s.NotificationsReadResultSerializer,
    )
    def post(self, request):
        data = s.NotificationsReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        marked = notifications_mark_read(user=request.user, ids=data.validated_data.get("ids"))
        return Response({"marked": marked})
