from django.contrib import admin

from refinement.models import Comment, DebtSnapshot, Question, StaleFlag


@admin.register(StaleFlag)
class StaleFlagAdmin(admin.ModelAdmin):
    list_display = ("item", "untouched_since", "flagged_at")
    list_filter = ("item__product",)
    search_fields = ("item__title",)
    list_select_related = ("item__product",)


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    """Questions on proposals and their answers: read-only (they are part of the review record)."""

    list_display = ("item", "asked_by", "asked_at", "answered_at")
    list_filter = ("item__product", ("answered_at", admin.EmptyFieldListFilter))
    search_fields = ("text", "answer", "item__title")
    list_select_related = ("item__product", "asked_by")
    readonly_fields = ("item", "asked_by", "text", "asked_at", "answer", "answered_by", "answered_at")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """Comments, for moderation: read them, delete abuse."""

    list_display = ("item", "author", "created_at")
    list_filter = ("item__product",)
    search_fields = ("body", "author__username", "item__title")
    list_select_related = ("item__product", "author")
    readonly_fields = ("item", "author", "body", "created_at")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(DebtSnapshot)
class DebtSnapshotAdmin(admin.ModelAdmin):
    list_display = ("product", "date", "items", "principal_points", "unestimated", "interest_hours")
    list_filter = ("product",)
    date_hierarchy = "date"
    readonly_fields = ("product", "date", "items", "principal_points", "unestimated", "interest_hours", "taken_at")

    def has_add_permission(self, request) -> bool:
        return False
