from rest_framework.pagination import CursorPagination

from config.numbers import number_parameter


class AuditCursorPagination(CursorPagination):
    """The audit trail newest first; a page_size that is not 1 to 200 is a 400."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-at", "-id")

    def get_page_size(self, request):
        return number_parameter(
            request.query_params, self.page_size_query_param, default=self.page_size, low=1, high=self.max_page_size
        )

    def get_schema_operation_parameters(self, view):
        """Declare the bounds the server enforces on page_size."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size, "default": 50}
        return parameters


class NotificationCursorPagination(AuditCursorPagination):
    """The inbox newest first."""

    ordering = ("-created_at", "-id")
