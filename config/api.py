"""API-wide pieces: the one error format, and the error schema documented for every operation."""

from collections.abc import Mapping
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.parsers import RequestBodyTooLarge


class PreconditionFailed(exceptions.APIException):
    """412; ``etag`` is the current one, sent back in the ETag header."""

    status_code = 412
    default_code = "version_conflict"
    default_detail = "The item has changed since you read it; reload it and retry."

    def __init__(self, detail=None, *, etag: str | None = None) -> None:
        super().__init__(detail)
        self.etag = etag


def _from_django(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return exceptions.ValidationError(detail)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Http404):
        return exceptions.NotFound("Not found.")
    if getattr(exc, "api_status", None) == 412:
        return PreconditionFailed(str(exc), etag=getattr(exc, "etag", None))
    return exc


def _flatten(detail, where: str = "") -> list[str]:
    """One field's messages; inside it, a nested field's name or a list entry's number (from 1)
    leads its messages: "#2 points: Unknown field."."""
    if isinstance(detail, dict):
        return [message for name, value in detail.items() for message in _flatten(value, where + _place(name))]
    if isinstance(detail, list):
        if any(isinstance(value, dict) for value in detail):  # a list of objects: one entry each
            return [message for index, value in enumerate(detail) for message in _flatten(value, where + _place(index))]
        return [message for value in detail for message in _flatten(value, where)]
    return [f"{where}{detail}"]


def _place(name: str | int) -> str:
    if isinstance(name, int):
        return f"#{name + 1} "
    return "" if name == "non_field_errors" else f"{name}: "


def exception_handler(exc: Exception, context) -> Response | None:
    """Render every API error as ``{"error": {"status", "code", "message", "fields"}}``."""
    exc = _from_django(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    fields: dict = {}
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = {name: _flatten(value) for name, value in detail.items() if name != "non_field_errors"}
        general = _flatten(detail.get("non_field_errors", []))
        message = " ".join(general) or "Some fields are not valid: " + ", ".join(sorted(fields)) + "."
        code = "invalid"
    else:
        message = " ".join(_flatten(exc.detail)) if isinstance(exc, exceptions.APIException) else str(exc)
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
    response.data = {"error": {"status": response.status_code, "code": code, "message": message, "fields": fields}}
    if getattr(exc, "etag", None):
        response["ETag"] = exc.etag
    return response


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message", "fields"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string", "description": "invalid, not_found, permission_denied, throttled, …"},
                "message": {"type": "string", "description": "What went wrong, in words a person can act on."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "Messages per input field.",
                },
            },
        }
    },
}
ERRORS = {
    "400": "Invalid input: the message and fields say what to fix.",
    "401": "Not signed in: send a token (Authorization: Bearer obk_…) or use the session.",
    "403": "Signed in, but your role does not allow this (or the token is read-only).",
    "404": "No such object, or it belongs to a product you are not a member of.",
    "406": "The Accept header asks for something other than application/json, the only answer there is.",
    "429": "Too many requests: wait the seconds given in Retry-After.",
}


def document_error_responses(result, generator, request, public):
    """Describe the shared error body and the 4xx responses of every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result["paths"].values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                if code == "400" and method == "get" and not operation.get("parameters"):
                    continue
                responses.setdefault(code, {"description": description, "content": reference})
            if any(parameter.get("name") == "If-Match" for parameter in operation.get("parameters", [])):
                responses.setdefault(
                    "412",
                    {
                        "description": "The item changed since you read it (If-Match): reload it and retry.",
                        "content": reference,
                        "headers": {"ETag": {"schema": {"type": "string"}, "description": "The current ETag."}},
                    },
                )
            if any(parameter.get("name") == "Idempotency-Key" for parameter in operation.get("parameters", [])):
                responses.setdefault(
                    "409",
                    {"description": "The Idempotency-Key was used with another body or request.", "content": reference},
                )
            if "429" in responses:
                responses["429"]["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
                }
    return result


# Input fields that take exactly the JSON type the schema documents: no "5" for 5, no 1 for true,
# no 8 for "8". Integrations learn about a wrong type at once instead of by surprise later.


class StrictBooleanField(serializers.BooleanField):
    """Only JSON true and false: no 0, 1, "yes" or "on"."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


class StrictCharField(serializers.CharField):
    """A JSON string; its length limit holds for the string as sent (the schema's maxLength), not
    only after surrounding white space is trimmed."""

    default_error_messages = {"invalid": "Give a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictDecimalField(serializers.DecimalField):
    """A JSON number (documented as one), kept exact as a Decimal."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(str(data))


class StrictChoiceField(serializers.ChoiceField):
    """One of the choices, of the choices' own type (8, not "8")."""

    def to_internal_value(self, data):
        if data == "" and self.allow_blank:
            return ""
        if isinstance(data, bool) or not any(type(data) is type(key) and data == key for key in self.choices):
            self.fail("invalid_choice", input=data)
        return data


class StrictFieldsMixin:
    """Refuse a body that names a field the serializer does not take: a 400 naming each one.

    A typo (``acceptance_critera``) or a field only the server sets (``status``) would otherwise
    be dropped silently and the client told 200. ``read_only_hints`` maps such fields to what to
    do instead; any other field the serializer only shows is "Read-only field.".
    """

    read_only_hints: dict[str, str] = {}

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            shown = {name for name, field in self.fields.items() if field.read_only}
            errors = {}
            for name in sorted(set(data) - writable, key=str):
                if name in self.read_only_hints:
                    errors[name] = [self.read_only_hints[name]]
                else:
                    errors[name] = ["Read-only field." if name in shown else "Unknown field."]
            if errors:
                raise exceptions.ValidationError(errors)
        return super().to_internal_value(data)


class ApiSerializer(StrictFieldsMixin, serializers.Serializer):
    """The base of every API input serializer that is not a ModelSerializer."""


class ApiModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A ModelSerializer whose input fields are strict about JSON types and names."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        **dict.fromkeys((models.CharField, models.TextField, models.SlugField, models.EmailField), StrictCharField),
        **dict.fromkeys(
            (
                models.IntegerField,
                models.PositiveIntegerField,
                models.PositiveSmallIntegerField,
                models.SmallIntegerField,
                models.BigIntegerField,
            ),
            StrictIntegerField,
        ),
        models.DecimalField: StrictDecimalField,
        models.BooleanField: StrictBooleanField,
    }
    serializer_choice_field = StrictChoiceField


def error_response(status: int, code: str, message: str, fields: dict | None = None) -> JsonResponse:
    """The API's one error body, for answers given outside DRF (middleware, Django's handlers)."""
    body = {"error": {"status": status, "code": code, "message": message, "fields": fields or {}}}
    return JsonResponse(body, status=status)


def not_found(request, exception=None):
    """404 for URLs that match nothing: the API's error body under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return error_response(404, "not_found", "No such endpoint.")
    return page_not_found(request, exception)


ERROR_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    500: "server_error",
}
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "ETag")


class ApiErrorMiddleware:
    """Under /api/, every error is the API's JSON error body, whoever answered: DRF, a middleware,
    or Django itself before any view (an unknown URL, a body over the size limit, a suspicious
    request, a server error). Outermost, so it sees every answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request.META.get("CONTENT_TYPE", "").startswith("text/csv"):
            limit = settings.IMPORT_MAX_BYTES  # a CSV import's body has its own limit (its parser checks it)
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if limit is not None and declared.isdigit() and int(declared) > limit:
            too_large = RequestBodyTooLarge(limit)
            return error_response(413, "too_large", str(too_large.detail))
        response = self.get_response(request)
        if response.status_code < 400 or response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        message = "Something went wrong on our side; try again later." if status >= 500 else HTTPStatus(status).phrase
        replaced = error_response(status, ERROR_CODES.get(status, "error"), message + ("" if status >= 500 else "."))
        for header in KEPT_HEADERS:
            if header in response:
                replaced[header] = response[header]
        return replaced


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RejectNulMiddleware:
    """A NUL character in the path, the query string or a page's form is bad input (PostgreSQL
    cannot store it); the API's JSON fields refuse it themselves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        form = request.method == "POST" and request.content_type in FORM_TYPES and not request.path.startswith("/api/")
        # The pages' forms: a NUL in any posted value is refused before a view sees it.
        if form and any("\x00" in key + value for key, values in request.POST.lists() for value in values):
            return HttpResponseBadRequest("The form contains a NUL character.")
        if "\x00" in request.path or any(
            "\x00" in key + value for key, values in request.GET.lists() for value in values
        ):
            if request.path.startswith("/api/"):
                return error_response(400, "invalid", "The address contains a NUL character.")
            return HttpResponseBadRequest("The address contains a NUL character.")
        return self.get_response(request)


def reject_unknown_parameters(request, allowed: set[str], *, lists: tuple[str, ...] = ()) -> None:
    """A query parameter the endpoint does not know is a 400 naming it, not silently ignored; so is
    one given twice, unless it is one of ``lists`` (whose repeated values add up, as the comma form)."""
    unknown = set(request.query_params) - set(allowed)
    if unknown:
        raise exceptions.ValidationError({name: ["Unknown parameter."] for name in sorted(unknown)})
    repeated = [name for name, values in request.query_params.lists() if len(values) > 1 and name not in lists]
    if repeated:
        raise exceptions.ValidationError({name: ["Give this parameter once."] for name in sorted(repeated)})


def validated_input(serializer_class, request, instance=None, **options) -> dict:
    """The request body read through ``serializer_class`` (a 400 with every field's error if it
    does not fit): what each API view that takes input starts with."""
    serializer = serializer_class(instance, data=request.data, **options)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
