"""Comments on items and proposals: any member may comment; everyone who sees the item reads them."""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import User
from accounts.permissions import Action, require
from backlog.models import Item
from refinement.jobs import enqueue_comment_notification
from refinement.models import Comment

MAX_COMMENT = 20_000

# Who else hears of each new comment: callables given it inside its transaction (one that sends
# anything defers it with ``transaction.on_commit``); the apps above add theirs from
# ``AppConfig.ready`` through ``comment_listen``.
COMMENT_LISTENERS: list[Callable[[Comment], None]] = []


def comment_listen(listener: Callable[[Comment], None]) -> None:
    """Call ``listener`` with every comment created from now on (once, however often asked)."""
    if listener not in COMMENT_LISTENERS:
        COMMENT_LISTENERS.append(listener)


def comment_create(*, item: Item, actor: User, body: str) -> Comment:
    """Add a comment (Markdown; it is rendered sanitized wherever it is shown)."""
    require(actor, Action.COMMENT, item)
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write the comment."})
    if len(body) > MAX_COMMENT:
        raise ValidationError({"body": f"Keep comments under {MAX_COMMENT:,} characters."})
    with transaction.atomic():
        comment = Comment.objects.create(item=item, author=actor, body=body)
        # The people it mentions and the watchers hear of it from a job, after the commit.
        transaction.on_commit(lambda: enqueue_comment_notification(comment.pk), robust=True)
        for listener in COMMENT_LISTENERS:
            listener(comment)
    return comment


def comment_delete(*, comment: Comment, actor: User) -> None:
    """Delete a comment: its author, or the product owner moderating."""
    require(actor, Action.VIEW, comment.item)
    if comment.author_id != actor.pk:
        require(actor, Action.MANAGE, comment.item)
    with transaction.atomic():
        deleted, _ = Comment.objects.filter(pk=comment.pk).delete()
    if not deleted:
        raise PermissionDenied("The comment is already gone.")
