"""The product audit trail's one writer: member, invitation and setting changes (who, when, old → new)."""

from typing import Any

from accounts.models import AuditEvent, Product, User


def audit_record(
    *, product: Product, actor: User | None, action: str, old: Any = None, new: Any = None, **about: str
) -> AuditEvent:
    """Record ``action`` on ``product`` by ``actor``; call inside the change's transaction.

    ``old`` and ``new`` are JSON values (null before an addition, after a removal); ``about``
    names whom the event is about (``member=<username>`` or ``email=<address>``).
    """
    actor = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        product=product, actor=actor, action=action, data={"old": old, "new": new, **about}
    )


def changed(before: dict, after: dict) -> tuple[dict, dict]:
    """The entries of ``before`` and ``after`` that differ, as (old, new)."""
    names = [name for name in after if before.get(name) != after[name]]
    return {name: before.get(name) for name in names}, {name: after[name] for name in names}
