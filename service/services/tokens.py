"""Intake tokens: a sender (monitoring, a portal, a script) may send tickets to one product's
intake and do nothing else. Only a hash of the secret is stored; the token is shown once."""

import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from accounts.models import Product, User
from accounts.permissions import Action, require
from accounts.services import TOKEN_USE_RECORD_INTERVAL, token_hash
from service.models import IntakeToken

INTAKE_TOKEN_PREFIX = "obi_"  # noqa: S105 - a public marker, not a secret


def intake_token_create(*, product: Product, actor: User, name: str) -> tuple[IntakeToken, str]:
    """Create an intake token for ``product`` (owners only); return it and the secret (shown only now)."""
    require(actor, Action.MANAGE, product)
    prefix = secrets.token_hex(4)
    raw = f"{INTAKE_TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = IntakeToken(product=product, name=name, prefix=prefix, key_hash=token_hash(raw), created_by=actor)
    token.full_clean()
    token.save()
    return token, raw


def intake_token_revoke(*, token: IntakeToken, actor: User) -> IntakeToken:
    """Revoke an intake token (owners of its product only)."""
    require(actor, Action.MANAGE, token.product)
    with transaction.atomic():
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def intake_token_authenticate(raw: str) -> IntakeToken | None:
    """Return the unrevoked intake token matching ``raw`` (constant-time compare), or None."""
    if not raw.startswith(INTAKE_TOKEN_PREFIX) or "\x00" in raw:
        return None
    prefix, _, secret = raw[len(INTAKE_TOKEN_PREFIX) :].partition("_")
    if not prefix or not secret:
        return None
    token = IntakeToken.objects.select_related("product", "created_by").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.key_hash, token_hash(raw)) or token.revoked_at is not None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_USE_RECORD_INTERVAL:
        IntakeToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
