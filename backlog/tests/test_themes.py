"""Theme roll-ups, hand-computed: items and points by kind, done %, debt share, highest and mean
score; the backlog filtered by theme (page and API, one query); the theme pages."""

from decimal import Decimal

import pytest
from django.test import Client

from backlog.models import Item, Theme
from backlog.services.items import item_create, item_transition, item_update
from backlog.themes import theme_rollups

pytestmark = pytest.mark.django_db


@pytest.fixture
def theme(product):
    return Theme.objects.create(product=product, title="Checkout", colour="#aa3300")


@pytest.fixture
def other_theme(product):
    return Theme.objects.create(product=product, title="Search")


def _item(product, owner, theme, kind: str, estimate: int | None, score: float | None, **fields) -> Item:
    inputs = {
        "defect": {"severity": "major"},
        "tech_debt": {"interest_hours": Decimal("3")},
    }.get(kind, {})
    item = item_create(
        product=product, actor=owner, kind=kind, title=f"{kind} {estimate}", estimate=estimate, theme=theme, **inputs
    )
    Item.objects.filter(pk=item.pk).update(score=score)
    return item


def test_rollups_by_hand(product, owner, theme, other_theme):
    # Checkout: story 5 (score 4.0), story 3 (score 2.0, done), defect 2 (score 9.5),
    # debt 8 (score 1.5), debt unestimated (unscored), a rejected story 13 (not counted),
    # an archived defect 1 (not counted). Search: one story 1. One story without a theme.
    s5 = _item(product, owner, theme, "story", 5, 4.0)
    s3 = _item(product, owner, theme, "story", 3, 2.0)
    _item(product, owner, theme, "defect", 2, 9.5)
    _item(product, owner, theme, "tech_debt", 8, 1.5)
    _item(product, owner, theme, "tech_debt", None, None)
    archived = _item(product, owner, theme, "defect", 1, 7.0)
    _item(product, owner, other_theme, "story", 1, 3.0)
    _item(product, owner, None, "story", 40, 20.0)
    item_transition(item=s3, actor=owner, to=Item.Status.IN_PROGRESS)
    item_transition(item=s3, actor=owner, to=Item.Status.DONE)
    item_transition(item=archived, actor=owner, to=Item.Status.ARCHIVED)
    rejected = item_create(product=product, actor=product.memberships.get(role="owner").user, kind="story", title="R")
    Item.objects.filter(pk=rejected.pk).update(theme=theme, estimate=13, status=Item.Status.REJECTED, rank=None)

    rollups = theme_rollups(product=product)
    checkout = rollups[theme.pk]
    assert checkout.by_kind == {
        "story": {"items": 2, "points": 8},
        "defect": {"items": 1, "points": 2},
        "tech_debt": {"items": 2, "points": 8},
    }
    assert (checkout.items, checkout.points, checkout.done_items) == (5, 18, 1)
    assert checkout.done_percent == 20.0  # 1 of 5 items
    assert checkout.debt_share == 44.4  # 8 of 18 points
    # In the order: 5 (4.0), defect (9.5), debt (1.5), unscored debt; the done story is not.
    assert checkout.highest_score == 9.5
    assert checkout.mean_score == 5.0  # (4.0 + 9.5 + 1.5) / 3
    search = rollups[other_theme.pk]
    assert (search.items, search.points, search.done_percent, search.debt_share) == (1, 1, 0.0, 0.0)
    assert (search.highest_score, search.mean_score) == (3.0, 3.0)
    assert s5.theme_id == theme.pk


def test_a_theme_without_items_rolls_up_to_nothing(product, theme):
    rollup = theme_rollups(product=product)[theme.pk]
    assert rollup.as_dict() == {
        "by_kind": {},
        "items": 0,
        "points": 0,
        "done_items": 0,
        "done_percent": None,
        "debt_share": None,
        "highest_score": None,
        "mean_score": None,
    }


def test_rollups_take_one_query(product, owner, theme, other_theme, django_assert_num_queries):
    _item(product, owner, theme, "story", 5, 4.0)
    _item(product, owner, other_theme, "defect", 3, 2.0)
    with django_assert_num_queries(1):
        theme_rollups(product=product, theme_ids=[theme.pk, other_theme.pk])


def test_the_backlog_filters_by_theme_on_the_page_and_the_api(product, owner, theme, other_theme, as_role):
    a = _item(product, owner, theme, "story", 1, None)
    _item(product, owner, other_theme, "story", 1, None)
    c = _item(product, owner, theme, "story", 1, None)
    listed = as_role("stakeholder").get(f"/api/v1/products/{product.key}/items/?theme={theme.pk}").json()
    assert [row["key"] for row in listed["results"]] == [a.key, c.key]
    assert listed["results"][0]["theme"] == theme.pk
    assert as_role("owner").get(f"/api/v1/products/{product.key}/items/?theme=x").status_code == 400
    page = Client()
    page.force_login(owner)
    html = page.get(f"/p/{product.key}/?theme={theme.pk}").content.decode()
    assert a.key in html and c.key in html and f"{product.key}-2<" not in html
    assert f'<option value="{theme.pk}" selected>Checkout</option>' in html


def test_owners_and_delegates_set_an_items_theme_developers_may_not(product, owner, developer, theme, as_role):
    item = _item(product, owner, None, "story", 1, None)
    patched = as_role("delegate").patch(f"/api/v1/items/{item.key}/", {"theme": theme.pk}, format="json")
    assert patched.status_code == 200 and patched.json()["theme"] == theme.pk
    assert as_role("developer").patch(f"/api/v1/items/{item.key}/", {"theme": None}, format="json").status_code == 403
    cleared = as_role("owner").patch(f"/api/v1/items/{item.key}/", {"theme": None}, format="json")
    assert cleared.json()["theme"] is None
    history = as_role("owner").get(f"/api/v1/items/{item.key}/history/").json()["results"]
    assert [event["text"] for event in history if event["type"] == "updated"] == [
        "changed theme – → Checkout",
        "changed theme Checkout → –",
    ]


def test_a_theme_of_another_product_is_refused_like_a_missing_one(product, owner, theme, as_role):
    from accounts.tests.factories import ProductFactory

    foreign = Theme.objects.create(product=ProductFactory(), title="Theirs")
    item = _item(product, owner, None, "story", 1, None)
    for theme_id in (foreign.pk, 999999):
        refused = as_role("owner").patch(f"/api/v1/items/{item.key}/", {"theme": theme_id}, format="json")
        assert refused.status_code == 400
        assert refused.json()["error"]["fields"] == {"theme": [f"No theme {theme_id} in {product.key}."]}
    created = as_role("owner").post(
        f"/api/v1/products/{product.key}/items/", {"kind": "story", "title": "T", "theme": theme.pk}, format="json"
    )
    assert created.status_code == 201 and created.json()["theme"] == theme.pk


def test_the_item_form_sets_the_theme(product, owner, theme, other_theme):
    item = _item(product, owner, theme, "story", 1, None)
    page = Client()
    page.force_login(owner)
    form = page.get(f"/p/{product.key}/{item.number}/edit/").content.decode()
    assert "Checkout" in form and "Search" in form
    response = page.post(
        f"/p/{product.key}/{item.number}/edit/",
        {"kind": "story", "title": item.title, "estimate": "1", "theme": str(other_theme.pk), "version": item.version},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    item.refresh_from_db()
    assert item.theme == other_theme


def test_the_theme_page_lists_its_items_in_backlog_order_with_warnings(product, owner, stakeholder, theme):
    from backlog.services.links import link_create
    from backlog.services.ordering import Placement, item_move

    first = _item(product, owner, theme, "story", 2, None)
    second = _item(product, owner, theme, "defect", 3, None)
    blocker = _item(product, owner, None, "story", 1, None)
    item_move(item=second, actor=owner, to=Placement.top())
    link_create(item=blocker, actor=owner, link="blocks", other=first)
    page = Client()
    page.force_login(stakeholder)
    html = page.get(f"/p/{product.key}/themes/{theme.pk}/").content.decode()
    assert html.index(second.key) < html.index(first.key)
    assert f"⚠ above its blocker {blocker.key}" in html
    assert "Delete the theme" not in html  # stakeholders read
    assert page.post(f"/p/{product.key}/themes/{theme.pk}/", {"title": "Mine"}).status_code == 403
    listing = page.get(f"/p/{product.key}/themes/").content.decode()
    assert "Checkout" in listing and "New theme" not in listing


def test_owners_manage_themes_on_the_pages(product, owner):
    page = Client()
    page.force_login(owner)
    response = page.post(
        f"/p/{product.key}/themes/",
        {"title": "Onboarding", "description": "<script>x</script>**new**", "colour": "#123abc"},
    )
    assert response.status_code == 302
    theme = Theme.objects.get(title="Onboarding")
    html = page.get(f"/p/{product.key}/themes/{theme.pk}/").content.decode()
    assert "<strong>new</strong>" in html and "<script>x" not in html
    bad = page.post(f"/p/{product.key}/themes/{theme.pk}/", {"title": "Onboarding", "colour": "red"})
    assert bad.status_code == 400
    assert page.post(f"/p/{product.key}/themes/{theme.pk}/delete/").status_code == 302
    assert not Theme.objects.exists()


def test_deleting_a_theme_keeps_its_items(product, owner, theme):
    item = _item(product, owner, theme, "story", 1, None)
    item_update(item=item, actor=owner, changes={"estimate": 2})
    theme.delete()
    item.refresh_from_db()
    assert item.theme is None and item.status == Item.Status.OPEN
