"""Reviewing proposals: ask the proposer, accept into the order, reject with a reason.

A proposal is an item in status ``proposed`` (created by someone who may not add directly; a
technical one carries its value case). Owners and ordering delegates decide; every step is in
the item's history with who, when and why.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action, lock_product_for, require
from backlog import history
from backlog.models import Item
from backlog.services.items import item_transition_locked
from backlog.services.ordering import Placement
from backlog.transactions import retry_on_conflict
from refinement.jobs import enqueue_proposal_notification
from refinement.models import Question
from refinement.selectors import suggested_position
from refinement.services.notifications import ANSWER, DECISION, QUESTION

MAX_TEXT = 10_000


def _text(value: str, field: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: f"Write {what}."})
    if len(value) > MAX_TEXT:
        raise ValidationError({field: f"Keep it under {MAX_TEXT:,} characters."})
    return value


def _locked_proposal(
    item: Item, actor: User, action: Action, expected_version: int | None
) -> tuple[Item, frozenset[Action]]:
    """Lock the product and the item (the lock order of every writer); check ``action`` and the
    version the caller read. Return the locked item and the actor's actions."""
    product, actions = lock_product_for(actor, item.product_id)
    require(actor, action, product, actions=actions)
    current = Item.objects.select_for_update(of=("self",)).get(pk=item.pk)
    current.product = product
    if current.status != Item.Status.PROPOSED:
        raise ValidationError({"status": f"{current.key} is not a proposal under review (it is {current.status})."})
    current.check_version(expected_version)
    return current, actions


def proposal_ask(*, item: Item, actor: User, question: str, expected_version: int | None = None) -> Question:
    """Ask the proposer for more information; the proposal leaves the queue until answered."""
    text = _text(question, "question", "the question")
    with transaction.atomic():
        current, _ = _locked_proposal(item, actor, Action.REVIEW, expected_version)
        if current.questions.filter(answered_at__isnull=True).exists():
            raise ValidationError({"question": "The proposer has not answered the last question yet."})
        if current.created_by_id is None:
            raise ValidationError({"question": "The proposer's account is gone: accept or reject instead."})
        now = timezone.now()
        asked = Question.objects.create(item=current, asked_by=actor, text=text, asked_at=now)
        history.write([history.question_asked(item=current, actor=actor, question_id=asked.pk, text=text, at=now)])
        transaction.on_commit(lambda: enqueue_proposal_notification(QUESTION, asked.pk), robust=True)
    return asked


def proposal_answer(*, item: Item, actor: User, answer: str, expected_version: int | None = None) -> Question:
    """The proposer answers the open question; the proposal returns to the review queue."""
    text = _text(answer, "answer", "the answer")
    with transaction.atomic():
        current, _ = _locked_proposal(item, actor, Action.VIEW, expected_version)
        if current.created_by_id != actor.pk:
            raise PermissionDenied("Only the proposer answers questions on a proposal.")
        question = current.questions.select_for_update().filter(answered_at__isnull=True).first()
        if question is None:
            raise ValidationError({"answer": "There is no open question on this proposal."})
        question.answer, question.answered_by, question.answered_at = text, actor, timezone.now()
        question.save(update_fields=["answer", "answered_by", "answered_at"])
        history.write(
            [
                history.question_answered(
                    item=current, actor=actor, question_id=question.pk, text=text, at=question.answered_at
                )
            ]
        )
        transaction.on_commit(lambda: enqueue_proposal_notification(ANSWER, question.pk), robust=True)
    return question


@retry_on_conflict
def proposal_accept(
    *,
    item: Item,
    actor: User,
    placement: Placement | None = None,
    at_suggested_position: bool = False,
    expected_version: int | None = None,
) -> Item:
    """Accept a proposal into the order: at ``placement`` (default the bottom) or where its score
    suggests. The one way a proposal is accepted, from the pages and the API alike."""
    if at_suggested_position and placement is not None:
        raise ValidationError({"placement": "Choose a place or the suggested position, not both."})
    with transaction.atomic():
        current, actions = _locked_proposal(item, actor, Action.REVIEW, expected_version)
        if at_suggested_position:
            placement = Placement.at(suggested_position(item=current))
        transaction.on_commit(lambda: enqueue_proposal_notification(DECISION, current.pk), robust=True)
        return item_transition_locked(
            item=current, actor=actor, actions=actions, to=Item.Status.OPEN, placement=placement
        )


@retry_on_conflict
def proposal_reject(
    *,
    item: Item,
    actor: User,
    reason: str,
    duplicate_of: Item | None = None,
    expected_version: int | None = None,
) -> Item:
    """Reject a proposal with a reason the proposer reads; a duplicate is linked to its original.
    The one way a proposal is rejected, from the pages and the API alike."""
    text = _text(reason, "reason", "why the proposal is rejected; the proposer will read it")
    with transaction.atomic():
        current, actions = _locked_proposal(item, actor, Action.REVIEW, expected_version)
        linked = ()
        if duplicate_of is not None:
            if duplicate_of.product_id != current.product_id or duplicate_of.pk == current.pk:
                raise ValidationError({"duplicate_of": "Choose another item of the same product."})
            current.duplicate_of = duplicate_of
            linked = ("duplicate_of",)
        transaction.on_commit(lambda: enqueue_proposal_notification(DECISION, current.pk), robust=True)
        return item_transition_locked(
            item=current,
            actor=actor,
            actions=actions,
            to=Item.Status.REJECTED,
            reason=text,
            duplicate_of=duplicate_of,
            also_save=linked,
        )
