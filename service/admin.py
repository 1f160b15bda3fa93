from django.contrib import admin

from service.models import IntakeToken, Occurrence, Queue, ServiceSettings, Ticket


@admin.register(ServiceSettings)
class ServiceSettingsAdmin(admin.ModelAdmin):
    list_display = ["product", "high_impact_users", "medium_impact_users", "time_zone", "lower_priorities"]


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "product", "owner"]
    list_filter = ["product"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["item", "queue", "fingerprint", "occurrence_count", "affected_users", "resolution_due_at"]
    list_filter = ["product", "queue"]
    raw_id_fields = ["item", "assignee"]
    readonly_fields = ["priority_why"]


@admin.register(Occurrence)
class OccurrenceAdmin(admin.ModelAdmin):
    list_display = ["ticket", "received_at", "reporter", "external_ref", "affected_users"]
    raw_id_fields = ["ticket"]


@admin.register(IntakeToken)
class IntakeTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "product", "created_by", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash", "last_used_at", "revoked_at"]
