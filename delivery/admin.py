from django.contrib import admin

from delivery.models import DeliverySettings, DodWaiver, RetroAction, Sprint, SprintEvent, SprintItem


class SprintItemInline(admin.TabularInline):
    model = SprintItem
    raw_id_fields = ["item"]
    extra = 0


@admin.register(Sprint)
class SprintAdmin(admin.ModelAdmin):
    list_display = ["product", "number", "name", "state", "start_date", "end_date", "capacity"]
    list_filter = ["state"]
    readonly_fields = ["state", "committed_at", "closed_at", "policy", "plan_reason", "carry_over"]
    inlines = [SprintItemInline]


@admin.register(DeliverySettings)
class DeliverySettingsAdmin(admin.ModelAdmin):
    list_display = ["product", "feature_share", "defect_share", "debt_share", "operational_share", "waiver_debt"]


@admin.register(DodWaiver)
class DodWaiverAdmin(admin.ModelAdmin):
    list_display = ["item", "entry", "debt_item", "created_at"]
    raw_id_fields = ["item", "debt_item"]


@admin.register(SprintEvent)
class SprintEventAdmin(admin.ModelAdmin):
    list_display = ["sprint", "type", "actor", "created_at"]


@admin.register(RetroAction)
class RetroActionAdmin(admin.ModelAdmin):
    list_display = ["sprint", "text", "debt_item"]
    raw_id_fields = ["debt_item"]
