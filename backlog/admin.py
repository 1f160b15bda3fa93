from django.contrib import admin
from django.db.models import F

from backlog.models import ChangeSequence, Item, ItemEvent, Label


class ItemEventInline(admin.TabularInline):
    model = ItemEvent
    fields = ("created_at", "type", "actor", "data", "reason", "operation")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-created_at", "-id")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    """Support view of items. Order and status change through the product's pages and API,
    which keep the history; here they are read-only."""

    list_display = (
        "item_key",
        "title",
        "kind",
        "status",
        "estimate",
        "rank",
        "updated_at",
    )
    list_display_links = ("item_key", "title")
    list_filter = ("kind", "status", "product")
    search_fields = ("title", "description", "=number", "product__key")
    list_select_related = ("product",)
    list_per_page = 100
    show_full_result_count = False
    ordering = (F("rank").asc(nulls_last=True), "number")
    readonly_fields = (
        "product",
        "number",
        "status",
        "rank",
        "itil_priority",
        "sla_due_at",
        "score",
        "score_breakdown",
        "score_computed_at",
        "split_from",
        "created_by",
        "created_at",
        "updated_at",
        "version",
    )
    filter_horizontal = ("labels",)
    inlines = (ItemEventInline,)

    @admin.display(description="Key", ordering="number")
    def item_key(self, obj: Item) -> str:
        return obj.key

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ("name", "product")
    list_filter = ("product",)
    search_fields = ("name",)


@admin.register(ItemEvent)
class ItemEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "seq", "type", "item", "actor", "reason")
    list_filter = ("type", "product")
    search_fields = ("item__title", "reason", "actor__username")
    list_select_related = ("item__product", "actor")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChangeSequence)
class ChangeSequenceAdmin(admin.ModelAdmin):
    """Support: how far each product's change feed has got (read-only: history.write advances it)."""

    list_display = ("product", "last_seq")
    list_select_related = ("product",)
    readonly_fields = ("product", "last_seq")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
