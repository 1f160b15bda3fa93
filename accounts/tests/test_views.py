"""The account pages (accounts.views) through Django's test client: personal tokens."""

import pytest
from django.test import Client

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_personal_tokens_are_shown_once_and_revoked(owner, developer):
    client = client_for(owner)
    created = client.post("/me/", {"name": "laptop", "expires_in_days": "30"})
    raw = created.context["new_token"]
    assert raw.startswith("obk_") and raw in created.content.decode()
    token = ApiToken.objects.get(user=owner)
    assert raw not in client.get("/me/").content.decode()  # never again
    assert client_for(developer).post(f"/me/tokens/{token.pk}/revoke/").status_code == 404
    client.post(f"/me/tokens/{token.pk}/revoke/")
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert client.post("/me/", {"name": "", "expires_in_days": "x"}).status_code == 400


def test_an_odd_expiry_is_refused_not_crashed_on(owner):
    assert client_for(owner).post("/me/", {"name": "x", "expires_in_days": "²"}).status_code == 400
