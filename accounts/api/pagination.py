from rest_framework.pagination import CursorPagination

from config.pagination import StrictPageSize


class AuditCursorPagination(StrictPageSize, CursorPagination):
    """The audit trail newest first; a page_size that is not 1 to 200 is a 400."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-at", "-id")


class NotificationCursorPagination(AuditCursorPagination):
    """The inbox newest first."""

    ordering = ("-created_at", "-id")
