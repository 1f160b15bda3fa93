"""The search page: results across the member's products, a key opens its item, escaped highlights."""

import pytest
from django.test import Client

from backlog.services.items import item_create

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_results_with_escaped_highlights(product, owner, stakeholder):
    item_create(product=product, actor=owner, kind="story", title="<script>alert(1)</script> refund")
    html = client_for(stakeholder).get("/search/?q=refund").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>refund</mark>" in html
    assert "<script>alert(1)" not in html


def test_a_key_opens_its_item(product, owner, developer):
    item = item_create(product=product, actor=owner, kind="story", title="Refund")
    client = client_for(developer)
    for text in (item.key, item.key.lower()):
        response = client.get("/search/", {"q": text})
        assert response.status_code == 302 and response["Location"] == f"/p/{product.key}/{item.number}/"
    response = client.get("/search/", {"q": str(item.number), "product": product.key})
    assert response["Location"] == f"/p/{product.key}/{item.number}/"


def test_more_results_page_on(product, owner):
    for n in range(23):
        item_create(product=product, actor=owner, kind="story", title=f"Widget {n}")
    client = client_for(owner)
    first = client.get("/search/", {"q": "widget", "product": product.key})
    assert first.content.decode().count('class="hit-title"') == 20
    more = first.context["more"]
    second = client.get(f"/search/?{more}")
    assert second.content.decode().count('class="hit-title"') == 3 and second.context["more"] is None
    assert client.get("/search/?q=widget&cursor=tampered").status_code == 200  # starts again


def test_outsiders_and_anonymous(product, owner, outsider):
    item = item_create(product=product, actor=owner, kind="story", title="Refund")
    client = client_for(outsider)
    assert client.get("/search/", {"q": "refund", "product": product.key}).status_code == 404
    html = client.get("/search/", {"q": "refund"}).content.decode()
    assert "Refund" not in html.replace("refund", "")
    assert client.get("/search/", {"q": item.key}).status_code == 200  # no jump into another's product
    assert Client().get("/search/?q=refund").status_code == 302


def test_the_header_has_the_search_box_and_the_palette(product, owner):
    html = client_for(owner).get(f"/p/{product.key}/").content.decode()
    assert 'id="header-q"' in html and f'name="product" value="{product.key}"' in html
    assert 'id="palette"' in html and 'role="dialog"' in html and "Alt</kbd>+<kbd>P" in html
