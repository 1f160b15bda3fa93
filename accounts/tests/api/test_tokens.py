"""API tokens made with a token: the line of tokens, shown in the list, dies with its parent."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import token_authenticate, token_create, token_revoke

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def _client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _mint(raw: str, name: str) -> tuple[int, str]:
    response = _client(raw).post("/api/v1/tokens/", {"name": name}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"], response.json()["token"]


def test_the_list_shows_which_token_made_which(owner):
    parent, raw = token_create(user=owner, name="parent")
    child_id, child_raw = _mint(raw, "child")
    grandchild_id, _ = _mint(child_raw, "grandchild")
    listed = {token["id"]: token["parent"] for token in _client(raw).get("/api/v1/tokens/").json()}
    assert listed == {parent.pk: None, child_id: parent.pk, grandchild_id: child_id}


@pytest.mark.parametrize("how", ["revoked through the API", "revoked by staff", "expired"])
def test_tokens_made_with_a_token_die_with_it(owner, how):
    parent, raw = token_create(user=owner, name="parent")
    _, child_raw = _mint(raw, "child")
    _, grandchild_raw = _mint(child_raw, "grandchild")
    assert _client(grandchild_raw).get("/api/v1/products/").status_code == 200
    if how == "revoked through the API":
        assert _client(raw).delete(f"/api/v1/tokens/{parent.pk}/").status_code == 204
    elif how == "revoked by staff":  # set on the row alone, as the admin or a script might
        ApiToken.objects.filter(pk=parent.pk).update(revoked_at=timezone.now())
    else:
        ApiToken.objects.filter(pk=parent.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    for dead in (child_raw, grandchild_raw):
        response = _client(dead).get("/api/v1/products/")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "authentication_failed"


def test_revoking_a_token_revokes_its_line_in_the_list_too(owner):
    parent, raw = token_create(user=owner, name="parent")
    child, child_raw = token_create(user=owner, name="child", created_with=parent)
    token_create(user=owner, name="grandchild", created_with=child)
    token_create(user=owner, name="made in the browser")
    token_revoke(token=child, actor=owner)
    revoked = set(ApiToken.objects.filter(revoked_at__isnull=False).values_list("name", flat=True))
    assert revoked == {"child", "grandchild"}
    assert token_authenticate(raw) is not None  # the parent and unrelated tokens go on
    assert token_authenticate(child_raw) is None


def test_checking_the_line_takes_one_query(owner, django_assert_num_queries):
    parent, _ = token_create(user=owner, name="parent")
    child, _ = token_create(user=owner, name="child", created_with=parent)
    _, raw = token_create(user=owner, name="grandchild", created_with=child)
    token_authenticate(raw)  # records the last use once
    with django_assert_num_queries(2):  # the token with its user, then its whole line
        assert token_authenticate(raw) is not None


def test_the_me_page_shows_what_made_each_token(client, owner):
    parent, _ = token_create(user=owner, name="ci parent")
    token_create(user=owner, name="ci child", created_with=parent)
    client.force_login(owner)
    page = client.get("/me/").content.decode()
    assert f"<code>{parent.prefix}…</code> ci parent" in page
