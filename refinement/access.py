"""Reaching refinement's own objects for a user: fetch and check in one call (404 for outsiders);
and what a review decision names (where an accepted proposal goes, what a rejected one duplicates),
read the same way from a page's form and an API body."""

from typing import Any

from django.http import Http404

from accounts.models import Product, User
from accounts.permissions import membership_of
from backlog.access import item_in, placement_in
from backlog.models import Item
from refinement.models import Comment


def access_comment(user: User | Any, comment_id: int) -> Comment:
    """Return the comment (with its item) if the user is a member of its product; 404 otherwise, as if missing.

    What the member may do to it (delete: its author or the owner) the service decides.
    """
    comment = Comment.objects.select_related("item", "item__product").filter(pk=comment_id).first()
    if comment is None or membership_of(user, comment.item) is None:
        raise Http404("No such comment.")
    return comment


SUGGESTED = "suggested"  # accept at the place the scores suggest (beside top, bottom, before, …)


def accept_place(product: Product, *, to: str, anchor: str | None = None, position=None) -> dict[str, Any]:
    """Where an accepted proposal goes: ``proposal_accept``'s placement keywords (``to`` is a place
    of ``backlog.access.placement_in``, or "suggested")."""
    if to == SUGGESTED:
        return {"placement": None, "at_suggested_position": True}
    placement = placement_in(product, to=to, anchor=anchor, position=position)
    return {"placement": placement, "at_suggested_position": False}


def duplicate_in(product: Product, reference: str | None) -> Item | None:
    """The item a rejected proposal duplicates (id or key in ``product``), None when not given."""
    reference = (reference or "").strip()
    return item_in(product, reference, "duplicate_of") if reference else None
