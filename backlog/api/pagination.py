from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response


class StrictPageSize:
    """A page_size that is not a whole number from 1 to the maximum is a 400, not ignored."""

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]})
        return int(raw)


class ItemCursorPagination(StrictPageSize, CursorPagination):
    """Cursor pagination over the chosen ordering (rank by default): as fast on page 2,000 as on page 1.

    The total count is only computed when asked for with ``?count=true``.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "rank"

    def paginate_queryset(self, queryset, request, view=None):
        self.ordering = getattr(view, "ordering", None) or self.ordering
        flag = request.query_params.get("count", "false")
        if flag not in ("true", "false"):
            raise ValidationError({"count": ["Use true or false."]})
        self.with_count = flag == "true"
        self.count = queryset.count() if self.with_count else None
        return super().paginate_queryset(queryset, request, view)

    def get_ordering(self, request, queryset, view):
        return (self.ordering,) if isinstance(self.ordering, str) else tuple(self.ordering)

    def get_paginated_response(self, data):
        body = {"next": self.get_next_link(), "previous": self.get_previous_link()}
        if self.with_count:
            body["count"] = self.count
        body["results"] = data
        return Response(body)

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"] = {"type": "integer", "description": "Only with ?count=true."}
        return response

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": "count",
                "required": False,
                "in": "query",
                "description": "true: include the total number of matching items.",
                "schema": {"type": "string", "enum": ["true", "false"]},
            },
        ]


class HistoryCursorPagination(StrictPageSize, CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("created_at", "id")
