"""Every page of the site (accounts, backlog, refinement) through Django's test client: who is
sent to sign in, who gets a 404, and that each member sees each page."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pages(product, item) -> list[str]:
    return [
        f"/p/{product.key}/",
        f"/p/{product.key}/new/",
        f"/p/{product.key}/{item.number}/",
        f"/p/{product.key}/proposals/",
        f"/p/{product.key}/refinement/",
        f"/p/{product.key}/debt/",
        f"/p/{product.key}/suggested/",
        f"/search/?q=A&product={product.key}",
    ]


def test_anonymous_visitors_are_sent_to_sign_in(product, items):
    for url in [*pages(product, items[0]), "/", "/me/", "/inbox/", "/accounts/password/change/", "/accounts/email/"]:
        response = Client().get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url


def test_outsiders_get_404_and_see_nothing(product, items, outsider):
    client = client_for(outsider)
    for url in [*pages(product, items[0]), f"/p/{product.key}/review/", f"/p/{product.key}/{items[0].number}/split/"]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert product.name not in response.content.decode()


@pytest.mark.parametrize("role", ["owner", "developer", "delegate", "stakeholder"])
def test_members_see_every_page(product, items, role, request):
    client = client_for(request.getfixturevalue(role))
    for url in [
        *pages(product, items[0]),
        "/me/",
        "/accounts/password/change/",
        "/accounts/email/",
        "/accounts/logout/",
    ]:
        assert client.get(url).status_code == 200, url
