"""API-wide pieces: the one error format, and the error schema documented for every operation."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class PreconditionFailed(exceptions.APIException):
    status_code = 412
    default_code = "version_conflict"
    default_detail = "The item has changed since you read it; reload it and retry."


def _from_django(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return exceptions.ValidationError(detail)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Http404):
        return exceptions.NotFound("Not found.")
    if getattr(exc, "api_status", None) == 412:
        return PreconditionFailed(str(exc))
    return exc


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flatten(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _flatten(value)]
    return [str(detail)]


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
    return response


class ErrorBodySerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField(help_text="Machine-readable: invalid, not_found, permission_denied, …")
    message = serializers.CharField(help_text="What went wrong, in words a person can act on.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), help_text="Messages per input field."
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


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
    default_error_messages = {"invalid": "Give a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
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


class ApiModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose input fields are strict about JSON types."""

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


def not_found(request, exception=None):
    """404 for URLs that match nothing: the API's error body under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        body = {"error": {"status": 404, "code": "not_found", "message": "No such endpoint.", "fields": {}}}
        return JsonResponse(body, status=404)
    return page_not_found(request, exception)


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
                message = "The address contains a NUL character."
                body = {"error": {"status": 400, "code": "invalid", "message": message, "fields": {}}}
                return JsonResponse(body, status=400)
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
