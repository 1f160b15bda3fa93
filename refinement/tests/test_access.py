"""refinement.access, and every refinement page and API URL: outsiders get the 404 of a missing thing."""

import pytest
from django.http import Http404
from django.test import Client

from accounts.tests.routes import assert_any_case, assert_hidden, routes_of
from backlog.models import Item
from backlog.services.items import item_create
from refinement.access import access_comment
from refinement.models import Comment
from refinement.services.comments import comment_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal(product, developer):
    return item_create(product=product, actor=developer, kind="story", title="Idea")


@pytest.fixture
def comment(proposal, owner):
    return comment_create(item=proposal, actor=owner, body="Why?")


@pytest.mark.parametrize("role", ["owner", "developer", "stakeholder"])
def test_members_reach_a_comment(comment, role, request):
    assert access_comment(request.getfixturevalue(role), comment.pk) == comment


@pytest.mark.parametrize("role", ["outsider", "anonymous"])
def test_outsiders_cannot_tell_a_foreign_comment_from_a_missing_one(comment, role, request):
    user = request.getfixturevalue(role)
    with pytest.raises(Http404) as foreign:
        access_comment(user, comment.pk)
    with pytest.raises(Http404) as missing:
        access_comment(user, comment.pk + 1000)
    assert str(foreign.value) == str(missing.value)


def test_outsiders_get_404_on_every_refinement_page_and_api_url(product, proposal, comment, outsider, as_role):
    urls = routes_of("refinement", key=product.key, number=proposal.number, ref=proposal.key, comment_id=comment.pk)
    page = Client()
    page.force_login(outsider)
    assert_hidden(page, as_role("outsider"), urls)
    assert Comment.objects.filter(pk=comment.pk).exists()
    assert Item.objects.get(pk=proposal.pk).status == "proposed"


def test_every_refinement_url_takes_keys_in_any_case(product, proposal, comment, owner, as_role):
    page = Client()
    page.force_login(owner)
    urls = routes_of("refinement", key=product.key, number=proposal.number, ref=proposal.key, comment_id=comment.pk)
    assert_any_case(page, as_role("owner"), urls, product.key)
