from rest_framework import serializers

from accounts.models import ApiToken, Membership, Product
from accounts.services import PRODUCT_SETTINGS
from config.api import ApiModelSerializer, ApiSerializer, StrictBooleanField, StrictCharField, StrictChoiceField


class ProductSerializer(serializers.ModelSerializer):
    my_role = serializers.CharField(read_only=True, help_text="The caller's role in the product.")
    my_ordering_delegated = serializers.BooleanField(read_only=True)

    class Meta:
        model = Product
        fields = ["key", *PRODUCT_SETTINGS, "created_at", "my_role", "my_ordering_delegated"]
        read_only_fields = ["key", "created_at"]


class ProductUpdateSerializer(ApiModelSerializer):
    read_only_hints = dict.fromkeys(ProductSerializer.Meta.fields, "Read-only field.")

    class Meta:
        model = Product
        fields = list(PRODUCT_SETTINGS)  # what owners may change


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["username", "role", "ordering_delegated", "created_at"]
        read_only_fields = fields


class MembershipWriteSerializer(ApiSerializer):
    username = StrictCharField(max_length=150)
    role = StrictChoiceField(choices=Membership.Role.choices)
    ordering_delegated = StrictBooleanField(default=False)


class MembershipChangeSerializer(ApiSerializer):
    """What is left out stays as it is."""

    role = StrictChoiceField(choices=Membership.Role.choices, required=False)
    ordering_delegated = StrictBooleanField(required=False)


class ApiTokenSerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The id of the token this one was made with (null: made in the browser); "
        "it stops working when that one is revoked or expires.",
    )

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "read_only",
            "expires_at",
            "created_at",
            "last_used_at",
            "revoked_at",
            "parent",
        ]
        read_only_fields = fields


class ApiTokenCreateSerializer(ApiSerializer):
    name = StrictCharField(max_length=100)
    read_only = StrictBooleanField(default=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret token. Shown only in this response.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields
