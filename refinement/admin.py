from django.contrib import admin

from refinement.models import StaleFlag


@admin.register(StaleFlag)
class StaleFlagAdmin(admin.ModelAdmin):
    list_display = ("item", "untouched_since", "flagged_at")
    list_filter = ("item__product",)
    search_fields = ("item__title",)
    list_select_related = ("item__product",)
