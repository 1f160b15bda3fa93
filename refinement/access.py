"""Reaching refinement's own objects for a user: fetch and check in one call (404 for outsiders)."""

from typing import Any

from django.http import Http404

from accounts.models import User
from accounts.permissions import membership_of
from refinement.models import Comment


def access_comment(user: User | Any, comment_id: int) -> Comment:
    """Return the comment (with its item) if the user is a member of its product; 404 otherwise, as if missing.

    What the member may do to it (delete: its author or the owner) the service decides.
    """
    comment = Comment.objects.select_related("item", "item__product").filter(pk=comment_id).first()
    if comment is None or membership_of(user, comment.item) is None:
        raise Http404("No such comment.")
    return comment
