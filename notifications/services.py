"""Who hears of what, and how: the one place notifications are addressed and sent.

Every notice goes through ``_deliver``: the recipients are read in ONE query that keeps only
active members of the item's product (someone removed hears nothing more) with their channel
for the event (their preferences, or the defaults); the rows are written with one
``bulk_create(ignore_conflicts=True)`` (the ``(user, key)`` constraint makes every notice
once-only, however often a job runs); the immediate e-mails are then read and marked in one query
each. So a job's queries do not grow with the number of recipients.

Called only by jobs after the change committed (``notifications.tasks``), never in a request.
Refinement (proposal questions, answers, decisions; comments) and the service queue (SLA
breaches) say who an event concerns; the item history (through ``backlog.history.listen``)
brings edits, status changes and splits to the watchers.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Membership, Notification, User
from accounts.permissions import Action, require
from backlog import history
from backlog.models import Item, ItemEvent
from notifications.mentions import mentioned_usernames
from notifications.models import (
    DEFAULT_CHANNELS,
    EMAIL_CHANNELS,
    IN_APP_CHANNELS,
    Channel,
    Digest,
    Event,
    Preferences,
    Watch,
)

logger = logging.getLogger(__name__)

KIND_EVENT: dict[str, str] = {
    Notification.Kind.QUESTION: Event.QUESTION,
    Notification.Kind.ANSWER: Event.ANSWER,
    Notification.Kind.ACCEPTED: Event.DECISION,
    Notification.Kind.REJECTED: Event.DECISION,
    Notification.Kind.MENTION: Event.MENTION,
    Notification.Kind.WATCHED: Event.WATCHED,
    Notification.Kind.SLA_BREACH: Event.SLA_BREACH,
}
# The history events watchers hear of: edits (service steps included) and status changes, and
# splits. Not moves (every reorder would notify), creations (only the author watches a new item)
# or review questions (the proposer and the asker are told directly).
WATCHED_TYPES = (ItemEvent.Type.UPDATED, ItemEvent.Type.STATUS_CHANGED, ItemEvent.Type.SPLIT)
# Recorded by the SLA clocks: announced as SLA breaches (``sla_breach_announce``), not as edits.
SLA_FIELDS = frozenset({"response_breached_at", "resolution_breached_at"})
TEXT_MAX = 300
# Rows a statement: a job telling up to this many people inserts them in one statement (SQLite
# splits it further by its limit of 999 parameters).
BATCH = 5000


@dataclass(frozen=True)
class Notice:
    """One event to tell people of: the same key, text and link for every recipient."""

    kind: str
    key: str
    text: str
    link: str

    def row(self, *, user_id: int, product_id: int, channel: str) -> Notification:
        return Notification(
            user_id=user_id,
            product_id=product_id,
            kind=self.kind,
            key=self.key[:100],
            text=_clip(self.text),
            link=self.link,
            in_app=channel in IN_APP_CHANNELS,
            email_due=channel in EMAIL_CHANNELS,
        )


def _clip(text: str) -> str:
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


def _channel(event: str, path: str = "") -> Coalesce:
    """The user's channel for ``event`` in a query (``path`` leads to the user)."""
    return Coalesce(F(f"{path}notification_preferences__{event}"), Value(DEFAULT_CHANNELS[event]))


def _members(path: str, product: str | int) -> Exists:
    """The user at ``path`` (of the outer row) is a member of ``product`` (an id, or the path
    to one in the outer row)."""
    product_id = OuterRef(product) if isinstance(product, str) else product
    return Exists(Membership.objects.filter(user_id=OuterRef(path), product_id=product_id))


def _store(rows: list[Notification]) -> int:
    """Write the notifications (once per user and key), then send the immediate e-mails among
    them. Return how many rows were offered."""
    if not rows:
        return 0
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=BATCH)
    emails_send(keys={row.key for row in rows if row.email_due})
    return len(rows)


# Telling specific people (proposal notices, mentions, SLA breaches).


def users_notify(*, product_id: int, users: Q, notice: Notice, exclude: Iterable[int] = ()) -> int:
    """Tell the users matching ``users`` (a condition on User) of ``notice``, if they are active
    members of the product and did not turn this event off; not ``exclude``. One query to
    address them, whatever their number."""
    event = KIND_EVENT[notice.kind]
    recipients = (
        User.objects.filter(users, is_active=True)
        .filter(_members("pk", product_id))
        .exclude(pk__in=list(exclude))
        .annotate(channel=_channel(event))
        .exclude(channel=Channel.NONE)
        .values_list("pk", "channel")
        .distinct()
    )
    return _store([notice.row(user_id=pk, product_id=product_id, channel=channel) for pk, channel in recipients])


def comment_announce(*, item: Item, comment_id: int, author_id: int | None, body: str) -> int:
    """A comment was added: the members it @mentions hear of the mention, the item's other
    watchers of the comment; never its author. The same queries however many watchers."""
    link = f"{item.get_absolute_url()}#comment-{comment_id}"
    author = User.objects.filter(pk=author_id).values_list("username", "display_name").first()
    who = (author[1] or author[0]) if author else "Someone"
    snippet = " ".join(body.split())
    names = mentioned_usernames(body)
    mentioned = Q()
    for name in names:
        mentioned |= Q(username__iexact=name)
    rows: list[Notification] = []
    seen: set[int] = set()
    if names:
        notice = Notice(
            Notification.Kind.MENTION,
            f"mention:{comment_id}",
            f"{who} mentioned you on {item.key} “{item.title}”: {snippet}",
            link,
        )
        recipients = (
            User.objects.filter(mentioned, is_active=True)
            .filter(_members("pk", item.product_id))
            .exclude(pk=author_id)
            .annotate(channel=_channel(Event.MENTION))
            .values_list("pk", "channel")
        )
        for pk, channel in recipients:
            seen.add(pk)  # a mentioned watcher hears of the mention, not the comment again
            if channel != Channel.NONE:
                rows.append(notice.row(user_id=pk, product_id=item.product_id, channel=channel))
    notice = Notice(
        Notification.Kind.WATCHED,
        f"comment:{comment_id}",
        f"{who} commented on {item.key} “{item.title}”: {snippet}",
        link,
    )
    for pk, channel in (
        _watchers(item_ids=[item.pk], event=Event.WATCHED).exclude(user_id=author_id).values_list("user_id", "channel")
    ):
        if pk not in seen:
            rows.append(notice.row(user_id=pk, product_id=item.product_id, channel=channel))
    return _store(rows)


def sla_breach_announce(*, item_id: int, target: str, due_at: datetime, assignee_id: int | None) -> int:
    """An SLA target (``response`` or ``resolution``) of the item's ticket was breached: its
    assignee and the item's watchers hear of it, once per target and due time."""
    item = Item.objects.select_related("product").filter(pk=item_id).first()
    if item is None:
        return 0
    notice = Notice(
        Notification.Kind.SLA_BREACH,
        f"sla:{item_id}:{target}:{int(due_at.timestamp())}",
        f"{item.key} “{item.title}” breached its SLA {target} target (due {due_at:%Y-%m-%d %H:%M} UTC).",
        item.get_absolute_url(),
    )
    audience = Q(watches__item_id=item_id)
    if assignee_id is not None:
        audience |= Q(pk=assignee_id)
    return users_notify(product_id=item.product_id, users=audience, notice=notice)


# Watching.


def _watchers(*, item_ids: Sequence[int], event: str) -> QuerySet[Watch]:
    """The watches of the items whose users may still see them and want ``event``, with their
    ``channel``: one query."""
    return (
        Watch.objects.filter(item_id__in=item_ids, user__is_active=True)
        .filter(_members("user_id", "item__product_id"))
        .annotate(channel=_channel(event, "user__"))
        .exclude(channel=Channel.NONE)
    )


def watch_set(*, item: Item, user: User, watching: bool) -> bool:
    """Start or stop watching ``item`` (any member who sees it); return whether ``user`` watches."""
    require(user, Action.VIEW, item)
    if watching:
        Watch.objects.get_or_create(item=item, user=user)
    else:
        Watch.objects.filter(item=item, user=user).delete()
    return watching


def item_events_announce(*, event_ids: Sequence[int]) -> int:
    """Tell the watchers of the items of these history events what happened (not the person who
    did it); make authors and proposers watch the items they created. A fixed number of queries
    for any number of events and watchers."""
    events = list(ItemEvent.objects.filter(pk__in=event_ids).select_related("actor", "item__product").order_by("pk"))
    created = [
        Watch(item_id=e.item_id, user_id=e.actor_id)
        for e in events
        if e.type == ItemEvent.Type.CREATED and e.actor_id is not None
    ]
    if created:
        Watch.objects.bulk_create(created, ignore_conflicts=True, batch_size=1000)
    told = [e for e in events if e.type in WATCHED_TYPES and not _is_sla_breach(e)]
    if not told:
        return 0
    sentences = history.describe(told)
    by_item: dict[int, list[tuple[int, str]]] = defaultdict(list)
    watches = _watchers(item_ids={e.item_id for e in told}, event=Event.WATCHED)
    for item_id, user_id, channel in watches.values_list("item_id", "user_id", "channel"):
        by_item[item_id].append((user_id, channel))
    rows = []
    for event in told:
        item = event.item
        who = event.actor.shown_name if event.actor else "OneBacklog"
        notice = Notice(
            Notification.Kind.WATCHED,
            f"event:{event.pk}",
            f"{who} {sentences[event.pk]} on {item.key} “{item.title}”",
            item.get_absolute_url(),
        )
        decided = event.type == ItemEvent.Type.STATUS_CHANGED and event.data.get("from") == Item.Status.PROPOSED
        for user_id, channel in by_item[event.item_id]:
            if user_id == event.actor_id or (decided and user_id == item.created_by_id):
                continue  # their own change; a proposer hears of the decision as such
            rows.append(notice.row(user_id=user_id, product_id=item.product_id, channel=channel))
    return _store(rows)


def _is_sla_breach(event: ItemEvent) -> bool:
    changes = event.data.get("changes") or {}
    return event.type == ItemEvent.Type.UPDATED and bool(changes) and set(changes) <= SLA_FIELDS


# Preferences.

PREFERENCE_FIELDS = (*Event.values, "digest")


def preferences_update(*, user: User, **changes: str) -> Preferences:
    """Change some of the user's channels (``question``, ``answer``, ``decision``, ``mention``,
    ``watched``, ``sla_breach``: both, in_app, email or none) or ``digest`` (immediate, daily)."""
    unknown = set(changes) - set(PREFERENCE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown preference."))
    errors = {}
    for name, value in changes.items():
        allowed = Digest.values if name == "digest" else Channel.values
        if value not in allowed:
            errors[name] = f"Choose one of: {', '.join(allowed)}."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        preferences, _ = Preferences.objects.select_for_update().get_or_create(user=user)
        for name, value in changes.items():
            setattr(preferences, name, value)
        preferences.save()
    return preferences


# E-mail.


def _message(user: User, notifications: list[Notification], *, digest: bool) -> EmailMessage:
    site = settings.SITE_URL.rstrip("/")
    if digest:
        count = len(notifications)
        subject = f"[OneBacklog] Your daily digest: {count} notification{'s' if count != 1 else ''}"
    else:
        subject = f"[OneBacklog] {notifications[0].text}"[:150]
    lines = [f"Hello {user.shown_name},", ""]
    for notification in notifications:
        lines += [f"- {notification.text}", f"  {site}{notification.link}"]
    lines += ["", f"Choose what you are told and how: {site}/me/notifications/"]
    return EmailMessage(subject=subject.replace("\n", " "), body="\n".join(lines), to=[user.email])


def _send(pending: QuerySet[Notification], *, digest: bool) -> int:
    """E-mail the ``pending`` notifications, one message per user, and mark them e-mailed: rows
    another job holds are skipped, so nothing is sent twice. Return how many messages went."""
    with transaction.atomic():
        rows = list(
            pending.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .annotate(member=_members("user_id", "product_id"))
            .order_by("user_id", "pk")
        )
        if not rows:
            return 0
        by_user: dict[int, list[Notification]] = defaultdict(list)
        gone = []  # left the product (or deactivated) since: never e-mailed
        for row in rows:
            if row.member and row.user.is_active:
                by_user[row.user_id].append(row)
            else:
                gone.append(row.pk)
        if gone:
            Notification.objects.filter(pk__in=gone).update(email_due=False)
        done, sent = [], 0
        connection = get_connection()
        for notifications in by_user.values():
            user = notifications[0].user
            if not user.email:  # nowhere to send it: done
                done += [n.pk for n in notifications]
                continue
            try:
                connection.send_messages([_message(user, notifications, digest=digest)])
            except Exception:
                logger.exception("E-mail to user %s failed; the schedule tries again.", user.pk)
                continue
            done += [n.pk for n in notifications]
            sent += 1
        Notification.objects.filter(pk__in=done).update(emailed_at=timezone.now())
    return sent


def _pending() -> QuerySet[Notification]:
    return Notification.objects.filter(email_due=True, emailed_at=None)


def emails_send(*, keys: Iterable[str]) -> int:
    """Send the immediate e-mails of the notifications with these keys (users on the daily
    digest get theirs in it)."""
    keys = list(keys)
    if not keys:
        return 0
    return _send(
        _pending().filter(key__in=keys).exclude(user__notification_preferences__digest=Digest.DAILY), digest=False
    )


def emails_catch_up(*, now: datetime | None = None, older_than: timedelta = timedelta(minutes=5)) -> int:
    """Send the immediate e-mails a job could not (SMTP down, a worker lost)."""
    now = now or timezone.now()
    due = _pending().filter(created_at__lte=now - older_than)
    return _send(due.exclude(user__notification_preferences__digest=Digest.DAILY), digest=False)


def digests_send(*, now: datetime | None = None) -> int:
    """Send each daily-digest user, once a day from ``NOTIFICATION_DIGEST_HOUR`` in their time
    zone, one e-mail with every notification waiting for them. The day is claimed before
    sending (a conditional UPDATE), so a second run, or two at once, sends nothing more."""
    now = now or timezone.now()
    waiting = (
        Preferences.objects.filter(digest=Digest.DAILY)
        .filter(Exists(_pending().filter(user_id=OuterRef("user_id"))))
        .values_list("user_id", "user__time_zone", "digest_sent_on")
    )
    sent = 0
    for user_id, zone, last in waiting:
        local = now.astimezone(ZoneInfo(zone or "UTC"))
        today = local.date()
        if local.hour < settings.NOTIFICATION_DIGEST_HOUR or (last is not None and last >= today):
            continue
        with transaction.atomic():
            claimed = (
                Preferences.objects.filter(user_id=user_id)
                .filter(Q(digest_sent_on=None) | Q(digest_sent_on__lt=today))
                .update(digest_sent_on=today)
            )
            if claimed:
                sent += _send(_pending().filter(user_id=user_id, created_at__lte=now), digest=True)
    return sent
