"""Moving items in and out through the API: the streamed export and CSV imports (upload and
preview, confirm, status). Thin: ``backlog.exports`` and ``backlog.services.imports`` decide."""

import tempfile

from django.core.files import File
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.access import access_product
from accounts.api.idempotency import idempotent_post
from backlog.access import access_import
from backlog.api.pagination import TimeCursorPagination
from backlog.api.views import LIST_PARAMETER_SCHEMA
from backlog.exports import FORMATS, export_stream
from backlog.filters import LIST_PARAMETERS, ItemFilter
from backlog.models import Import
from backlog.services.imports import READ_BYTES, import_confirm, import_preview, max_bytes, require_import_rights
from config.api import ApiSerializer, reject_unknown_parameters, validated_input
from config.parsers import RequestBodyTooLarge


class CsvUploadParser(parsers.BaseParser):
    """A CSV file as the request body (``Content-Type: text/csv``), up to ``IMPORT_MAX_BYTES``
    (413 above): copied a block at a time into a temporary file (in memory while small), so the
    import reads it as a stream and never holds it whole."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> File:
        limit = max_bytes()
        copy = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (outlives the parser: the view reads it)
        read = 0
        while stream is not None and (block := stream.read(min(READ_BYTES, limit + 1 - read))):
            read += len(block)
            if read > limit:
                copy.close()
                raise RequestBodyTooLarge(limit)
            copy.write(block)
        copy.seek(0)
        return File(copy, name="upload.csv")


SPOOL_BYTES = 1024 * 1024  # an uploaded body larger than this waits in a temporary file on disk


class ExportApi(GenericAPIView):
    """``format`` names the file format here, not DRF's renderer: errors are always JSON."""

    def perform_content_negotiation(self, request, force=False):
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        summary="Export the backlog (or the filtered items) as CSV or JSON, streamed, in backlog order",
        description=(
            "The list's parameters choose the items (any statuses: `status=open,in_progress,done,…`). "
            "Ordered items come by rank, then the others by number. Every field: kind-specific inputs, "
            "value inputs, score, labels, links (split_from, duplicate_of) as keys, external_ref. "
            "CSV cells that start with = + - @ are prefixed with ' (CSV injection)."
        ),
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=list(FORMATS), required=True, description="csv or json."),
            *LIST_PARAMETER_SCHEMA,
            *[
                OpenApiParameter(
                    name, OpenApiTypes.STR, description=ItemFilter.base_filters[name].extra.get("help_text")
                )
                for name in ItemFilter.base_filters
                if name not in LIST_PARAMETERS
            ],
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One row per item, header first."),
            (200, "application/json"): OpenApiResponse(
                {"type": "array", "items": {"type": "object"}}, description="One object per item."
            ),
        },
    )
    def get(self, request, key: str):
        product, _ = access_product(request.user, key)
        reject_unknown_parameters(request, {*ItemFilter.base_filters, "format"}, lists=LIST_PARAMETERS)
        chosen = request.query_params.get("format", "csv")
        if chosen not in FORMATS:
            raise serializers.ValidationError({"format": ["Give csv or json."]})
        params = request.query_params.copy()
        params.pop("format", None)
        lines, _ = export_stream(product=product, filters=params, format=chosen)
        # The first line is built here, so a parameter the list cannot use is a 400, not a broken stream.
        first = next(lines)
        response = StreamingHttpResponse(
            _prepend(first, lines),
            content_type="text/csv; charset=utf-8" if chosen == "csv" else "application/json",
        )
        response["Content-Disposition"] = f'attachment; filename="{product.key.lower()}-backlog.{chosen}"'
        return response


def _prepend(first: str, rest):
    yield first
    yield from rest


class ImportSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None, allow_null=True)
    created = serializers.IntegerField(source="created_count", read_only=True, help_text="Items created.")
    updated = serializers.IntegerField(source="updated_count", read_only=True, help_text="Items updated.")
    preview = serializers.DictField(
        read_only=True,
        help_text="Counts (create, update, unchanged, skip, error_rows) and the first rows with what each would do.",
    )
    errors = serializers.ListField(
        child=serializers.DictField(),
        read_only=True,
        help_text="Rows that break the items' rules: {row, external_ref, errors: {field: message}}.",
    )
    skipped = serializers.ListField(
        child=serializers.DictField(),
        read_only=True,
        help_text="Rows skipped: {row, external_ref, reason} (the first 1,000; skipped_count says how many).",
    )

    class Meta:
        model = Import
        fields = [
            "id",
            "state",
            "source",
            "placing",
            "file_name",
            "created_by",
            "created_at",
            "confirmed_at",
            "started_at",
            "finished_at",
            "total",
            "processed",
            "preview",
            "errors",
            "created",
            "updated",
            "skipped",
            "skipped_count",
            "failure",
        ]
        read_only_fields = fields


class ImportListApi(GenericAPIView):
    serializer_class = ImportSerializer
    pagination_class = TimeCursorPagination
    parser_classes = [CsvUploadParser]

    @extend_schema(
        summary="The product's imports, newest first (owners and ordering delegates)",
        responses=ImportSerializer(many=True),
    )
    def get(self, request, key: str):
        product, actions = access_product(request.user, key)
        require_import_rights(request.user, product, actions)
        reject_unknown_parameters(request, {"cursor", "page_size"})
        self.paginator.ordering = ("-created_at", "-id")
        page = self.paginate_queryset(Import.objects.filter(product=product).select_related("created_by"))
        return self.get_paginated_response(ImportSerializer(page, many=True).data)

    @extend_schema(
        summary="Upload a CSV file (the body, Content-Type text/csv): checked and previewed, nothing written yet",
        description=(
            "Our own export's columns, or Jira's CSV export (Summary, Issue key, Issue Type, Status, Priority, "
            "Custom field (Story Points), Labels, Epic Link, …). Rows with errors are listed by row number; "
            "confirm with `/imports/{id}/confirm/`."
        ),
        parameters=[
            OpenApiParameter(
                "source", OpenApiTypes.STR, enum=["auto", *Import.Source.values], description="Default auto."
            ),
            OpenApiParameter("placing", OpenApiTypes.STR, enum=Import.Placing.values, description="Default bottom."),
            OpenApiParameter("file_name", OpenApiTypes.STR, description="Shown in the list of imports."),
        ],
        request={"text/csv": OpenApiTypes.BINARY},
        responses={201: ImportSerializer},
    )
    @idempotent_post()
    def post(self, request, key: str):
        product, _ = access_product(request.user, key)
        reject_unknown_parameters(request, {"source", "placing", "file_name"})
        params = request.query_params
        source = params.get("source", "auto")
        if source not in ("auto", *Import.Source.values):
            raise serializers.ValidationError({"source": ["Give auto, onebacklog or jira."]})
        data = request.data if isinstance(request.data, File) else b""
        imported = import_preview(
            product=product,
            actor=request.user,
            data=data,
            file_name=params.get("file_name", ""),
            source=source,
            placing=params.get("placing", Import.Placing.BOTTOM),
        )
        return Response(ImportSerializer(imported).data, status=status.HTTP_201_CREATED)


class ImportDetailApi(GenericAPIView):
    serializer_class = ImportSerializer

    @extend_schema(summary="One import: its preview, progress (processed of total) and result")
    def get(self, request, key: str, import_id: int):
        imported, _ = access_import(request.user, key, import_id)
        return Response(ImportSerializer(imported).data)


class ConfirmSerializer(ApiSerializer):
    """Nothing to send (an empty body or an empty JSON object)."""


class ImportConfirmApi(GenericAPIView):
    serializer_class = ImportSerializer

    @extend_schema(
        summary="Run a previewed import without errors, as a job (all or nothing); poll the import for its progress",
        request=ConfirmSerializer,
        responses={202: ImportSerializer},
    )
    def post(self, request, key: str, import_id: int):
        imported, _ = access_import(request.user, key, import_id)
        validated_input(ConfirmSerializer, request)
        confirmed = import_confirm(imported=imported, actor=request.user)
        confirmed.refresh_from_db()  # in process, the job ran already
        return Response(ImportSerializer(confirmed).data, status=status.HTTP_202_ACCEPTED)
