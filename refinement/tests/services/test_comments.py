"""Comments: members comment, Markdown is rendered inert, authors and owners delete."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backlog.rendering import markdown_html
from refinement.models import Comment
from refinement.services.comments import comment_create, comment_delete

pytestmark = pytest.mark.django_db

HOSTILE = """**Bold** and [a link](https://example.com)
<script>alert('x')</script>
<img src=x onerror="alert(1)">
[click](javascript:alert(1))
<a href="https://example.com" onclick="steal()">hi</a>
<iframe src="https://evil.example"></iframe>
"""


def test_markdown_renders_and_nothing_runs():
    html = str(markdown_html(HOSTILE))
    assert "<strong>Bold</strong>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer">a link</a>' in html
    for dangerous in ("<script", "onerror", "javascript:", "onclick", "<iframe", "<img"):
        assert dangerous not in html


@pytest.mark.parametrize("role", ["owner", "developer", "delegate", "stakeholder"])
def test_every_member_comments(items, role, request):
    comment = comment_create(item=items[0], actor=request.getfixturevalue(role), body="Agreed")
    assert comment.body == "Agreed"


def test_outsiders_do_not_comment(items, outsider):
    with pytest.raises(PermissionDenied):
        comment_create(item=items[0], actor=outsider, body="hi")
    assert not Comment.objects.exists()


def test_an_empty_comment_is_refused(items, developer):
    with pytest.raises(ValidationError):
        comment_create(item=items[0], actor=developer, body="  \n ")


def test_authors_and_owners_delete_others_do_not(items, owner, developer, stakeholder):
    mine = comment_create(item=items[0], actor=developer, body="mine")
    with pytest.raises(PermissionDenied):
        comment_delete(comment=mine, actor=stakeholder)
    comment_delete(comment=mine, actor=developer)
    moderated = comment_create(item=items[0], actor=stakeholder, body="rude")
    comment_delete(comment=moderated, actor=owner)
    assert not Comment.objects.exists()


def test_comments_over_the_api(as_role, items, product):
    url = f"/api/v1/items/{items[0].key}/comments/"
    created = as_role("stakeholder").post(url, {"body": "<script>x()</script>*why*"}, format="json")
    assert created.status_code == 201
    assert created.json()["body_html"] == "<p><em>why</em></p>"
    listed = as_role("developer").get(url).json()["results"]
    assert [c["body"] for c in listed] == ["<script>x()</script>*why*"]
    assert as_role("outsider").get(url).status_code == 404
    comment_url = f"/api/v1/comments/{created.json()['id']}/"
    assert as_role("outsider").delete(comment_url).status_code == 404
    assert as_role("developer").delete(comment_url).status_code == 403
    assert as_role("stakeholder").delete(comment_url).status_code == 204
    assert as_role("stakeholder").delete(comment_url).status_code == 404


def test_a_hostile_comment_does_not_break_the_comment_list(as_role, items):
    url = f"/api/v1/items/{items[0].pk}/comments/"
    posted = as_role("stakeholder").post(url, {"body": "1. " * 5000}, format="json")
    assert posted.status_code in (201, 400)
    assert as_role("owner").get(url).status_code == 200
