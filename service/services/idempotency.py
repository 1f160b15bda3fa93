"""Idempotency keys for intake: the same key and body get the first answer again (24 hours)."""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Product
from service.models import IdempotencyKey

KEEP = timedelta(hours=24)


class IdempotencyConflict(Exception):
    """The key was used with another request body."""

    api_status = 409


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def request_hash(body: Any) -> str:
    """A hash of the request body that ignores key order and spacing."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _stored(product: Product, sender: str, key: str, digest: str) -> Answer | None:
    found = IdempotencyKey.objects.filter(product=product, sender=sender, key=key).first()
    if found is not None and found.created_at <= timezone.now() - KEEP:
        found.delete()  # expired: the key is free again
        return None
    if found is None:
        return None
    if found.request_hash != digest:
        raise IdempotencyConflict(
            "This Idempotency-Key was used with another request body; use a new key for a new ticket."
        )
    return Answer(found.status_code, found.body, replayed=True)


def idempotent(*, product: Product, sender: str, key: str, body: Any, run: Callable[[], Answer]) -> Answer:
    """Answer ``run()``'s answer once per key: stored with the work in one transaction, replayed
    for the same body, refused (409) for another. A concurrent first use of the key waits for the
    other to commit and replays its answer."""
    digest = request_hash(body)
    answer = _stored(product, sender, key, digest)
    if answer is not None:
        return answer
    try:
        with transaction.atomic():
            answer = run()
            IdempotencyKey.objects.create(
                product=product,
                sender=sender,
                key=key,
                request_hash=digest,
                status_code=answer.status_code,
                body=answer.body,
            )
    except IntegrityError:
        # Another request with the key committed first; its work stands, ours was rolled back.
        answer = _stored(product, sender, key, digest)
        if answer is None:
            raise
    return answer


def idempotency_keys_purge() -> int:
    """Delete the keys older than 24 hours."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=timezone.now() - KEEP).delete()
    return deleted
