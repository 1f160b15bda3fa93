"""Writes to products, memberships and API tokens."""

import copy
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_record, changed
from accounts.models import (
    DEFAULT_DEFINITION_OF_READY,
    ApiToken,
    AuditEvent,
    Invitation,
    Membership,
    Notification,
    Product,
    User,
)
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
        audit_record(
            product=product, actor=owner, action=AuditEvent.Action.PRODUCT_CREATED, new={"name": name, "key": key}
        )
    return product


def product_archive(*, product: Product, actor: User, archived: bool = True) -> Product:
    """Archive a product (it leaves the product switcher) or restore it (owners only)."""
    require(actor, Action.MANAGE, product)
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        if (product.archived_at is not None) == archived:
            return product
        product.archived_at = timezone.now() if archived else None
        product.save(update_fields=["archived_at"])
        action = AuditEvent.Action.PRODUCT_ARCHIVED if archived else AuditEvent.Action.PRODUCT_RESTORED
        audit_record(product=product, actor=actor, action=action)
    return product


PRODUCT_SETTINGS = (
    "name",
    "description",
    "stale_after_days",
    "sla_hours",
    "definition_of_ready",
    "debt_target_percent",
    "sprint_capacity",
    "search_language",
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
        before = {name: copy.deepcopy(getattr(product, name)) for name in changes}
        current_ready = product.definition_of_ready
        for name, value in changes.items():
            setattr(product, name, value)
        if "sla_hours" in changes:
            _validate_sla_hours(product.sla_hours)
        if "definition_of_ready" in changes:
            product.definition_of_ready = _definition_of_ready(changes["definition_of_ready"], current_ready)
        product.full_clean()
        product.save()
        old, new = changed(before, {name: getattr(product, name) for name in changes})
        if "name" in new:
            audit_record(
                product=product,
                actor=actor,
                action=AuditEvent.Action.PRODUCT_RENAMED,
                old=old.pop("name"),
                new=new.pop("name"),
            )
        if new:
            audit_record(product=product, actor=actor, action=AuditEvent.Action.SETTINGS_CHANGED, old=old, new=new)
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
        before = None if membership.pk is None else _role_of(membership)
        membership.role = role
        membership.ordering_delegated = ordering_delegated
        membership.full_clean(validate_unique=False)
        membership.save()
        if before != _role_of(membership):
            action = AuditEvent.Action.MEMBER_ADDED if before is None else AuditEvent.Action.MEMBER_CHANGED
            audit_record(
                product=product, actor=actor, action=action, old=before, new=_role_of(membership), member=user.username
            )
    return membership


def _role_of(membership: Membership | Invitation) -> dict:
    return {"role": membership.role, "ordering_delegated": membership.ordering_delegated}


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
        audit_record(
            product=product,
            actor=actor,
            action=AuditEvent.Action.MEMBER_REMOVED,
            old=_role_of(membership),
            member=user.username,
        )


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


def invitation_create(
    *,
    product: Product,
    actor: User,
    invitee: str,
    role: str,
    ordering_delegated: bool = False,
    site_url: str,
) -> tuple[Invitation, str]:
    """Invite someone (an e-mail address or a username) to ``product`` with a role (owners only).

    Mails the link after commit and returns the invitation with the link's secret (only its hash
    is stored). The link works once, until ``INVITATION_DAYS`` have passed.
    """
    require(actor, Action.MANAGE, product)
    invitee = invitee.strip()
    user = None
    if "@" in invitee:
        email = invitee
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"invitee": "That is not an e-mail address: check it for typos."}) from None
        member = Membership.objects.filter(product=product, user__email__iexact=email)
    else:
        user = User.objects.filter(username=invitee, is_active=True).first()
        if user is None:
            raise ValidationError({"invitee": f"No one has the username “{invitee}”: invite them by e-mail instead."})
        if not user.email:
            raise ValidationError({"invitee": f"{user.username} has no e-mail address: ask them to add one first."})
        email = user.email
        member = Membership.objects.filter(product=product, user=user)
    if member.exists():
        raise ValidationError({"invitee": f"{invitee} is already a member of {product.name}."})
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation(
            product=product,
            email=email,
            invitee=user,
            role=role,
            ordering_delegated=ordering_delegated,
            token_hash=token_hash(raw),
            invited_by=actor,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_DAYS),
        )
        invitation.full_clean()
        invitation.save()
        audit_record(
            product=product,
            actor=actor,
            action=AuditEvent.Action.INVITATION_SENT,
            new=_role_of(invitation),
            email=email,
        )
        link = site_url.rstrip("/") + reverse("invitation", args=[raw])
        transaction.on_commit(lambda: _mail_invitation(invitation, link))
    return invitation, raw


def _mail_invitation(invitation: Invitation, link: str) -> None:
    inviter = invitation.invited_by.get_full_name() or invitation.invited_by.username
    product = invitation.product
    send_mail(
        subject=f"{inviter} invites you to {product.name} on OneBacklog",
        message=(
            f"{inviter} invites you to join {product.name} ({product.key}) as "
            f"{invitation.get_role_display().lower()}.\n\n"
            f"Open this link to sign in (or sign up) and join:\n{link}\n\n"
            f"The link works once and expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC."
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


def invitation_find(raw: str) -> Invitation | None:
    """The invitation whose link holds ``raw`` (a forged or unknown one: None)."""
    if not raw or len(raw) > 100:
        return None
    return Invitation.objects.select_related("product", "invited_by").filter(token_hash=token_hash(raw)).first()


def invitation_accept(*, raw: str, user: User) -> Membership:
    """Join the invitation's product with its role; the link is then used up.

    Someone already a member keeps their role. An invitation by username is for that user only.
    """
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(token_hash=token_hash(raw)).first()
        if invitation is None:
            raise ValidationError("This invitation link is not valid.")
        if invitation.accepted_at is not None:
            raise ValidationError("This invitation has already been used.")
        if invitation.revoked_at is not None:
            raise ValidationError("This invitation was withdrawn; ask the product owner for a new one.")
        if invitation.expires_at <= timezone.now():
            raise ValidationError("This invitation has expired; ask the product owner for a new one.")
        if invitation.invitee_id is not None and invitation.invitee_id != user.pk:
            raise ValidationError("This invitation is for someone else: sign in as the person invited.")
        product = Product.objects.select_for_update().get(pk=invitation.product_id)
        membership = Membership.objects.filter(product=product, user=user).first()
        if membership is None:
            membership = Membership(
                product=product, user=user, role=invitation.role, ordering_delegated=invitation.ordering_delegated
            )
            membership.full_clean(validate_unique=False)
            membership.save()
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(
            product=product,
            actor=user,
            action=AuditEvent.Action.INVITATION_ACCEPTED,
            new=_role_of(membership),
            member=user.username,
            email=invitation.email,
        )
    return membership


def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    """Withdraw an open invitation (owners only): its link stops working."""
    require(actor, Action.MANAGE, invitation.product)
    with transaction.atomic():
        updated = Invitation.objects.filter(pk=invitation.pk, accepted_at=None, revoked_at=None).update(
            revoked_at=timezone.now()
        )
        if updated:
            audit_record(
                product=invitation.product,
                actor=actor,
                action=AuditEvent.Action.INVITATION_REVOKED,
                old=_role_of(invitation),
                email=invitation.email,
            )
    return invitation


def user_profile_update(*, user: User, display_name: str, email: str, time_zone: str) -> User:
    """Change the user's own display name, e-mail address and time zone.

    allauth's record of the address follows: a new address replaces the old one, unconfirmed
    (the page mails the confirmation link); an unchanged one keeps its state.
    """
    email = email.strip().lower()
    taken = User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists() or (
        EmailAddress.objects.filter(email__iexact=email).exclude(user=user).exists()
    )
    if email and taken:
        raise ValidationError({"email": "Another account has this address."})
    changed_address = email != user.email.lower()
    user.display_name, user.email, user.time_zone = display_name.strip(), email, time_zone
    user.full_clean(exclude=["password", "username"])
    with transaction.atomic():
        user.save(update_fields=["display_name", "email", "time_zone"])
        if changed_address:
            EmailAddress.objects.filter(user=user).delete()
        if email and not EmailAddress.objects.filter(user=user, email__iexact=email).exists():
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    return user


def notification_create(
    *, user: User, product: Product, kind: str, key: str, text: str, link: str
) -> Notification | None:
    """Put a notification in ``user``'s inbox, once per event (``key``), and only while the user
    may still see the product; return it (None when not sent)."""
    if not user.is_active or not Membership.objects.filter(user=user, product=product).exists():
        return None
    notification, _ = Notification.objects.get_or_create(
        user=user, key=key, defaults={"product": product, "kind": kind, "text": text[:300], "link": link}
    )
    return notification


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (``ids``, or all); return how many were unread."""
    unread = Notification.objects.filter(user=user, in_app=True, read_at=None)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
