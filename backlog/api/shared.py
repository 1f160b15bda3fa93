"""What the items API and refinement's API share: the item reference and pagination parameters,
and the item response with its ETag (so no API view module imports another's)."""

import logging

from django.db import InterfaceError, OperationalError, connection
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from backlog.access import access_item
from backlog.api.serializers import ItemSerializer
from backlog.models import Item
from backlog.selectors import items_for_api
from config.api import reject_unknown_parameters

logger = logging.getLogger(__name__)

PAGINATION_PARAMS = {"cursor", "page_size", "count"}
ITEM_REF = OpenApiParameter(
    "ref", OpenApiTypes.STR, OpenApiParameter.PATH, description="Item id or key, e.g. OB-42 (keys in any case: ob-42)."
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=True,
    description="The item's content version; send it back in If-Match. Moves do not change it.",
)


def read_after_write(read):
    """Run ``read``, the response's look-up after a committed write. If the database connection
    died after the commit, read once more on a new connection: the write happened, so the client
    gets its answer (a retried create would duplicate), not a 500."""
    try:
        return read()
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        logger.warning("The connection died after a write; reading the response on a new one.")
        connection.close()
        return read()


def item_response(item: Item, **kwargs) -> Response:
    """The item as the API shows it (loaded afresh, in the list's constant queries), with its ETag."""

    def read():
        found = items_for_api(product=item.product).get(pk=item.pk)
        return found, ItemSerializer(found).data

    item, data = read_after_write(read)
    response = Response(data, **kwargs)
    response["ETag"] = item.etag
    return response


def item_rows_page(view, request, ref: str, rows_of, data_of) -> Response:
    """One page (the view's pagination) of what ``rows_of(item=)`` lists about the item ``ref``
    (its history, questions, comments), as ``data_of(page)`` writes it."""
    reject_unknown_parameters(request, PAGINATION_PARAMS - {"count"})
    item, _ = access_item(request.user, ref)
    return view.get_paginated_response(data_of(view.paginate_queryset(rows_of(item=item))))
