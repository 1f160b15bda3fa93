from allauth.account.models import EmailAddress
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin

from accounts.models import ApiToken, Membership, Product, User
from accounts.services import token_create, token_revoke


class EmailAddressInline(admin.TabularInline):
    """allauth's record of the user's address: support can see (and set) whether it is confirmed."""

    model = EmailAddress
    extra = 0
    fields = ("email", "primary", "verified")


@admin.register(User)
class OneBacklogUserAdmin(UserAdmin):
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
    )
    inlines = (EmailAddressInline,)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "last_item_number", "scoring_model", "debt_target_percent", "created_at")
    search_fields = ("key", "name")
    readonly_fields = ("last_item_number", "created_at")
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "product", "role", "ordering_delegated", "created_at")
    list_filter = ("role", "ordering_delegated", "product")
    search_fields = ("user__username", "user__email", "product__key", "product__name")
    autocomplete_fields = ("user", "product")
    list_select_related = ("user", "product")


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user", "name", "read_only", "expires_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Support view of API tokens: create one (shown once), see use, revoke. Secrets are never stored."""

    list_display = ("name", "user", "prefix", "read_only", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("read_only", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    readonly_fields = ("user", "name", "prefix", "read_only", "expires_at", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ()

    def get_fields(self, request, obj=None):
        return ApiTokenAddForm.Meta.fields if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        token, raw = token_create(user=obj.user, name=obj.name, read_only=obj.read_only, expires_at=obj.expires_at)
        obj.pk = token.pk
        self.message_user(
            request, f"Token for {token.user}: {raw} — copy it now, it is not shown again.", messages.WARNING
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset) -> None:
        for token in queryset:
            token_revoke(token=token, actor=request.user)
        self.message_user(request, f"{queryset.count()} token(s) revoked.", messages.SUCCESS)
