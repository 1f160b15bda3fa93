"""What the items API and refinement's API share: the item reference and pagination parameters,
and the item response with its ETag (so no API view module imports another's)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from backlog.api.serializers import ItemSerializer
from backlog.models import Item
from backlog.selectors import items_for_api

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


def item_response(item: Item, **kwargs) -> Response:
    """The item as the API shows it (loaded afresh, in the list's constant queries), with its ETag."""
    item = items_for_api(product=item.product).get(pk=item.pk)
    response = Response(ItemSerializer(item).data, **kwargs)
    response["ETag"] = item.etag
    return response
