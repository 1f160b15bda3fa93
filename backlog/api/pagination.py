import re

from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from config.pagination import StrictPageSize

POSITION_PATTERNS = {
    "rank": lambda p: re.fullmatch(r"[0-9A-Za-z]{1,255}", p) is not None,
    "number": lambda p: re.fullmatch(r"[0-9]{1,10}", p) is not None,
    "created_at": lambda p: "\x00" not in p and parse_datetime(p) is not None,
}


class ItemCursorPagination(StrictPageSize, CursorPagination):
    """Cursor pagination over the chosen ordering (rank by default): as fast on page 2,000 as on page 1.

    The total count is only computed when asked for with ``?count=true``: a count reads every
    matching item (O(N) by nature: 0.5–1.2 s over a million), so nothing else counts, and a
    client that pages never needs it.
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

    def decode_cursor(self, request):
        """A cursor that does not fit the ordering (or was tampered with) is a 400, not a 500."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({"cursor": ["Invalid cursor: use the next and previous links as given."]}) from None
        if cursor is not None and cursor.position is not None:
            field = self.ordering.lstrip("-") if isinstance(self.ordering, str) else self.ordering[0].lstrip("-")
            if not POSITION_PATTERNS[field](cursor.position):
                raise ValidationError({"cursor": ["The cursor does not fit this ordering; start again from page one."]})
        return cursor

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
                "description": "true: include the total number of matching items. Counting reads every "
                "matching item (its cost grows with the backlog): ask only when the total is needed.",
                "schema": {"type": "string", "enum": ["true", "false"]},
            },
        ]


class TimeCursorPagination(StrictPageSize, CursorPagination):
    """Cursor pagination over a time and the id, oldest first unless ``ordering`` says otherwise:
    histories, comments, review queues."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("created_at", "id")
