from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import Membership, Product, User


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


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "last_item_number", "stale_after_days", "created_at")
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
