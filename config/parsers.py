"""The API's request parser: JSON, bounded in size and depth.

Kept apart from config/api.py: DRF reads the parser class while defining its views, which that
module imports.
"""

import io

from django.conf import settings
from rest_framework import exceptions, parsers


class RequestBodyTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"

    def __init__(self, limit: int | None = None) -> None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE if limit is None else limit
        super().__init__(f"The request body is over the limit of {limit:,} bytes.")


MAX_JSON_DEPTH = 32  # no request body of this API nests deeper than a few levels


def _json_depth(value) -> int:
    """How deep lists and objects nest in ``value`` (counted without recursion)."""
    deepest, pending = 0, [(value, 1)]
    while pending and deepest <= MAX_JSON_DEPTH:
        current, depth = pending.pop()
        children = current.values() if isinstance(current, dict) else current if isinstance(current, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            pending.extend((child, depth + 1) for child in children)
    return deepest


class JsonBodyParser(parsers.JSONParser):
    """DRF's JSON parser with the body's size and nesting bounded: 413 over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, 400 past ``MAX_JSON_DEPTH`` levels (never a RecursionError)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestBodyTooLarge()
        too_deep = exceptions.ParseError(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.")
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if _json_depth(data) > MAX_JSON_DEPTH:
            raise too_deep
        return data
