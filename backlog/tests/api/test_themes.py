"""The themes API: list with roll-ups (paginated), one theme, owners create, edit, delete."""

import pytest

from backlog.models import Theme
from backlog.services.items import item_create

pytestmark = pytest.mark.django_db


def test_owners_manage_themes_members_read_them(product, owner, as_role):
    api = as_role("owner")
    created = api.post(
        f"/api/v1/products/{product.key}/themes/",
        {
            "title": "Checkout",
            "description": "**Pay** <script>alert(1)</script>",
            "colour": "#aa3300",
            "target_date": "2027-03-01",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    theme = created.json()
    assert "<script>" not in theme["description_html"] and "alert(1)" not in theme["description_html"]
    assert "<strong>Pay</strong>" in theme["description_html"]
    item_create(product=product, actor=owner, kind="story", title="S", estimate=3, theme=Theme.objects.get())
    listed = as_role("stakeholder").get(f"/api/v1/products/{product.key}/themes/").json()
    assert [row["title"] for row in listed["results"]] == ["Checkout"]
    assert listed["results"][0]["rollup"]["by_kind"] == {"story": {"items": 1, "points": 3}}
    one = as_role("developer").get(f"/api/v1/products/{product.key.lower()}/themes/{theme['id']}/").json()
    assert (one["target_date"], one["rollup"]["points"]) == ("2027-03-01", 3)
    patched = api.patch(f"/api/v1/products/{product.key}/themes/{theme['id']}/", {"colour": "#000000"}, format="json")
    assert patched.json()["colour"] == "#000000"
    assert api.delete(f"/api/v1/products/{product.key}/themes/{theme['id']}/").status_code == 204
    assert not Theme.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": 5}, "title"),
        ({"title": "T", "colour": "blue"}, "colour"),
        ({"title": "T", "target_date": "soon"}, "target_date"),
        ({"title": "T", "product": "X"}, "product"),
        ({"title": "T", "rollup": {}}, "rollup"),
    ],
)
def test_strict_input(product, as_role, body, field):
    refused = as_role("owner").post(f"/api/v1/products/{product.key}/themes/", body, format="json")
    assert refused.status_code == 400
    assert field in refused.json()["error"]["fields"]
    assert not Theme.objects.exists()


def test_a_theme_of_another_product_is_404(product, as_role):
    from accounts.tests.factories import ProductFactory

    foreign = Theme.objects.create(product=ProductFactory(), title="Theirs")
    assert as_role("owner").get(f"/api/v1/products/{product.key}/themes/{foreign.pk}/").status_code == 404
    assert as_role("owner").delete(f"/api/v1/products/{product.key}/themes/{foreign.pk}/").status_code == 404
    assert Theme.objects.filter(pk=foreign.pk).exists()
