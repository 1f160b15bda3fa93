"""Who a proposal's events concern: the proposer of a question or a decision, the asker of an
answer; and who a comment concerns (the people it mentions, the item's watchers). Run by a job
after the change commits (``refinement.jobs``), never in the request; delivered, as the people
chose, by ``notifications.services``."""

from django.db.models import Q

from accounts.models import Notification
from backlog.models import Item, ItemEvent
from notifications.services import Notice, comment_announce, users_notify
from refinement.models import Comment, Question

QUESTION, ANSWER, DECISION = "question", "answer", "decision"


def proposal_notify(*, event: str, object_id: int) -> int:
    """Notify the person ``event`` (on question ``object_id``, or item ``object_id`` for a
    decision) concerns; once per event, and only while they may still see the product. Return
    how many were told (0 or 1)."""
    if event in (QUESTION, ANSWER):
        related = ("item__product", "item__created_by", "asked_by")
        question = Question.objects.select_related(*related).filter(pk=object_id).first()
        if question is None:
            return 0
        item = question.item
        if event == QUESTION:
            recipient, kind, key = item.created_by, Notification.Kind.QUESTION, f"question:{question.pk}"
            text = f"{_name(question.asked_by)} asks about {item.key} “{item.title}”: {question.text}"
        else:
            recipient, kind, key = question.asked_by, Notification.Kind.ANSWER, f"answer:{question.pk}"
            text = f"{_name(item.created_by)} answered on {item.key} “{item.title}”: {question.answer}"
    elif event == DECISION:
        item = Item.objects.select_related("product", "created_by").filter(pk=object_id).first()
        if item is None or item.status not in (Item.Status.OPEN, Item.Status.REJECTED):
            return 0
        recipient = item.created_by
        if item.status == Item.Status.REJECTED:
            kind, key = Notification.Kind.REJECTED, f"rejected:{item.pk}"
            reason = (
                item.events.filter(type=ItemEvent.Type.STATUS_CHANGED)
                .order_by("-created_at", "-pk")
                .values_list("reason", flat=True)
                .first()
            )
            text = f"{item.key} “{item.title}” was rejected: {reason or 'no reason given'}"
        else:
            kind, key = Notification.Kind.ACCEPTED, f"accepted:{item.pk}"
            text = f"{item.key} “{item.title}” was accepted into the backlog."
    else:
        raise ValueError(f"Unknown proposal event: {event}")
    if recipient is None:
        return 0
    notice = Notice(kind, key, text, item.get_absolute_url())
    return users_notify(product_id=item.product_id, users=Q(pk=recipient.pk), notice=notice)


def comment_notify(*, comment_id: int) -> int:
    """Tell the people a comment mentions, and the item's watchers, of it."""
    comment = Comment.objects.select_related("item__product").filter(pk=comment_id).first()
    if comment is None:
        return 0
    return comment_announce(item=comment.item, comment_id=comment.pk, author_id=comment.author_id, body=comment.body)


def _name(user) -> str:
    return getattr(user, "shown_name", None) or "Someone"
