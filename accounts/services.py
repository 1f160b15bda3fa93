"""Writes to products, memberships and API tokens."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import DEFAULT_DEFINITION_OF_READY, ApiToken, Membership, Product, User
from accounts.permissions import Action, require

TOKEN_PREFIX = "obk_"  # noqa: S105 - a public marker, not a secret
MAX_TOKENS_PER_USER = 50
# Record a token's last use at most this often, not on every request.
TOKEN_USE_RECORD_INTERVAL = timedelta(minutes=5)


def product_create(*, name: str, key: str, owner: User, description: str = "") -> Product:
    """Create a product with ``owner`` as its product owner."""
    with transaction.atomic():
        product = Product(name=name, key=key, description=description)
        product.full_clean()
        product.save()
        Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
    return product


PRODUCT_SETTINGS = (
    "name",
    "description",
    "stale_after_days",
    "sla_hours",
    "definition_of_ready",
    "debt_target_percent",
    "sprint_capacity",
)
MAX_SLA_HOURS = 24 * 365 * 10


def product_update(*, product: Product, actor: User, changes: dict) -> Product:
    """Change a product's settings (owners only)."""
    require(actor, Action.MANAGE, product)
    unknown = set(changes) - set(PRODUCT_SETTINGS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This setting cannot be changed."))
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        current_ready = product.definition_of_ready
        for name, value in changes.items():
            setattr(product, name, value)
        if "sla_hours" in changes:
            _validate_sla_hours(product.sla_hours)
        if "definition_of_ready" in changes:
            product.definition_of_ready = _definition_of_ready(changes["definition_of_ready"], current_ready)
        product.full_clean()
        product.save()
    return product


def _definition_of_ready(value, current: dict) -> dict:
    """The full checklist: the checks given, the others as they were (``Product.clean`` checks it)."""
    if not isinstance(value, dict):
        raise ValidationError({"definition_of_ready": "Give the checks to change as an object."})
    return {**DEFAULT_DEFINITION_OF_READY, **current, **value}


def _validate_sla_hours(value) -> None:
    expected = {f"P{n}" for n in range(1, 6)}
    if not isinstance(value, dict) or set(value) != expected:
        raise ValidationError({"sla_hours": "Give hours for each of P1, P2, P3, P4 and P5."})
    if not all(
        isinstance(hours, int) and not isinstance(hours, bool) and 0 < hours <= MAX_SLA_HOURS
        for hours in value.values()
    ):
        raise ValidationError({"sla_hours": f"SLA targets are whole hours, from 1 to {MAX_SLA_HOURS:,}."})


def membership_set(
    *,
    product: Product,
    actor: User,
    user: User,
    role: str,
    ordering_delegated: bool = False,
) -> Membership:
    """Give ``user`` a role in ``product`` (owners only); a product always keeps an owner."""
    require(actor, Action.MANAGE, product)
    with transaction.atomic():
        Product.objects.select_for_update().get(pk=product.pk)
        membership = Membership.objects.filter(product=product, user=user).first() or Membership(
            product=product, user=user
        )
        _keep_an_owner(product, membership, new_role=role)
        membership.role = role
        membership.ordering_delegated = ordering_delegated
        membership.full_clean(validate_unique=False)
        membership.save()
    return membership


def membership_remove(*, product: Product, actor: User, user: User) -> None:
    """Remove ``user`` from ``product`` (owners only); the last owner cannot be removed."""
    require(actor, Action.MANAGE, product)
    with transaction.atomic():
        Product.objects.select_for_update().get(pk=product.pk)
        membership = Membership.objects.filter(product=product, user=user).first()
        if membership is None:
            return
        _keep_an_owner(product, membership, new_role=None)
        membership.delete()


def _keep_an_owner(product: Product, membership: Membership, *, new_role: str | None) -> None:
    if membership.pk is None or membership.role != Membership.Role.OWNER or new_role == Membership.Role.OWNER:
        return
    other_owners = Membership.objects.filter(product=product, role=Membership.Role.OWNER).exclude(pk=membership.pk)
    if not other_owners.exists():
        raise ValidationError({"role": "A product needs at least one product owner; appoint another first."})


def token_create(
    *,
    user: User,
    name: str,
    read_only: bool = False,
    expires_at: datetime | None = None,
    created_with: ApiToken | None = None,
) -> tuple[ApiToken, str]:
    """Create a personal API token; return it and the secret token string (shown only now).

    A token made with another token (``created_with``) never outlives it, so a short-lived
    token cannot mint a permanent one. A user has at most ``MAX_TOKENS_PER_USER`` usable tokens.
    """
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if created_with is not None and created_with.expires_at is not None:
        if expires_at is not None and expires_at > created_with.expires_at:
            raise ValidationError({"expires_at": "A token made with a token cannot outlive it."})
        expires_at = expires_at or created_with.expires_at
    usable = ApiToken.objects.filter(user=user, revoked_at__isnull=True).exclude(expires_at__lte=now).count()
    if usable >= MAX_TOKENS_PER_USER:
        raise ValidationError({"name": f"You have {usable} tokens; revoke one before making another."})
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user=user, name=name, prefix=prefix, key_hash=token_hash(raw), read_only=read_only, parent=created_with
    )
    token.expires_at = expires_at
    token.full_clean()
    token.save()
    return token, raw


def token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    """Revoke a token and every token made with it (their children, and theirs); only its owner
    (or staff) may."""
    if token.user_id != actor.pk and not actor.is_staff:
        raise PermissionDenied("You can only revoke your own tokens.")
    now = timezone.now()
    with transaction.atomic():
        lineage = [token.pk, *_descendant_ids(token.pk)]
        ApiToken.objects.filter(pk__in=lineage, revoked_at__isnull=True).update(revoked_at=now)
    token.revoked_at = token.revoked_at or now
    return token


_TOKEN_TABLE = ApiToken._meta.db_table


def _descendant_ids(token_id: int) -> list[int]:
    """The tokens made with ``token_id``, and with those, down the line (one recursive query)."""
    sql = (
        f"WITH RECURSIVE lineage(id) AS (SELECT id FROM {_TOKEN_TABLE} WHERE parent_id = %s "
        f"UNION SELECT t.id FROM {_TOKEN_TABLE} t JOIN lineage ON t.parent_id = lineage.id) SELECT id FROM lineage"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [token_id])
        return [row[0] for row in cursor.fetchall()]


def _ancestors_usable(token: ApiToken, now: datetime) -> bool:
    """Is every token up ``token``'s line (its parent, the parent's parent, …) still usable?
    One recursive query; a token made with none has nothing to check."""
    if token.parent_id is None:
        return True
    sql = (
        f"WITH RECURSIVE chain(id, parent_id, revoked_at, expires_at) AS ("
        f"SELECT id, parent_id, revoked_at, expires_at FROM {_TOKEN_TABLE} WHERE id = %s "
        f"UNION SELECT t.id, t.parent_id, t.revoked_at, t.expires_at FROM {_TOKEN_TABLE} t "
        f"JOIN chain ON t.id = chain.parent_id) "
        f"SELECT COUNT(*) FROM chain WHERE revoked_at IS NOT NULL OR expires_at <= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [token.parent_id, connection.ops.adapt_datetimefield_value(now)])
        return cursor.fetchone()[0] == 0


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_authenticate(raw: str) -> ApiToken | None:
    """Return the usable token matching ``raw`` (constant-time compare), or None."""
    if not raw.startswith(TOKEN_PREFIX) or "\x00" in raw:
        return None
    prefix, _, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    if not prefix or not secret:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    now = timezone.now()
    if token is None or not hmac.compare_digest(token.key_hash, token_hash(raw)) or not token.is_usable(now):
        return None
    if not _ancestors_usable(token, now):
        return None  # made with a token that was revoked or expired since
    if token.last_used_at is None or now - token.last_used_at > TOKEN_USE_RECORD_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
