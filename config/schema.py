"""The OpenAPI schema, generated once per process and served from memory, and its docs page."""

from typing import Any, ClassVar

from django.utils import translation
from drf_spectacular.plumbing import set_query_parameters
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.response import Response


class SchemaView(SpectacularAPIView):
    """``/api/schema/``. The schema follows from the code alone (it is public: the same for every
    caller), and generating it takes about a second of CPU, so each process generates it once per
    API version and language instead of on every request."""

    generated: ClassVar[dict[tuple[str | None, str | None], dict[str, Any]]] = {}

    def _get_schema_response(self, request) -> Response:
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, translation.get_language())
        if key not in self.generated:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
            self.generated[key] = generator.get_schema(request=request, public=self.serve_public)
        return Response(
            data=self.generated[key],
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )


class DocsView(SpectacularSwaggerSplitView):
    """``/api/docs/``: Swagger UI, reading the schema as JSON (a fifth of the YAML's serving time,
    and parsed natively by the browser)."""

    def _get_schema_url(self, request) -> str:
        return set_query_parameters(super()._get_schema_url(request), format="json")
