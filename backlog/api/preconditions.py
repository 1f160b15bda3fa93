"""Conditional writes: ``If-Match`` on every write to an item.

A client sends back the ETag it read (``"<id>-<version>"``); the write goes ahead only if the
item is still at that version. The view reads the header here and passes the version to the
service, which checks it on the row it locks for the write (``Item.check_version``), so nothing
changes the item between check and write. A 412 carries the current ETag.
"""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from backlog.models import Item
from config.api import PreconditionFailed

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The item's ETag as you read it: the write is refused with 412 if the item changed since.",
)


def if_match_version(request, item: Item) -> int | None:
    """Return the version the request's If-Match names for ``item`` (None: no header, or "*").

    A header that names no version of this item is a 412 at once.
    """
    header = request.headers.get("If-Match")
    if header is None:
        return None
    for tag in (part.strip() for part in header.split(",")):
        if tag == "*":
            return None
        found = re.fullmatch(r'"([0-9]{1,18})-([0-9]{1,18})"', tag)
        if found and int(found.group(1)) == item.pk:
            return int(found.group(2))
    raise PreconditionFailed(etag=item.etag)
