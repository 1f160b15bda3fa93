"""GET /api/v1/search/: ranked hits with escaped highlights, the key look-up, strict parameters,
and nothing of products the caller is not a member of."""

import pytest

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory, ProductFactory
from backlog.services.items import item_create
from refinement.services.comments import comment_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def found(product, owner):
    first = item_create(product=product, actor=owner, kind="story", title="Refund <b>flow</b>")
    second = item_create(product=product, actor=owner, kind="story", title="Checkout", description="refund button")
    third = item_create(product=product, actor=owner, kind="story", title="Ledger")
    comment_create(item=third, actor=owner, body="Refund totals differ")
    return first, second, third


def test_results_best_first_with_escaped_highlights(as_role, product, found):
    body = as_role("stakeholder").get(f"/api/v1/search/?q=refund&product={product.key.lower()}").json()
    assert [hit["item"]["key"] for hit in body["results"]] == [item.key for item in found]
    top = body["results"][0]
    assert top["title_html"].lower() == "<mark>refund</mark> &lt;b&gt;flow&lt;/b&gt;"
    assert top["item"]["url"] == f"/p/{product.key}/{found[0].number}/"
    assert "<mark>" in body["results"][1]["snippet_html"].lower()
    assert "<mark>" in body["results"][2]["snippet_html"].lower()  # from the comment
    assert body["next"] is None and body["key_match"] is None


def test_pages_follow_the_next_link(as_role, product, found):
    client = as_role("owner")
    first = client.get(f"/api/v1/search/?q=refund&product={product.key}&page_size=2").json()
    assert len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert [hit["item"]["key"] for hit in second["results"]] == [found[2].key]
    assert second["next"] is None


@pytest.mark.parametrize("text", ["{key}", "{lower}", "{number}"])
def test_a_key_names_its_item(as_role, product, found, text):
    item = found[1]
    q = text.format(key=item.key, lower=item.key.lower(), number=item.number)
    body = as_role("developer").get(f"/api/v1/search/?q={q}&product={product.key}").json()
    assert body["key_match"]["key"] == item.key
    assert body["key_match"]["title"] == "Checkout"


def test_without_product_every_own_product_is_searched_and_no_other(as_role, product, outsider, found):
    other = ProductFactory(key="ZZ")
    MembershipFactory(product=other, role=Membership.Role.OWNER)
    elsewhere = item_create(
        product=other, actor=other.memberships.get().user, kind="story", title="Refund of another product"
    )
    body = as_role("owner").get("/api/v1/search/?q=refund").json()
    assert elsewhere.key not in [hit["item"]["key"] for hit in body["results"]]
    assert len(body["results"]) == 3
    # The outsider owns a product of their own: nothing of this one shows, not even by key.
    seen = as_role("outsider").get(f"/api/v1/search/?q={found[0].key}").json()
    assert seen == {"next": None, "key_match": None, "results": []}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "q"),
        ("?q=", "q"),
        ("?q=" + "x" * 201, "q"),
        ("?q=a&sort=rank", "sort"),
        ("?q=a&q=b", "q"),
        ("?q=a&page_size=0", "page_size"),
        ("?q=a&page_size=201", "page_size"),
        ("?q=a&cursor=bogus", "cursor"),
    ],
)
def test_strict_parameters(as_role, query, field):
    response = as_role("owner").get(f"/api/v1/search/{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_an_outsider_naming_the_product_gets_404(as_role, product, found):
    response = as_role("outsider").get(f"/api/v1/search/?q=refund&product={product.key}")
    assert response.status_code == 404 and product.key not in response.content.decode()


def test_the_language_is_a_product_setting_of_known_configurations(as_role, product):
    owner = as_role("owner")
    assert owner.get(f"/api/v1/products/{product.key}/").json()["search_language"] == "english"
    changed = owner.patch(f"/api/v1/products/{product.key}/", {"search_language": "german"}, format="json")
    assert changed.status_code == 200 and changed.json()["search_language"] == "german"
    refused = owner.patch(f"/api/v1/products/{product.key}/", {"search_language": "pg_catalog.english"}, format="json")
    assert refused.status_code == 400 and "search_language" in refused.json()["error"]["fields"]
    denied = as_role("developer").patch(
        f"/api/v1/products/{product.key}/", {"search_language": "simple"}, format="json"
    )
    assert denied.status_code == 403
