"""Who hears of what happens to a proposal: the proposer of a question or a decision, the asker
of an answer. Run by a job after the change commits (``refinement.jobs``), never in the request."""

from accounts.models import Notification
from accounts.services import notification_create
from backlog.models import Item, ItemEvent
from refinement.models import Question

QUESTION, ANSWER, DECISION = "question", "answer", "decision"


def proposal_notify(*, event: str, object_id: int) -> Notification | None:
    """Notify the person ``event`` (on question ``object_id``, or item ``object_id`` for a
    decision) concerns; once per event, and only while they may still see the product."""
    if event in (QUESTION, ANSWER):
        related = ("item__product", "item__created_by", "asked_by")
        question = Question.objects.select_related(*related).filter(pk=object_id).first()
        if question is None:
            return None
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
            return None
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
        return None
    return notification_create(
        user=recipient, product=item.product, kind=kind, key=key, text=text, link=item.get_absolute_url()
    )


def _name(user) -> str:
    return getattr(user, "shown_name", None) or "Someone"
