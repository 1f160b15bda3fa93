"""GET /api/v1/search/: full-text search over the caller's products (or one of them)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from accounts.access import access_product
from config.api import reject_unknown_parameters
from config.numbers import number_parameter
from search.api.serializers import SearchItemSerializer, SearchResponseSerializer
from search.selectors import cursor_encode, query_text, search

MAX_PAGE_SIZE = 200  # as every cursor list (config/pagination.py)

PARAMETERS = [
    OpenApiParameter(
        "q",
        {"type": "string", "minLength": 1, "maxLength": 200},
        OpenApiParameter.QUERY,
        required=True,
        description="Words to find (quotes for a phrase, or, -word), or an item's key: OB-48, ob-48, "
        "or 48 with product.",
    ),
    OpenApiParameter(
        "product", {"type": "string", "maxLength": 10}, OpenApiParameter.QUERY, description="Search one product."
    ),
    OpenApiParameter("cursor", str, OpenApiParameter.QUERY, description="From the next link."),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 20},
        OpenApiParameter.QUERY,
    ),
]


class SearchApi(GenericAPIView):
    serializer_class = SearchResponseSerializer

    @extend_schema(
        summary="Search items by their text and comments, best match first; a key names its item",
        parameters=PARAMETERS,
        responses=SearchResponseSerializer,
    )
    def get(self, request):
        reject_unknown_parameters(request, {"q", "product", "cursor", "page_size"})
        text = query_text(request.query_params.get("q"), strict=True)
        key = request.query_params.get("product")
        product = access_product(request.user, key)[0] if key is not None else None
        size = number_parameter(request.query_params, "page_size", default=20, low=1, high=MAX_PAGE_SIZE)
        found = search(
            user=request.user, text=text, product=product, cursor=request.query_params.get("cursor"), limit=size
        )
        after = found.results.after
        next_link = None
        if after is not None:
            next_link = replace_query_param(request.build_absolute_uri(), "cursor", cursor_encode(after))
        body = {
            "next": next_link,
            "key_match": SearchItemSerializer(found.key_match).data if found.key_match else None,
            "results": [
                {
                    "item": SearchItemSerializer(hit.item).data,
                    "rank": hit.rank,
                    "title_html": str(hit.title_html),
                    "snippet_html": str(hit.snippet_html),
                }
                for hit in found.results.hits
            ],
        }
        return Response(body)
