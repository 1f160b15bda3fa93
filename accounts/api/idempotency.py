"""``Idempotency-Key`` on the API's creating POSTs: the view decorator over ``accounts.idempotency``.

Wear it on the ``post`` of every endpoint that creates something::

    @extend_schema(...)
    @idempotent_post()
    def post(self, request, key): ...

Without the header the view runs as always. With it, the view runs in the key's transaction and
its answer (status, body, ETag and Location) is stored; the same key and body get it again with
``Idempotent-Replayed: true``; another body or endpoint gets 409 in the API's error body. The
schema documents the header (and ``config.api.document_error_responses`` the 409).
"""

import hashlib
from collections.abc import Callable, Iterable
from functools import wraps

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from accounts.idempotency import MAX_KEY_LENGTH, Answer, IdempotencyConflict, idempotent

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Makes retries safe: the same key with the same body gets the first answer again (for 24 hours); "
    "with another body, 409. Keys are yours: nobody else's request ever gets your answer. 1 to 255 characters.",
)
REPLAYED_HEADERS = ("ETag", "Location")


class Conflict(exceptions.APIException):
    status_code = 409
    default_code = "idempotency_conflict"
    default_detail = "This Idempotency-Key was used with another request."


def _hashable(data):
    """The request body as JSON can hash it: a form's lists as lists, an uploaded file as the
    SHA-256 of its content (read in chunks, then rewound for the view)."""
    if hasattr(data, "lists"):  # a QueryDict or MultiValueDict (forms, uploads)
        return {name: [_hashable(value) for value in values] for name, values in data.lists()}
    if isinstance(data, bytes):  # a file as the body (text/csv)
        return {"sha256": hashlib.sha256(data).hexdigest()}
    if hasattr(data, "chunks"):
        digest = hashlib.sha256()
        for chunk in data.chunks():
            digest.update(chunk)
        data.seek(0)
        return {"file": data.name, "sha256": digest.hexdigest()}
    return data


def sender_of(request) -> str:
    """Whose keys a request uses: the token's own sender when it acts for no user (an intake
    token's ``idempotency_sender``), else the user's, whichever way they signed in."""
    own = getattr(request.auth, "idempotency_sender", None)
    return own if own else f"user:{request.user.pk}"


def idempotent_post(*, secret_fields: Iterable[str] = ()) -> Callable:
    """Make a view's creating POST honour ``Idempotency-Key``. ``secret_fields`` are never stored
    (a token's secret, shown once): a replay answers them as null."""
    secrets = tuple(secret_fields)

    def without_secrets(body):
        if isinstance(body, dict) and secrets:
            return {name: None if name in secrets else value for name, value in body.items()}
        return body

    def decorate(view_method):
        @wraps(view_method)
        def handle(self, request, *args, **kwargs):
            key = request.headers.get("Idempotency-Key")
            if key is None:
                return view_method(self, request, *args, **kwargs)
            if not key.strip() or len(key) > MAX_KEY_LENGTH:
                raise exceptions.ValidationError(
                    {"Idempotency-Key": [f"Give a key of 1 to {MAX_KEY_LENGTH} characters."]}
                )

            first: list[Response] = []

            def run() -> Answer:
                response = view_method(self, request, *args, **kwargs)
                first.append(response)
                headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
                return Answer(response.status_code, response.data, headers)

            try:
                answer = idempotent(
                    sender=sender_of(request),
                    key=key,
                    endpoint=f"POST {request.path.upper()}",  # keys in URLs are read in any case
                    body=_hashable(request.data),
                    run=run,
                    stored_body=without_secrets,
                )
            except IdempotencyConflict as conflict:
                raise Conflict(str(conflict)) from conflict
            if not answer.replayed:
                return first[-1]
            response = Response(answer.body, status=answer.status_code, headers=answer.headers)
            response["Idempotent-Replayed"] = "true"
            return response

        return extend_schema(parameters=[IDEMPOTENCY_KEY])(handle)

    return decorate
