from django.contrib import admin
from django.utils import timezone

from webhooks.models import Attempt, Delivery, Endpoint


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "product", "enabled", "last_success_at", "disabled_reason", "created_at")
    list_filter = ("enabled", "product")
    search_fields = ("url", "description", "product__key")
    readonly_fields = ("secret", "created_at", "updated_at", "last_success_at", "created_by")


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "started_at", "duration_ms", "status_code", "error", "response_body")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("event_id", "event_type", "endpoint", "state", "attempts", "next_attempt_at", "last_status")
    list_filter = ("state", "event_type")
    search_fields = ("event_id", "endpoint__url", "endpoint__product__key")
    readonly_fields = ("endpoint", "event_id", "event_type", "payload", "created_at", "finished_at")
    inlines = [AttemptInline]
    actions = ["send_again_now"]

    @admin.action(description="Make due now (the sweep sends them within seconds)")
    def send_again_now(self, request, queryset):
        count = queryset.filter(state=Delivery.State.PENDING).update(next_attempt_at=timezone.now())
        self.message_user(request, f"{count} pending deliveries made due.")
