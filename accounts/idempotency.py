"""Idempotency keys: a creating POST sent again with the same ``Idempotency-Key`` and body gets
the first answer again (for 24 hours) instead of creating twice; with another body (or at another
endpoint) it is a 409.

One mechanism for every creating endpoint of the API (items, comments, questions, split,
sprints, retrospective actions, members, tokens, queues, intake…): views wear
``accounts.api.idempotency.idempotent_post``, which calls ``idempotent`` here.

Keys belong to a sender (``user:<id>``, or ``intake:<id>`` for an intake token, which acts for no
user), so one client's key never replays another's answer. The answer is stored in the same
transaction as the work: a retry either finds it or finds nothing was done. Two first uses at
once: both do the work, the second's INSERT of the key waits on the unique index for the first's
commit, fails, and rolls its work back; it then answers the first's answer. So exactly one
creation stands. Error answers are not stored (nothing was done: a retry runs again).
"""

import hashlib
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from accounts.models import IdempotencyKey

logger = logging.getLogger(__name__)

KEEP = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# The work runs inside the key's transaction, where the services cannot retry a lost deadlock or
# serialization conflict themselves (backlog.transactions): it is retried here, whole.
CONFLICT_CODES = {"40P01", "40001"}
ATTEMPTS = 5


class IdempotencyConflict(Exception):
    """The key was used with another request body or at another endpoint."""


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False


def request_hash(body: Any) -> str:
    """A hash of the request body that ignores key order and spacing."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(text.encode()).hexdigest()


def _stored(sender: str, key: str, endpoint: str, digest: str) -> Answer | None:
    found = IdempotencyKey.objects.filter(sender=sender, key=key).first()
    if found is None:
        return None
    if found.created_at <= timezone.now() - KEEP:
        found.delete()  # expired: the key is free again
        return None
    if found.endpoint != endpoint:
        raise IdempotencyConflict(
            f"This Idempotency-Key was used for another request ({found.endpoint}); use a new key for a new request."
        )
    if found.request_hash != digest:
        raise IdempotencyConflict(
            "This Idempotency-Key was used with another request body; use a new key for a new request."
        )
    return Answer(found.status_code, found.body, found.headers, replayed=True)


def idempotent(
    *,
    sender: str,
    key: str,
    endpoint: str,
    body: Any,
    run: Callable[[], Answer],
    stored_body: Callable[[Any], Any] = lambda body: body,
) -> Answer:
    """Answer ``run()``'s answer once per ``sender`` and ``key``: stored with the work in one
    transaction, replayed for the same ``endpoint`` and ``body``, refused (IdempotencyConflict)
    for others. A concurrent first use of the key waits for the other to commit and replays its
    answer. ``stored_body`` says what of a body is kept (a token's secret is not)."""
    digest = request_hash(body)
    answer = _stored(sender, key, endpoint, digest)
    if answer is not None:
        return answer
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _run_once(sender, key, endpoint, digest, run, stored_body)
        except OperationalError as error:
            conflict = getattr(error.__cause__, "pgcode", None) in CONFLICT_CODES
            if attempt == ATTEMPTS or connection.in_atomic_block or not conflict:
                raise
            logger.warning("A keyed request lost a database conflict; retrying.")
            time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")


def _run_once(sender: str, key: str, endpoint: str, digest: str, run, stored_body) -> Answer:
    try:
        with transaction.atomic():
            answer = run()
            if 200 <= answer.status_code < 300:
                IdempotencyKey.objects.create(
                    sender=sender,
                    key=key,
                    endpoint=endpoint[:300],
                    request_hash=digest,
                    status_code=answer.status_code,
                    body=stored_body(answer.body),
                    headers=answer.headers,
                )
    except IntegrityError:
        # Another request with the key committed first; its work stands, ours was rolled back.
        answer = _stored(sender, key, endpoint, digest)
        if answer is None:
            raise
    return answer


def idempotency_keys_purge() -> int:
    """Delete the keys older than 24 hours."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=timezone.now() - KEEP).delete()
    return deleted
