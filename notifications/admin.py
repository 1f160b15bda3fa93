from django.contrib import admin

from accounts.models import Notification
from notifications.models import Preferences, Watch


@admin.register(Preferences)
class PreferencesAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "question",
        "answer",
        "decision",
        "mention",
        "watched",
        "sla_breach",
        "digest",
        "digest_sent_on",
    ]
    list_filter = ["digest", "watched", "mention"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]


@admin.register(Watch)
class WatchAdmin(admin.ModelAdmin):
    list_display = ["item", "user", "created_at"]
    list_filter = ["item__product"]
    search_fields = ["user__username", "item__title"]
    raw_id_fields = ["item", "user"]
    list_select_related = ["item__product", "user"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "text", "in_app", "read_at", "email_due", "emailed_at"]
    list_filter = ["kind", "in_app", "email_due", "product"]
    search_fields = ["user__username", "key", "text"]
    raw_id_fields = ["user", "product"]
    list_select_related = ["user"]
