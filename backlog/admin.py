from django.contrib import admin
from django.db import transaction
from django.db.models import F

from backlog import order_sql
from backlog.models import ChangeSequence, Import, Item, ItemEvent, ItemLink, Label, OrderBlock, SavedView, Theme
from backlog.services.ordering import lock_product


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
    search_fields = ("title", "description", "=number", "product__key", "=external_ref")
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


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    """Support view of saved backlog views (their filters are checked when saved through the app)."""

    list_display = ("name", "product", "created_by", "shared", "updated_at")
    list_filter = ("shared", "product")
    search_fields = ("name", "created_by__username", "product__key")
    list_select_related = ("product", "created_by")
    readonly_fields = ("product", "created_by", "filters", "columns", "created_at", "updated_at")
    fields = ("name", "shared", *readonly_fields)

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ChangeSequence)
class ChangeSequenceAdmin(admin.ModelAdmin):
    """Support: how far each product's change feed has got (read-only: history.write advances it)."""

    list_display = ("product", "last_seq")
    list_select_related = ("product",)
    readonly_fields = ("product", "last_seq")


@admin.register(OrderBlock)
class OrderBlockAdmin(admin.ModelAdmin):
    """Support: the order-statistics blocks of each product (read-only: triggers keep the sizes).
    "Count again" recuts a product's blocks from its keys, should a size ever be wrong."""

    list_display = ("product", "low", "size")
    list_filter = ("product",)
    list_select_related = ("product",)
    ordering = ("product", "low")
    readonly_fields = ("product", "low", "size")
    show_full_result_count = False
    actions = ["count_again"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Count the selected blocks' products again")
    def count_again(self, request, queryset) -> None:
        products = sorted(set(queryset.values_list("product_id", flat=True)))
        for product_id in products:
            with transaction.atomic():
                lock_product(product_id)
                order_sql.blocks_recut(product_id)
        self.message_user(request, f"Counted the blocks of {len(products)} product(s) again.")


@admin.register(Import)
class ImportAdmin(admin.ModelAdmin):
    """Support view of CSV imports: who uploaded what, its preview errors, progress and result.
    Read-only; a stuck one is run again by the schedule (``run_queued_imports``)."""

    list_display = ("created_at", "product", "file_name", "source", "state", "total", "created_count", "updated_count")
    list_filter = ("state", "source", "product")
    search_fields = ("file_name", "created_by__username", "product__key")
    list_select_related = ("product", "created_by")
    date_hierarchy = "created_at"
    readonly_fields = (
        "product",
        "created_by",
        "file_name",
        "source",
        "placing",
        "state",
        "total",
        "processed",
        "preview",
        "errors",
        "created_count",
        "updated_count",
        "skipped",
        "skipped_count",
        "failure",
        "created_at",
        "confirmed_at",
        "started_at",
        "finished_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    """Support view of themes: editing here is fine (no history is kept for themes)."""

    list_display = ("title", "product", "target_date", "colour", "item_count")
    list_filter = ("product",)
    search_fields = ("title", "product__key")
    list_select_related = ("product",)

    @admin.display(description="Items")
    def item_count(self, obj: Theme) -> int:
        return obj.items.count()


@admin.register(ItemLink)
class ItemLinkAdmin(admin.ModelAdmin):
    """Support view of links between items, read-only: the item pages and the API change them and
    record each change in both items' history."""

    list_display = ("source", "kind", "target", "product", "created_by", "created_at")
    list_filter = ("kind", "product")
    search_fields = ("source__title", "target__title", "=source__number", "=target__number", "product__key")
    list_select_related = ("source__product", "target__product", "product", "created_by")
    raw_id_fields = ("source", "target")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
