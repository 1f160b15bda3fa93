"""Refinement's panels on the item page (``backlog.panels``): the review questions, the comments
and the Split button. Registered from ``RefinementConfig.ready``."""

from typing import Any

from accounts.permissions import Action
from backlog.models import Item
from backlog.panels import ItemPanel, item_panel_register
from notifications.mentions import comment_html
from notifications.selectors import member_usernames
from refinement.selectors import comments_for, questions_for


def questions_panel(*, item: Item, user, actions: frozenset[Action]) -> dict[str, Any]:
    questions = list(questions_for(item=item))
    return {"questions": questions, "open_question": next((q for q in questions if q.is_open), None)}


def comments_panel(*, item: Item, user, actions: frozenset[Action]) -> dict[str, Any]:
    comments = list(comments_for(item=item))
    if comments:
        members = member_usernames(product_id=item.product_id)
        for comment in comments:
            comment.body_html = comment_html(comment.body, product_key=item.product.key, usernames=members)
    return {"comments": comments}


def split_panel(*, item: Item, user, actions: frozenset[Action]) -> dict[str, Any]:
    return {"can_split": Action.REORDER in actions and item.status == Item.Status.OPEN}


def register() -> None:
    item_panel_register(ItemPanel("split", "actions", "refinement/_item_split.html", split_panel))
    item_panel_register(ItemPanel("questions", "main", "refinement/_item_questions.html", questions_panel))
    item_panel_register(ItemPanel("comments", "main", "refinement/_item_comments.html", comments_panel))
